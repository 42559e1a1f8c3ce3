from django.apps import AppConfig
from django.db.backends.signals import connection_created


class CoachingConfig(AppConfig):
    name = "coaching"
    verbose_name = "Coaching and publication"

    def ready(self) -> None:
        from coaching.portfolio import register_sqlite_median

        connection_created.connect(register_sqlite_median)
