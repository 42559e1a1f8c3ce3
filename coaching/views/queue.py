"""The coach's approval queue: filtered, paged, and its rows polled by htmx; and approving
several clean posts from it at once."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import (
    HttpResponse,
)
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.text import Truncator
from django.views.decorators.http import require_POST, require_safe

from coaching import selectors, services
from coaching.forms import (
    ApproveCleanForm,
    QueueFilterForm,
    rubric_items,
)
from coaching.services.reviews import ApprovalTogether
from sandbox import access, page_cache
from sandbox.errors import InvalidInput
from sandbox.http import AuthenticatedRequest


def _queue_page(
    request: AuthenticatedRequest, approve_form: ApproveCleanForm, *, status: int = 200
) -> HttpResponse:
    form = QueueFilterForm(request.GET, choices=selectors.queue_choices(request.user))
    filters = form.filters()
    context = {
        "form": form,
        "queue": selectors.queue_page(
            request.user, filters, page_number=request.GET.get("page", 1)
        ),
        "approve_form": approve_form,
        "rubric": rubric_items(approve_form),
        "chosen": approve_form.chosen(),
    }
    polled = request.htmx and request.method != "POST"
    template = "coaching/queue.html#queue-rows" if polled else "coaching/queue.html"
    return render(request, template, context, status=status)


@require_safe
@login_required
@page_cache.kept
def queue(request: AuthenticatedRequest) -> HttpResponse:
    """The approval queue, filtered (GET, so a filtered queue can be bookmarked). htmx
    polls the rows with the same filters, and refreshes them on queueChanged."""
    access.reviewer_organisations(request.user)
    return _queue_page(request, ApproveCleanForm())


@require_POST
@login_required
def queue_approve(request: AuthenticatedRequest) -> HttpResponse:
    """Approve the ticked clean posts, each a decision of its own on the revision its row
    showed; then the queue again (with its filters, which the form's address carries),
    saying what happened to each."""
    access.reviewer_organisations(request.user)
    form = ApproveCleanForm(request.POST)
    if form.is_valid():
        try:
            outcomes = services.review_approve_clean(
                by=request.user, chosen=form.cleaned_data["approve"], scores=form.scores()
            )
        except InvalidInput as error:
            form.add_domain_error(error)
        else:
            for outcome in outcomes:
                _report(request, outcome)
            if request.htmx:
                # The page itself, messages and all, for htmx to swap its main: a redirect
                # would be followed with htmx's headers and answered with the rows alone.
                return _queue_page(request, ApproveCleanForm())
            query = request.GET.urlencode()
            return redirect(reverse("queue") + (f"?{query}" if query else ""))
    return _queue_page(request, form, status=422)


def _report(request: AuthenticatedRequest, outcome: ApprovalTogether) -> None:
    """One message per post, naming it as the queue did."""
    name = (
        f"“{Truncator(outcome.text).chars(60)}” by {outcome.trainee}"
        if outcome.text
        else f"Post {outcome.draft_id}"
    )
    if outcome.approved:
        messages.success(request, f"{name}: {outcome.message}")
    else:
        messages.error(request, f"{name} was not approved. {outcome.message}")
