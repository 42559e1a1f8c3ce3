from django.apps import AppConfig
from django.contrib.admin.apps import AdminConfig


class SandboxConfig(AppConfig):
    name = "sandbox"
    verbose_name = "Sandbox (trainees, drafts, accounts)"


class SandpitAdminConfig(AdminConfig):
    # Replaces "django.contrib.admin" in INSTALLED_APPS so admin.site (and every
    # @admin.register) is the superusers-only site.
    default_site = "sandbox.admin_site.SuperuserAdminSite"
