"""The trainee's draft page: feedback and history, editing, sending to a coach, using a
suggestion, withdrawing."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import (
    HttpResponse,
)
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST, require_safe

from coaching import draft_display, services
from coaching.views.composer import (
    _attach_uploads,
    _composer_input,
    _edits_thread,
    _get_draft_for_author,
    _has_image_errors,
    _images_of,
    _preview,
    _saved_but_not_sent,
    _sent_message,
    _show_error,
    _thread_boxes,
)
from coaching.views.timeline import _images_for
from sandbox import selectors as sandbox_selectors
from sandbox import services as sandbox_services
from sandbox.errors import DomainError, InvalidInput
from sandbox.forms import (
    EditForm,
    attachments_of,
)
from sandbox.http import AuthenticatedRequest, refused


@require_safe
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
        "revisions": draft_display.revisions_with_feedback(draft),
        "reviewed": sandbox_selectors.last_reviewed_revision(draft),
        "has_feedback": draft.reviews.exists(),
        "form": EditForm(initial={"text": draft.text}),
        "attachments": attachments,
        "thread_boxes": _thread_boxes(revision.thread, attachments),
    }
    return render(request, "sandbox/draft_detail.html", context)


@require_POST
@login_required
def draft_edit(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """Save the draft as a new revision; with "send", also send it to a coach (one
    action, so a draft sent back for changes is revised and returned in one step)."""
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
        before = draft.current_revision_id
        try:
            draft = sandbox_services.draft_edit(
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
            if "send" not in request.POST:
                messages.success(request, "Saved as a new revision.")
                return redirect(draft)
            try:
                services.draft_submit(draft=draft, by=request.user)
            except DomainError as error:
                if draft.current_revision_id == before:
                    return refused(request, error, back_to=draft.get_absolute_url())
                return _saved_but_not_sent(request, draft, error)
            messages.success(request, _sent_message(draft))
            return redirect(draft)
    context = {
        "draft": draft,
        "revisions": draft_display.revisions_with_feedback(draft),
        "reviewed": sandbox_selectors.last_reviewed_revision(draft),
        "has_feedback": draft.reviews.exists(),
        "form": form,
        "attachments": attachments,
        "thread_boxes": _thread_boxes(thread, attachments),
        "image_errors": _has_image_errors(attachments),
        "preview": preview,
    }
    status = 200 if only_boxes and not upload_refused else 422
    return render(request, "sandbox/draft_detail.html", context, status=status)


@require_POST
@login_required
def draft_submit(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    draft = _get_draft_for_author(request, pk)
    try:
        services.draft_submit(draft=draft, by=request.user)
    except DomainError as error:
        return refused(request, error, back_to=draft.get_absolute_url())
    messages.success(request, _sent_message(draft))
    return redirect(draft)


@require_POST
@login_required
def suggestion_accept(request: AuthenticatedRequest, pk: int, review_pk: int) -> HttpResponse:
    """ "Use this rewrite": the coach's suggested text becomes the next revision."""
    draft = _get_draft_for_author(request, pk)
    review = get_object_or_404(draft.reviews.select_related("draft"), pk=review_pk)
    try:
        draft = services.review_suggestion_accept(review=review, by=request.user)
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
        services.draft_withdraw(draft=draft, by=request.user)
    except DomainError as error:
        return refused(request, error, back_to=draft.get_absolute_url())
    messages.success(request, "Draft withdrawn. It will not be reviewed or published.")
    return redirect("timeline")
