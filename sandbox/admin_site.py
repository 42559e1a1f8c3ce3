"""The Django admin is for the people who operate the installation (superusers) only.

Django's own admin lets in any active staff user and then relies on model permissions,
which know nothing of organisations: a staff admin of one organisation could read and
change another's memberships, accounts, drafts and publications. Organisation admins
work through Sandpit's own pages, which are scoped; the admin refuses them at the door.
Installed as the default site by sandbox.apps.SandpitAdminConfig, so every admin URL
(GET or POST, including autocomplete and password change) goes through has_permission.
"""

from django.contrib import admin
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.urls import reverse


class SuperuserAuthenticationForm(AdminAuthenticationForm):
    """The admin's sign-in form refuses staff who are not superusers, rather than
    signing them in only to show them the "not authorised" page."""

    error_messages = {
        **AdminAuthenticationForm.error_messages,
        "invalid_login": (
            "Please enter the correct %(username)s and password for an operator "
            "(superuser) account. Organisation admins use Sandpit's own pages."
        ),
    }

    def confirm_login_allowed(self, user) -> None:
        super().confirm_login_allowed(user)
        if not user.is_superuser:
            raise ValidationError(
                self.error_messages["invalid_login"],
                code="invalid_login",
                params={"username": self.username_field.verbose_name},
            )


class SuperuserAdminSite(admin.AdminSite):
    login_form = SuperuserAuthenticationForm

    def login(self, request: HttpRequest, extra_context: dict | None = None) -> HttpResponse:
        """Operators sign in through Sandpit's one sign-in page, with its throttling and
        second factors (django-allauth), never through a password form of the admin's own
        that would skip them. Signed in but not an operator: Django's refusal page."""
        if not request.user.is_authenticated:
            return redirect_to_login(request.GET.get("next") or reverse("admin:index"))
        return super().login(request, extra_context)

    def has_permission(self, request: HttpRequest) -> bool:
        user = request.user
        return user.is_active and user.is_superuser
