"""The trainee's pages. Thin: find what the user may see, parse the form, call one
service, render or redirect. Rules live in the services and selectors."""

import time

from celery.exceptions import TimeoutError as CeleryTimeoutError
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.db import DatabaseError, connection
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from coaching import services as coaching_services
from sandbox import selectors, services
from sandbox.checks import CheckContext, run_checks
from sandbox.errors import DomainError, InvalidInput
from sandbox.forms import TEXT_HARD_CAP, DraftForm, EditForm, ResponseForm
from sandbox.http import AuthenticatedRequest, refused
from sandbox.models import Draft, TimelineItem, WorkplaceAccount


def _thread_posts(data: QueryDict) -> list[str]:
    """The second and later posts of a thread, in order, as typed (blank ones too, while
    the trainee is still adding boxes)."""
    return [
        str(data.get(f"thread-{n}", ""))[:TEXT_HARD_CAP]
        for n in range(1, services.MAX_THREAD_POSTS)
        if f"thread-{n}" in data
    ]


def _edits_thread(request: HttpRequest, thread: list[str]) -> bool:
    """Handle the add and remove buttons (which work without JavaScript). True if the
    request only changed the boxes, so the form is shown again and nothing is saved."""
    if "add_post" in request.POST:
        if len(thread) + 1 < services.MAX_THREAD_POSTS:
            thread.append("")
        return True
    if "remove_post" in request.POST:
        index = request.POST["remove_post"]
        if index.isdigit() and 1 <= int(index) <= len(thread):
            del thread[int(index) - 1]
        return True
    return False


def _thread_boxes(thread: list[str]) -> list[dict[str, object]]:
    return [
        {
            "index": n,
            "box_id": f"id_thread_{n}",
            "name": f"thread-{n}",
            "label": f"Post {n + 1} of the thread",
            "value": text,
        }
        for n, text in enumerate(thread, start=1)
    ]


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
    thread = _thread_posts(request.POST)
    status = 200
    if _edits_thread(request, thread):
        form = DraftForm(
            initial={"text": request.POST.get("text", ""), "account": request.POST.get("account")},
            accounts=accounts,
        )  # Added or removed a box: show the form again, unjudged, saving nothing.
    elif request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                posts = {"text": data["text"], "thread": [t for t in thread if t.strip()]}
                if "practise" in request.POST:
                    services.practice_post(author=request.user, account=data["account"], **posts)
                    messages.success(
                        request,
                        "Posted to your practice timeline. Watch how people react over the "
                        "next few minutes. Nobody outside Sandpit sees it.",
                    )
                    return redirect("timeline")
                draft = services.draft_create(author=request.user, account=data["account"], **posts)
                if "submit" in request.POST:
                    try:
                        coaching_services.draft_submit(draft=draft, by=request.user)
                    except DomainError as error:
                        # Saved, but not sent (a blocking finding): show the draft, with
                        # its highlights, rather than an empty composer.
                        return refused(
                            request,
                            DomainError(f"Saved as a draft, but not sent. {error.message}"),
                            back_to=draft.get_absolute_url(),
                        )
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
        "thread_boxes": _thread_boxes(thread),
        "feed": selectors.feed_for(request.user.pk),
        "has_accounts": accounts.exists(),
    }
    return render(request, "sandbox/timeline.html", context, status=status)


