"""How views turn a service's refusal into a response: one rule for every view."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect

from sandbox.errors import DomainError, NotAllowed


def refused(request: HttpRequest, error: DomainError, *, back_to: str) -> HttpResponse:
    """A role that may not act gets a 403 page with the reason; anything else (wrong
    state, bad input) goes back to the page it came from with the message shown."""
    if isinstance(error, NotAllowed):
        raise PermissionDenied(error.message)
    messages.error(request, error.message)
    return HttpResponseRedirect(back_to, status=303)
