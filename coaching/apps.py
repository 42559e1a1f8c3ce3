from django.apps import AppConfig
from django.db.backends.signals import connection_created


class CoachingConfig(AppConfig):
    name = "coaching"
    verbose_name = "Coaching and publication"

    def ready(self) -> None:
        from coaching.portfolio import register_sqlite_median
        from coaching.services.drafts import on_draft_revised
        from sandbox.signals import draft_revised

        connection_created.connect(register_sqlite_median)
        # Editing a draft under review or approved is a coaching decision (sandbox.signals).
        draft_revised.connect(on_draft_revised, dispatch_uid="coaching.draft_revised")