@require_http_methods(["GET", "POST"])
@login_required
def timeline_item(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """One post and its conversation (GET; with htmx, just the replies, polled), where
    the timeline's owner can answer it (POST): a practice reply or quote, which the
    simulated audience sees, or a response drafted for their coach, reviewed like any post."""
    item = selectors.timeline_item_for(request.user, pk)
    if item is None:
        raise Http404("No such post.")
    is_owner = item.owner_id == request.user.pk
    if request.method == "POST" and not is_owner:
        raise Http404("No such post.")
    form = ResponseForm(
        request.POST if request.method == "POST" else None, initial={"kind": "reply"}
    )
    status = 200
    if request.method == "POST":
        account = selectors.account_for_response(request.user, item)
        if account is None:
            form.add_error(None, "Your organisation has no account to practise as yet.")
        elif form.is_valid():
            try:
                return _answer(request, item, account, form)
            except InvalidInput as error:
                form.add_domain_error(error)
            except DomainError as error:
                return refused(request, error, back_to=_item_url(item))
        status = 422
    context = {"item": item, "replies": selectors.conversation(item)}
    if request.htmx and request.method == "GET":
        return render(request, "sandbox/timeline_item.html#replies", context)
    if is_owner:
        context["form"] = form
        context["responses"] = selectors.responses_to(item, request.user)
    return render(request, "sandbox/timeline_item.html", context, status=status)


def _answer(
    request: AuthenticatedRequest, item: TimelineItem, account: WorkplaceAccount, form: ResponseForm
) -> HttpResponse:
    """Practise the answer here (the default), or draft it for the coach ("save"), and
    send it for review ("submit")."""
    text = form.cleaned_data["text"]
    in_reply_to, quote_of = form.answering(item)
    if "submit" not in request.POST and "save" not in request.POST:
        services.practice_post(
            author=request.user,
            account=account,
            text=text,
            in_reply_to=in_reply_to,
            quote_of=quote_of,
        )
        what = "Quote" if quote_of else "Reply"
        messages.success(request, f"{what} posted to your practice timeline.")
        return redirect(_item_url(item))
    draft = services.draft_create(
        author=request.user, account=account, text=text, in_reply_to=in_reply_to, quote_of=quote_of
    )
    if "submit" not in request.POST:
        messages.success(request, "Saved as a draft response. Send it to your coach when ready.")
        return redirect(draft)
    try:
        coaching_services.draft_submit(draft=draft, by=request.user)
    except DomainError as error:
        return refused(
            request,
            DomainError(f"Saved as a draft, but not sent. {error.message}"),
            back_to=draft.get_absolute_url(),
        )
    messages.success(
        request,
        "Sent to your coach for review. If they approve it, it is posted in your practice "
        "timeline only.",
    )
    return redirect(draft)


def _item_url(item: TimelineItem) -> str:
    return reverse("timeline_item", args=[item.pk])


@require_GET
@login_required
def trainee_timeline(request: AuthenticatedRequest, user_id: int) -> HttpResponse:
    """A coach looks at one of their trainees' timelines (read only)."""
    if user_id == request.user.pk:
        return redirect("timeline")
    if not selectors.can_see_timeline_of(request.user, user_id):
        raise Http404("No such timeline.")
    owner = get_object_or_404(User, pk=user_id)
    context: dict[str, object] = {
        "owner": owner,
        "feed": selectors.feed_for(owner.pk, viewer=request.user),
    }
    if request.htmx:
        return render(request, "sandbox/trainee_timeline.html#feed", context)
    context["runs"] = selectors.scenario_runs_for(
        organisation_ids=selectors.reviewer_organisation_ids(request.user),
        trainee_id=owner.pk,
        limit=10,
    )
    return render(request, "sandbox/trainee_timeline.html", context)


@require_GET
@login_required
def draft_detail(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """The draft page; with htmx, just its publication panel (polled while in flight)."""
    draft = _get_draft_for_author(request, pk)
    if request.htmx:
        return render(request, "sandbox/draft_detail.html#publication", {"draft": draft})
    revision = draft.current_revision
    context = {
        "draft": draft,
        "revisions": selectors.revisions_with_feedback(draft),
        "reviewed": selectors.last_reviewed_revision(draft),
        "form": EditForm(initial={"text": draft.text}),
        "thread_boxes": _thread_boxes(revision.thread if revision else []),
    }
    return render(request, "sandbox/draft_detail.html", context)


@require_POST
@login_required
def draft_edit(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    draft = _get_draft_for_author(request, pk)
    form = EditForm(request.POST)
    thread = _thread_posts(request.POST)
    only_boxes = _edits_thread(request, thread)
    if only_boxes:
        form = EditForm(initial={"text": request.POST.get("text", "")})  # no complaints yet
    elif form.is_valid():
        try:
            services.draft_edit(
                draft=draft,
                by=request.user,
                text=form.cleaned_data["text"],
                thread=[t for t in thread if t.strip()],
            )
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
        "reviewed": selectors.last_reviewed_revision(draft),
        "form": form,
        "thread_boxes": _thread_boxes(thread),
    }
    status = 200 if only_boxes else 422
    return render(request, "sandbox/draft_detail.html", context, status=status)


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
def liveness(request: HttpRequest) -> JsonResponse:
    """For load balancers: this web process can reach its database. It does not depend on
    the worker, so a stalled worker never takes the site (and its emergency stop) down."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError as exc:
        return JsonResponse({"status": "failing", "database": exc.__class__.__name__}, status=503)
    return JsonResponse({"status": "ok"})


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
    # "field" names the box that asked (the first post, or thread-2 and so on).
    field = request.POST.get("field", "text")
    text = request.POST.get(field if field == "text" or field.startswith("thread-") else "text", "")
    text = text[:TEXT_HARD_CAP]
    accounts = selectors.accounts_for_author(request.user)
    account_id = request.POST.get("account", "")
    chosen = accounts.filter(pk=int(account_id)).first() if account_id.isdigit() else None
    account = chosen or accounts.first()
    context = selectors.check_context(account.organisation_id) if account else CheckContext()
    findings = run_checks(text, context=context)
    return render(request, "sandbox/_findings.html", {"text": text, "findings": findings})
