"""An account's calendar of scheduled and recent posts, by week or month, for the coaches
and admins of the account's organisation."""

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.views.decorators.http import require_safe

from coaching import selectors
from coaching.forms import CalendarForm
from coaching.selectors import calendar
from sandbox import access
from sandbox.http import AuthenticatedRequest


@require_safe
@login_required
def account_calendar(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    access.reviewer_organisations(request.user)
    account = get_object_or_404(selectors.accounts_for_reviewer(request.user), pk=pk)
    form = CalendarForm(request.GET)
    view, day = form.period(timezone.localdate())
    context = {
        "form": form,
        "calendar": calendar.account_calendar(account, view, day),
    }
    return render(request, "coaching/calendar.html", context)
