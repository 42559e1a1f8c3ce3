"""How views turn a service's refusal into a response: one rule for every view."""

from django.contrib import messages
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django_htmx.middleware import HtmxDetails

from sandbox.errors import DomainError, NotAllowed


class AuthenticatedRequest(HttpRequest):
    """What a view behind ``login_required`` receives (for type checking)."""

    user: User
    htmx: HtmxDetails


def refused(request: HttpRequest, error: DomainError, *, back_to: str) -> HttpResponse:
    """A role that may not act gets a 403 page with the reason; anything else (wrong
    state, bad input) goes back to the page it came from with the message shown."""
    if isinstance(error, NotAllowed):
        raise PermissionDenied(error.message)
    messages.error(request, error.message)
    return HttpResponseRedirect(back_to, status=303)
