"""The trainee's private timeline: the composer, a post with its conversation, and a coach's
read-only view."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.http import (
    Http404,
    HttpResponse,
)
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_safe

from coaching import autonomy, draft_display, services
from coaching.feed import feed_for
from coaching.views.composer import (
    _attach_uploads,
    _composer_input,
    _edits_thread,
    _has_image_errors,
    _images_of,
    _preview,
    _saved_but_not_sent,
    _sent_message,
    _show_error,
    _thread_boxes,
)
from sandbox import page_cache
from sandbox import selectors as sandbox_selectors
from sandbox import services as sandbox_services
from sandbox.errors import DomainError, InvalidInput
from sandbox.forms import (
    DraftForm,
    ResponseForm,
)
from sandbox.http import AuthenticatedRequest, id_from, refused
from sandbox.models import (
    TimelineItem,
    WorkplaceAccount,
)


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
@page_cache.kept
def timeline(request: AuthenticatedRequest) -> HttpResponse:
    """The private timeline, with the composer on top (GET), which it also saves (POST):
    as a draft, straight to the coach, or as a practice post the simulated audience sees.
    With htmx, GET returns just the feed (polled, so new reactions arrive by themselves)."""
    if request.htmx and request.method == "GET":
        return render(request, "sandbox/timeline.html#feed", {"feed": feed_for(request.user.pk)})
    accounts = sandbox_selectors.accounts_for_author(request.user)
    account_list = list(accounts)  # the page asks how many, and which comes first
    first_account = account_list[0] if account_list else None
    form = DraftForm(request.POST or None, accounts=accounts, initial={"account": first_account})
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
                    sandbox_services.practice_post(
                        author=request.user, account=data["account"], **posts
                    )
                    messages.success(
                        request,
                        "Posted to your practice timeline. Watch how people react over the "
                        "next few minutes. Nobody outside Sandpit sees it.",
                    )
                    return redirect("timeline")
                draft = sandbox_services.draft_create(
                    author=request.user,
                    account=data["account"],
                    images=_images_for(thread, images),
                    **posts,
                )
                if "submit" in request.POST:
                    try:
                        services.draft_submit(draft=draft, by=request.user)
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
        "feed": feed_for(request.user.pk),
        "has_accounts": bool(account_list),
        "several_accounts": len(account_list) > 1,
        "mode_panels": autonomy.mode_panels(request.user),
        "image_errors": _has_image_errors(attachments),
        "preview": preview,
        "preview_account": preview
        and (
            next((a for a in account_list if a.pk == chosen), None)
            if chosen is not None
            else first_account
        ),
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


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def timeline_item(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """One post and its conversation (GET; with htmx, just the replies, polled), where
    the timeline's owner can answer it (POST): a practice reply or quote, which the
    simulated audience sees, or a response drafted for their coach, reviewed like any post."""
    item = sandbox_selectors.timeline_item_for(request.user, pk)
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
        account = sandbox_selectors.account_for_response(request.user, item)
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
    context = {"item": item, "replies": sandbox_selectors.conversation(item)}
    if request.htmx and request.method == "GET":
        return render(request, "sandbox/timeline_item.html#replies", context)
    if is_owner:
        context["form"] = form
        context["responses"] = draft_display.responses_to(item, request.user)
    return render(request, "sandbox/timeline_item.html", context, status=status)


def _answer(
    request: AuthenticatedRequest, item: TimelineItem, account: WorkplaceAccount, form: ResponseForm
) -> HttpResponse:
    """Practise the answer here (the default), or draft it for the coach ("save"), and
    send it for review ("submit")."""
    text = form.cleaned_data["text"]
    in_reply_to, quote_of = form.answering(item)
    if "submit" not in request.POST and "save" not in request.POST:
        sandbox_services.practice_post(
            author=request.user,
            account=account,
            text=text,
            in_reply_to=in_reply_to,
            quote_of=quote_of,
        )
        what = "Quote" if quote_of else "Reply"
        messages.success(request, f"{what} posted to your practice timeline.")
        return redirect(_item_url(item))
    draft = sandbox_services.draft_create(
        author=request.user, account=account, text=text, in_reply_to=in_reply_to, quote_of=quote_of
    )
    if "submit" not in request.POST:
        messages.success(request, "Saved as a draft response. Send it to your coach when ready.")
        return redirect(draft)
    try:
        services.draft_submit(draft=draft, by=request.user)
    except DomainError as error:
        return _saved_but_not_sent(request, draft, error)
    messages.success(
        request,
        "Sent to your coach for review. If they approve it, it is posted in your practice "
        "timeline only.",
    )
    return redirect(draft)


def _item_url(item: TimelineItem) -> str:
    return reverse("timeline_item", args=[item.pk])


@require_safe
@login_required
def trainee_timeline(request: AuthenticatedRequest, user_id: int) -> HttpResponse:
    """A coach looks at one of their trainees' timelines (read only)."""
    if user_id == request.user.pk:
        return redirect("timeline")
    if not sandbox_selectors.can_see_timeline_of(request.user, user_id):
        raise Http404("No such timeline.")
    owner = get_object_or_404(User, pk=user_id)
    context: dict[str, object] = {
        "owner": owner,
        "feed": feed_for(owner.pk, viewer=request.user),
    }
    if request.htmx:
        return render(request, "sandbox/trainee_timeline.html#feed", context)
    organisation_ids = sandbox_selectors.reviewer_organisation_ids(request.user)
    context["mode_panels"] = autonomy.mode_panels(owner, organisation_ids)
    context["runs"] = sandbox_selectors.scenario_runs_for(
        organisation_ids=organisation_ids, trainee_id=owner.pk, limit=10
    )
    return render(request, "sandbox/trainee_timeline.html", context)
