"""The trainee's pages. Thin: find what the user may see, parse the form, call one
service, render or redirect. Rules live in the services and selectors."""

import time

from celery.exceptions import TimeoutError as CeleryTimeoutError
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.db import DatabaseError, connection
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from coaching import services as coaching_services
from sandbox import selectors, services
from sandbox.checks import CheckContext, run_checks
from sandbox.errors import DomainError, InvalidInput
from sandbox.forms import TEXT_HARD_CAP, DraftForm, EditForm
from sandbox.http import AuthenticatedRequest, refused
from sandbox.models import Draft


def _get_draft_for_author(request: AuthenticatedRequest, pk: int) -> Draft:
    draft = selectors.draft_visible_to(request.user, pk)
    if draft is None or draft.author_id != request.user.pk:
        raise Http404("No such draft.")
    return draft


@require_GET
@login_required
def home(request: AuthenticatedRequest) -> HttpResponse:
    roles = selectors.roles_of(request.user)
    if roles & set(selectors.REVIEWER_ROLES):
        return redirect("queue")
    return redirect("timeline")


@require_http_methods(["GET", "POST"])
@login_required
def timeline(request: AuthenticatedRequest) -> HttpResponse:
    """The private timeline, with the composer on top (GET), which it also saves (POST):
    as a draft, straight to the coach, or as a practice post the simulated audience sees.
    With htmx, GET returns just the feed (polled, so new reactions arrive by themselves)."""
    if request.htmx and request.method == "GET":
        feed = selectors.feed_for(request.user.pk)
        return render(request, "sandbox/timeline.html#feed", {"feed": feed})
    accounts = selectors.accounts_for_author(request.user)
    form = DraftForm(request.POST or None, accounts=accounts, initial={"account": accounts.first()})
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                if "practise" in request.POST:
                    services.practice_post(
                        author=request.user, account=data["account"], text=data["text"]
                    )
                    messages.success(
                        request,
                        "Posted to your practice timeline. Watch how people react over the "
                        "next few minutes. Nobody outside Sandpit sees it.",
                    )
                    return redirect("timeline")
                draft = services.draft_create(
                    author=request.user, account=data["account"], text=data["text"]
                )
                if "submit" in request.POST:
                    coaching_services.draft_submit(draft=draft, by=request.user)
            except InvalidInput as error:
                form.add_domain_error(error)
            except DomainError as error:
                return refused(request, error, back_to=reverse("timeline"))
            else:
                submitted = draft.status == Draft.Status.SUBMITTED
                messages.success(
                    request,
                    "Sent to your coach for review." if submitted else "Saved to your timeline.",
                )
                return redirect(draft)
        status = 422
    context = {
        "form": form,
        "feed": selectors.feed_for(request.user.pk),
        "has_accounts": accounts.exists(),
    }
    return render(request, "sandbox/timeline.html", context, status=status)


