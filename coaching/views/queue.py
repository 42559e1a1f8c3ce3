"""The coach's approval queue: filtered, paged, and its rows polled by htmx."""

from django.contrib.auth.decorators import login_required
from django.http import (
    HttpResponse,
)
from django.shortcuts import render
from django.views.decorators.http import require_safe

from coaching import selectors
from coaching.forms import (
    QueueFilterForm,
)
from sandbox import access
from sandbox.http import AuthenticatedRequest


@require_safe
@login_required
def queue(request: AuthenticatedRequest) -> HttpResponse:
    """The approval queue, filtered (GET, so a filtered queue can be bookmarked). htmx
    polls the rows with the same filters, and refreshes them on queueChanged."""
    access.reviewer_organisations(request.user)
    form = QueueFilterForm(request.GET, choices=selectors.queue_choices(request.user))
    filters = form.filters()
    context = {
        "form": form,
        "queue": selectors.queue_page(
            request.user, filters, page_number=request.GET.get("page", 1)
        ),
    }
    template = "coaching/queue.html#queue-rows" if request.htmx else "coaching/queue.html"
    return render(request, template, context)
