"""The trainee's pages. Thin: find what the user may see, parse the form, call one
service, render or redirect. Rules live in the services and selectors."""

import dataclasses
import time

from celery.exceptions import TimeoutError as CeleryTimeoutError
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.db import DatabaseError, connection
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    JsonResponse,
    QueryDict,
)
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from coaching import autonomy
from coaching import services as coaching_services
from sandbox import selectors, services
from sandbox.checks import CheckContext, MediaInfo, run_checks
from sandbox.errors import DomainError, InvalidInput
from sandbox.forms import (
    TEXT_HARD_CAP,
    Attachment,
    DraftForm,
    EditForm,
    PostAttachments,
    ResponseForm,
    attachments_of,
    post_attachments,
)
from sandbox.http import AuthenticatedRequest, id_from, refused
from sandbox.models import Draft, TimelineItem, WorkplaceAccount


def _thread_posts(data: QueryDict) -> list[str]:
    """The second and later posts of a thread, in order, as typed (blank ones too, while
    the trainee is still adding boxes)."""
    return [
        str(data.get(f"thread-{n}", ""))[:TEXT_HARD_CAP]
        for n in range(1, services.MAX_THREAD_POSTS)
        if f"thread-{n}" in data
    ]


def _composer_input(request: HttpRequest) -> tuple[list[str], list[PostAttachments]]:
    thread = _thread_posts(request.POST)
    return thread, post_attachments(request.POST, 1 + len(thread))


def _attach_uploads(
    request: AuthenticatedRequest, attachments: list[PostAttachments], *, draft: Draft | None
) -> bool:
    """Store the images chosen in the form, each on its post, before anything else is
    judged: a refusal of the text then never costs the trainee their upload. True if an
    upload was refused (the message is on its post)."""
    refused_any = False
    for post in attachments:
        upload = request.FILES.get(post.upload_field)
        if upload is None:
            continue
        if not post.has_room:
            post.upload_error = services.too_many_images(post.position + 1)
            refused_any = True
            continue
        try:
            image = services.post_image_add(by=request.user, draft=draft, upload=upload)
        except InvalidInput as error:
            post.upload_error = error.message
            refused_any = True
        else:
            post.images.append(Attachment(image.pk, post.upload_alt, post.position))
            post.upload_alt = ""
    return refused_any


def _renumber(attachments: list[PostAttachments]) -> None:
    for position, post in enumerate(attachments):
        post.position = position
        for image in post.images:
            image.position = position


def _edits_thread(
    request: HttpRequest, thread: list[str], attachments: list[PostAttachments]
) -> bool:
    """Handle the buttons that change the form rather than save it (they all work without
    JavaScript): add or remove a post, attach or remove an image, preview. True if the
    request only did that, so the form is shown again and nothing is saved."""
    if "add_post" in request.POST:
        if len(thread) + 1 < services.MAX_THREAD_POSTS:
            thread.append("")
            attachments.append(PostAttachments(len(attachments)))
        return True
    if "remove_post" in request.POST:
        index = id_from(request.POST["remove_post"])
        if index is not None and 1 <= index <= len(thread):
            del thread[index - 1]
            del attachments[index]
            _renumber(attachments)
        return True
    if "remove_image" in request.POST:
        raw_position, _, raw_image_id = request.POST["remove_image"].partition("-")
        position, image_id = id_from(raw_position), id_from(raw_image_id)
        if position is not None and position < len(attachments):
            post = attachments[position]
            post.images = [image for image in post.images if image.id != image_id]
        return True
    return "attach" in request.POST or "preview" in request.POST


def _show_error(
    form: DraftForm | EditForm, attachments: list[PostAttachments], error: InvalidInput
) -> None:
    """A service's message goes beside the image field it is about, else on the form."""
    for post in attachments:
        if error.field == post.upload_field:
            post.upload_error = error.message
            return
        for image in post.images:
            if error.field == image.field:
                image.error = error.message
                return
    form.add_domain_error(error)


def _has_image_errors(attachments: list[PostAttachments]) -> bool:
    return any(post.upload_error or any(i.error for i in post.images) for post in attachments)


def _images_of(attachments: list[PostAttachments]) -> list[list[dict[str, object]]]:
    return [[image.as_entry() for image in post.images] for post in attachments]


def _preview(texts: list[str], attachments: list[PostAttachments]) -> list[dict[str, object]]:
    """The unsaved posts, as the preview card draws them."""
    return [
        {"text": text, "images": post.images} for text, post in zip(texts, attachments, strict=True)
    ]


