from django.apps import AppConfig
from django.contrib.admin.apps import AdminConfig


class SandboxConfig(AppConfig):
    name = "sandbox"
    verbose_name = "Sandbox (trainees, drafts, accounts)"

    def ready(self) -> None:
        from allauth.mfa.signals import authenticator_removed
        from django.db.backends.signals import connection_created

        from sandbox import page_cache
        from sandbox.signin import forget_second_factor

        # Every write moves on the generations that kept pages are filed under.
        connection_created.connect(page_cache.install, dispatch_uid="sandbox.page_cache")

        # Removing a factor may leave a coach without one: check again on the next page.
        authenticator_removed.connect(forget_second_factor, dispatch_uid="sandbox.forget_2fa")


class SandpitAdminConfig(AdminConfig):
    # Replaces "django.contrib.admin" in INSTALLED_APPS so admin.site (and every
    # @admin.register) is the superusers-only site.
    default_site = "sandbox.admin_site.SuperuserAdminSite"
