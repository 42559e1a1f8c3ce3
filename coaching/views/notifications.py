"""Everyone's notices and email preferences. A user only ever reaches their own."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from coaching import notifications, selectors
from coaching.forms import NotificationPreferencesForm
from sandbox import selectors as sandbox_selectors
from sandbox.http import AuthenticatedRequest

PER_PAGE = 25


@require_safe
@login_required
def notification_list(request: AuthenticatedRequest) -> HttpResponse:
    page = Paginator(selectors.notifications_for(request.user), PER_PAGE).get_page(
        request.GET.get("page")
    )
    return render(request, "coaching/notifications.html", {"page": page})


@require_POST
@login_required
def notification_open(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    # Looked up through the owner: another user's notice is a 404, not a 403, so its
    # existence is not given away.
    notice = get_object_or_404(selectors.notifications_for(request.user), pk=pk)
    notifications.notification_open(notification=notice, by=request.user)
    target = notice.url
    if not target or not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return redirect("notifications")
    return redirect(target)


@require_POST
@login_required
def notifications_mark_all_read(request: AuthenticatedRequest) -> HttpResponse:
    marked = notifications.notifications_mark_all_read(by=request.user)
    messages.success(
        request,
        f"Marked {marked} notification{'s' if marked != 1 else ''} as read."
        if marked
        else "You had no unread notifications.",
    )
    return redirect("notifications")


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def notification_preferences(request: AuthenticatedRequest) -> HttpResponse:
    reviewer = bool(sandbox_selectors.reviewer_organisation_ids(request.user))
    current = notifications.preferences_for([request.user])[request.user.pk]
    initial = {name: getattr(current, name) for name in notifications.PREFERENCE_FIELDS}
    # Not ``request.POST or None``: with every box unticked the POST is empty, and must
    # still save.
    data = request.POST if request.method == "POST" else None
    form = NotificationPreferencesForm(data, initial=initial, reviewer=reviewer)
    if form.is_valid():
        notifications.preferences_set(by=request.user, **form.cleaned_data)
        messages.success(request, "Your email choices are saved.")
        return redirect("notification_preferences")
    return render(
        request, "coaching/notification_preferences.html", {"form": form, "reviewer": reviewer}
    )