def _thread_boxes(thread: list[str], attachments: list[PostAttachments]) -> list[dict[str, object]]:
    return [
        {
            "index": n,
            "box_id": f"id_thread_{n}",
            "name": f"thread-{n}",
            "label": f"Post {n + 1} of the thread",
            "value": text,
            "attach": attachments[n],
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
    thread, attachments = _composer_input(request)
    upload_refused = _attach_uploads(request, attachments, draft=None)
    status = 200
    preview = None
    if _edits_thread(request, thread, attachments) or upload_refused:
        form = DraftForm(
            initial={"text": request.POST.get("text", ""), "account": request.POST.get("account")},
            accounts=accounts,
        )  # Changed the form, not saved it: show it again, saving nothing.
        if "preview" in request.POST:
            preview = _preview([request.POST.get("text", ""), *thread], attachments)
        status = 422 if upload_refused else 200
    elif request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            images = _images_of(attachments)
            try:
                posts = {"text": data["text"], "thread": [t for t in thread if t.strip()]}
                if "practise" in request.POST:
                    if any(images):
                        raise InvalidInput(
                            "Practice posts cannot have images yet. Remove the images to "
                            "practise, or save the post as a draft to keep them."
                        )
                    services.practice_post(author=request.user, account=data["account"], **posts)
                    messages.success(
                        request,
                        "Posted to your practice timeline. Watch how people react over the "
                        "next few minutes. Nobody outside Sandpit sees it.",
                    )
                    return redirect("timeline")
                draft = services.draft_create(
                    author=request.user,
                    account=data["account"],
                    images=_images_for(thread, images),
                    **posts,
                )
                if "submit" in request.POST:
                    try:
                        coaching_services.draft_submit(draft=draft, by=request.user)
                    except DomainError as error:
                        return _saved_but_not_sent(request, draft, error)
            except InvalidInput as error:
                _show_error(form, attachments, error)
            except DomainError as error:
                return refused(request, error, back_to=reverse("timeline"))
            else:
                sent = "submit" in request.POST
                messages.success(
                    request, _sent_message(draft) if sent else "Saved to your timeline."
                )
                return redirect(draft)
        status = 422
    chosen = id_from(request.POST.get("account"))
    context = {
        "form": form,
        "attachments": attachments,
        "thread_boxes": _thread_boxes(thread, attachments),
        "feed": selectors.feed_for(request.user.pk),
        "has_accounts": accounts.exists(),
        "mode_panels": autonomy.mode_panels(request.user),
        "image_errors": _has_image_errors(attachments),
        "preview": preview,
        "preview_account": preview
        and (accounts.filter(pk=chosen).first() if chosen is not None else accounts.first()),
    }
    return render(request, "sandbox/timeline.html", context, status=status)


def _images_for(
    thread: list[str], images: list[list[dict[str, object]]]
) -> list[list[dict[str, object]]]:
    """Blank thread boxes are dropped on save, so their images must not be: an image on
    an empty post is refused rather than lost."""
    for n, text in enumerate(thread, start=1):
        if images[n] and not text.strip():
            raise InvalidInput(
                f"Post {n + 1} of the thread has an image but no text. Write the post, or "
                "remove the image.",
                field=f"upload-{n}",
            )
    return [images[0], *(images[n] for n, text in enumerate(thread, start=1) if text.strip())]


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
        return _saved_but_not_sent(request, draft, error)
    messages.success(
        request,
        "Sent to your coach for review. If they approve it, it is posted in your practice "
        "timeline only.",
    )
    return redirect(draft)


def _saved_but_not_sent(
    request: AuthenticatedRequest, draft: Draft, error: DomainError
) -> HttpResponse:
    """The draft was saved but could not be sent (a blocking finding, say): show the
    draft, with its highlights, rather than an empty composer."""
    return refused(
        request,
        DomainError(f"Saved as a draft, but not sent. {error.message}"),
        back_to=draft.get_absolute_url(),
    )


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
    organisation_ids = selectors.reviewer_organisation_ids(request.user)
    context["mode_panels"] = autonomy.mode_panels(owner, organisation_ids)
    context["runs"] = selectors.scenario_runs_for(
        organisation_ids=organisation_ids, trainee_id=owner.pk, limit=10
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
    assert revision is not None
    attachments = attachments_of(revision.images_by_post)
    context = {
        "draft": draft,
        "revisions": selectors.revisions_with_feedback(draft),
        "reviewed": selectors.last_reviewed_revision(draft),
        "form": EditForm(initial={"text": draft.text}),
        "attachments": attachments,
        "thread_boxes": _thread_boxes(revision.thread, attachments),
    }
    return render(request, "sandbox/draft_detail.html", context)


@require_POST
@login_required
def draft_edit(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    draft = _get_draft_for_author(request, pk)
    form = EditForm(request.POST)
    thread, attachments = _composer_input(request)
    upload_refused = _attach_uploads(request, attachments, draft=draft)
    only_boxes = _edits_thread(request, thread, attachments) or upload_refused
    preview = None
    if only_boxes:
        form = EditForm(initial={"text": request.POST.get("text", "")})  # no complaints yet
        if "preview" in request.POST:
            preview = _preview([request.POST.get("text", ""), *thread], attachments)
    elif form.is_valid():
        try:
            services.draft_edit(
                draft=draft,
                by=request.user,
                text=form.cleaned_data["text"],
                thread=[t for t in thread if t.strip()],
                images=_images_for(thread, _images_of(attachments)),
            )
        except InvalidInput as error:
            _show_error(form, attachments, error)
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
        "attachments": attachments,
        "thread_boxes": _thread_boxes(thread, attachments),
        "image_errors": _has_image_errors(attachments),
        "preview": preview,
    }
    status = 200 if only_boxes and not upload_refused else 422
    return render(request, "sandbox/draft_detail.html", context, status=status)


@require_GET
@login_required
def post_image(request: AuthenticatedRequest, pk: int) -> FileResponse:
    """One uploaded image, to those who may see its draft. Private media: never cached by
    shared caches, and never sniffed or run as anything but the image it was checked as."""
    image = selectors.post_image_visible_to(request.user, pk)
    if image is None:
        raise Http404("No such image.")
    try:
        handle = image.file.open("rb")
    except FileNotFoundError as exc:
        raise Http404("This image is missing from storage.") from exc
    response = FileResponse(handle, content_type=image.content_type)
    response["Content-Disposition"] = "inline"
    response["X-Content-Type-Options"] = "nosniff"
    # Not kept in the browser's cache: these can be patient-adjacent photos, and NHS
    # machines are shared.
    response["Cache-Control"] = "private, no-store"
    # Opened on its own, the image is a document: let it do nothing but be shown.
    response["Content-Security-Policy"] = "default-src 'none'; img-src 'self'; sandbox"
    return response


@require_POST
@login_required
def draft_submit(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    draft = _get_draft_for_author(request, pk)
    try:
        coaching_services.draft_submit(draft=draft, by=request.user)
    except DomainError as error:
        return refused(request, error, back_to=draft.get_absolute_url())
    messages.success(request, _sent_message(draft))
    return redirect(draft)


def _sent_message(draft: Draft) -> str:
    """What happened to a post the trainee just sent: a coach reviews it, or (in
    spot-check mode) it was passed and publishes after the delay unless a coach holds it."""
    if draft.status == Draft.Status.APPROVED:
        # Asked afresh: a prefetched list on this draft predates the pass.
        publication = draft.publications.order_by("-created_at").first()
        when = publication.publish_at if publication else None
        at = f" at {timezone.localtime(when):%H:%M}" if when else ""
        return f"Passed by spot-check: it publishes{at} unless a coach holds it for review first."
    return "Sent to your coach for review."


@require_POST
@login_required
def suggestion_accept(request: AuthenticatedRequest, pk: int, review_pk: int) -> HttpResponse:
    """ "Use this rewrite": the coach's suggested text becomes the next revision."""
    draft = _get_draft_for_author(request, pk)
    review = get_object_or_404(draft.reviews.select_related("draft"), pk=review_pk)
    try:
        draft = coaching_services.review_suggestion_accept(review=review, by=request.user)
    except DomainError as error:
        return refused(request, error, back_to=draft.get_absolute_url())
    messages.success(
        request,
        "Your coach's rewrite is now your latest revision."
        + (" Read it through, then send it to your coach." if draft.status == "draft" else ""),
    )
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
    and a Celery worker takes a heartbeat task off the queue and answers it in time.
    Which part failed, and how many posts are stuck, is shown only to staff (is_staff, or a
    coach or admin anywhere): to anyone else it would map the insides of the service."""
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
    healthy = checks["database"] == "ok" and checks["worker"] == "ok"
    body: dict[str, object] = {"status": "ok" if healthy else "failing"}
    # Only signed-in staff (a User; the anonymous caller is not one) see the details.
    # Recognising them reads their session from the database: with the database down, no
    # one is recognised and everyone gets the bare status.
    user = request.user
    if (
        checks["database"] == "ok"
        and isinstance(user, User)
        and (user.is_staff or selectors.roles_of(user) & set(selectors.REVIEWER_ROLES))
    ):
        checks["stuck_publishing"] = coaching_selectors.stuck_publication_count()
        body.update(checks)
    return JsonResponse(body, status=200 if healthy else 503)


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
    account_id = id_from(request.POST.get("account"))
    chosen = accounts.filter(pk=account_id).first() if account_id is not None else None
    account = chosen or accounts.first()
    context = selectors.check_context(account.organisation_id) if account else CheckContext()
    # The composer's form sends each post's images and alt text along with the text.
    position = 0 if field == "text" else field.removeprefix("thread-")
    alts = [
        request.POST.get(f"alt-{position}-{image_id}", "")
        for image_id in request.POST.getlist(f"image-{position}")
    ]
    media = tuple(MediaInfo(alt_text=alt) for alt in alts)
    findings = run_checks(text, context=dataclasses.replace(context, media=media))
    return render(request, "sandbox/_findings.html", {"text": text, "findings": findings})
