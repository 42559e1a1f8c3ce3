"""What the composer pages share: reading the thread and its images from the form, previews,
and the messages after saving."""

from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    QueryDict,
)
from django.utils import timezone

from coaching import draft_display
from sandbox import services as sandbox_services
from sandbox.errors import DomainError, InvalidInput
from sandbox.forms import (
    TEXT_HARD_CAP,
    Attachment,
    DraftForm,
    EditForm,
    PostAttachments,
    post_attachments,
)
from sandbox.http import AuthenticatedRequest, id_from, refused
from sandbox.models import (
    Draft,
)


def _thread_posts(data: QueryDict) -> list[str]:
    """The second and later posts of a thread, in order, as typed (blank ones too, while
    the trainee is still adding boxes)."""
    return [
        str(data.get(f"thread-{n}", ""))[:TEXT_HARD_CAP]
        for n in range(1, sandbox_services.MAX_THREAD_POSTS)
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
            post.upload_error = sandbox_services.too_many_images(post.position + 1)
            refused_any = True
            continue
        try:
            image = sandbox_services.post_image_add(by=request.user, draft=draft, upload=upload)
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
        if len(thread) + 1 < sandbox_services.MAX_THREAD_POSTS:
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
    """Each of a service's messages goes beside the image field it is about, else on the
    form."""
    for problem in error:
        if not _show_beside_image(attachments, problem):
            form.add_domain_error(problem)


def _show_beside_image(attachments: list[PostAttachments], problem: InvalidInput) -> bool:
    for post in attachments:
        if problem.field == post.upload_field:
            post.upload_error = problem.message
            return True
        for image in post.images:
            if problem.field == image.field:
                image.error = problem.message
                return True
    return False


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
    draft = draft_display.draft_visible_to(request.user, pk)
    if draft is None or draft.author_id != request.user.pk:
        raise Http404("No such draft.")
    return draft


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
