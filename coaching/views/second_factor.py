"""The lost-device path: an organisation's admin sees which of its people have a second
factor, and can remove all of a person's (they set up a new one at their next sign-in)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views.decorators.http import require_POST, require_safe

from coaching.selectors import people as people_selectors
from coaching.services.sign_in import second_factors_reset
from sandbox import access
from sandbox import selectors as sandbox_selectors
from sandbox.errors import DomainError
from sandbox.http import AuthenticatedRequest, refused
from sandbox.models import Membership


@require_safe
@login_required
def second_factors(request: AuthenticatedRequest) -> HttpResponse:
    admin_of = access.admin_organisations(request.user)
    return render(
        request,
        "coaching/second_factors.html",
        {"members": people_selectors.second_factor_overview(admin_of)},
    )


@require_POST
@login_required
def second_factors_reset_view(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    admin_of = access.admin_organisations(request.user)
    membership = get_object_or_404(
        Membership.objects.select_related("user"), pk=pk, organisation_id__in=admin_of
    )
    back = reverse("second_factors")
    try:
        removed = second_factors_reset(
            by=request.user, organisation_id=membership.organisation_id, member=membership.user
        )
    except DomainError as error:
        return refused(request, error, back_to=back)
    name = sandbox_selectors.display_name(membership.user)
    if removed:
        messages.success(
            request,
            f"{name}'s second factors are removed and they are signed out everywhere. They "
            "set up a new one when they next sign in.",
        )
    else:
        messages.info(request, f"{name} had no second factor to remove.")
    return HttpResponseRedirect(back, status=303)