@require_GET
@login_required
def timeline_item(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """One post and its conversation; with htmx, just the replies (polled)."""
    item = selectors.timeline_item_for(request.user, pk)
    if item is None:
        raise Http404("No such post.")
    context = {"item": item, "replies": selectors.conversation(item)}
    template = (
        "sandbox/timeline_item.html#replies" if request.htmx else "sandbox/timeline_item.html"
    )
    return render(request, template, context)


@require_GET
@login_required
def trainee_timeline(request: AuthenticatedRequest, user_id: int) -> HttpResponse:
    """A coach looks at one of their trainees' timelines (read only)."""
    if user_id == request.user.pk:
        return redirect("timeline")
    if not selectors.can_see_timeline_of(request.user, user_id):
        raise Http404("No such timeline.")
    owner = get_object_or_404(User, pk=user_id)
    context = {"owner": owner, "feed": selectors.feed_for(owner.pk)}
    template = (
        "sandbox/trainee_timeline.html#feed" if request.htmx else "sandbox/trainee_timeline.html"
    )
    return render(request, template, context)


@require_GET
@login_required
def draft_detail(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """The draft page; with htmx, just its publication panel (polled while in flight)."""
    draft = _get_draft_for_author(request, pk)
    if request.htmx:
        return render(request, "sandbox/draft_detail.html#publication", {"draft": draft})
    context = {
        "draft": draft,
        "revisions": selectors.revisions_with_feedback(draft),
        "reviewed": selectors.last_reviewed_revision(draft),
        "form": EditForm(initial={"text": draft.text}),
    }
    return render(request, "sandbox/draft_detail.html", context)


@require_POST
@login_required
def draft_edit(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    draft = _get_draft_for_author(request, pk)
    form = EditForm(request.POST)
    if form.is_valid():
        try:
            services.draft_edit(draft=draft, by=request.user, text=form.cleaned_data["text"])
        except InvalidInput as error:
            form.add_domain_error(error)
        except DomainError as error:
            # Keep what they typed: the page re-renders with it instead of redirecting.
            form.add_error(None, error.message)
        else:
            messages.success(request, "Saved as a new revision.")
            return redirect(draft)
    context = {
        "draft": draft,
        "revisions": selectors.revisions_with_feedback(draft),
        "form": form,
    }
    return render(request, "sandbox/draft_detail.html", context, status=422)


@require_POST
@login_required
def draft_submit(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    draft = _get_draft_for_author(request, pk)
    try:
        coaching_services.draft_submit(draft=draft, by=request.user)
    except DomainError as error:
        return refused(request, error, back_to=draft.get_absolute_url())
    messages.success(request, "Sent to your coach for review.")
    return redirect(draft)


@require_POST
@login_required
def draft_withdraw(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    draft = _get_draft_for_author(request, pk)
    try:
        coaching_services.draft_withdraw(draft=draft, by=request.user)
    except DomainError as error:
        return refused(request, error, back_to=draft.get_absolute_url())
    messages.success(request, "Draft withdrawn. It will not be reviewed or published.")
    return redirect("timeline")


@require_GET
def health(request: HttpRequest) -> JsonResponse:
    """For load balancers and monitoring: 200 only if the database answers, Redis answers
    and a Celery worker takes a heartbeat task off the queue and answers it in time."""
    from coaching import selectors as coaching_selectors
    from coaching.tasks import heartbeat

    checks: dict[str, object] = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        checks["database"] = "ok"
    except DatabaseError as exc:
        checks["database"] = f"error: {exc.__class__.__name__}"
    try:
        started = time.monotonic()
        heartbeat.apply_async(expires=settings.HEALTH_WORKER_TIMEOUT).get(
            timeout=settings.HEALTH_WORKER_TIMEOUT
        )
        checks["worker"] = "ok"
        checks["worker_round_trip_ms"] = round((time.monotonic() - started) * 1000)
    except CeleryTimeoutError:
        checks["worker"] = f"no answer within {settings.HEALTH_WORKER_TIMEOUT} seconds"
    except Exception as exc:  # the broker itself is down: kombu raises several kinds
        checks["worker"] = f"error: broker unreachable ({exc.__class__.__name__})"
    if checks["database"] == "ok":
        checks["stuck_publishing"] = coaching_selectors.stuck_publication_count()
    healthy = checks["database"] == "ok" and checks["worker"] == "ok"
    return JsonResponse(
        {"status": "ok" if healthy else "failing", **checks}, status=200 if healthy else 503
    )


@require_POST
@login_required
def draft_check(request: AuthenticatedRequest) -> HttpResponse:
    """Live risk hints for the composer, asked for by htmx as the trainee pauses typing.
    Nothing is saved; the organisation's own check settings apply."""
    text = request.POST.get("text", "")[:TEXT_HARD_CAP]
    accounts = selectors.accounts_for_author(request.user)
    account = accounts.filter(pk=request.POST.get("account") or 0).first() or accounts.first()
    context = selectors.check_context(account.organisation_id) if account else CheckContext()
    findings = run_checks(text, context=context)
    return render(request, "sandbox/_findings.html", {"text": text, "findings": findings})
