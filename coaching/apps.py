from django.apps import AppConfig
from django.db.backends.signals import connection_created


class CoachingConfig(AppConfig):
    name = "coaching"
    verbose_name = "Coaching and publication"

    def ready(self) -> None:
        from coaching.portfolio import register_sqlite_median
        from coaching.services.account_cover import on_demo_seeded
        from coaching.services.drafts import on_draft_revised
        from sandbox.signals import demo_seeded, draft_revised

        connection_created.connect(register_sqlite_median)
        self._audit_who_got_in()
        # Editing a draft under review or approved is a coaching decision (sandbox.signals).
        draft_revised.connect(on_draft_revised, dispatch_uid="coaching.draft_revised")
        # The demo's cover rota and inbox (seed_demo announces the demo organisation).
        demo_seeded.connect(on_demo_seeded, dispatch_uid="coaching.demo_seeded")

    @staticmethod
    def _audit_who_got_in() -> None:
        """Sign-ins, failures, lockouts and second-factor changes go in the audit log.
        allauth's own user_logged_in (not Django's): a person signing in through the pages,
        not a test or a script logging a user in."""
        from allauth.account.signals import user_logged_in
        from allauth.mfa import signals as mfa_signals
        from django.contrib.auth.signals import user_login_failed

        from coaching.services import sign_in
        from sandbox.signals import sign_in_locked

        for signal, receiver in [
            (user_logged_in, sign_in.on_signed_in),
            (user_login_failed, sign_in.on_sign_in_failed),
            (sign_in_locked, sign_in.on_sign_in_locked),
            (mfa_signals.authentication_failed, sign_in.on_second_step_failed),
            (mfa_signals.authenticator_added, sign_in.on_factor_added),
            (mfa_signals.authenticator_removed, sign_in.on_factor_removed),
            (mfa_signals.authenticator_reset, sign_in.on_factor_reset),
        ]:
            signal.connect(receiver, dispatch_uid=f"coaching.{receiver.__name__}")
