from dataclasses import dataclass, field

from django import forms
from django.db.models import QuerySet
from django.http import QueryDict
from django.urls import reverse

from sandbox.errors import InvalidInput
from sandbox.media import MAX_IMAGES_PER_POST
from sandbox.models import TimelineItem, WorkplaceAccount

# Far beyond any post, small enough that a runaway paste cannot fill the database.
# The real limit (280 weighted characters) is the service's rule and message.
TEXT_HARD_CAP = 25_000


class DomainErrorsMixin:
    """Shows a service's InvalidInput on the field it names (or on the whole form)."""

    def add_domain_error(self: forms.Form, error: InvalidInput) -> None:  # type: ignore[misc]
        self.add_error(error.field if error.field in self.fields else None, error.message)


class DraftForm(DomainErrorsMixin, forms.Form):
    text = forms.CharField(
        label="What do you want to post?",
        strip=False,
        widget=forms.Textarea(attrs={"rows": 5, "data-composer": "", "class": "nhsuk-textarea"}),
        max_length=TEXT_HARD_CAP,
        error_messages={
            "required": "Write something before you save: the post is empty.",
            "max_length": "That is far too long for a post (over 25,000 characters). "
            "Keep the part you need and try again.",
        },
    )
    account = forms.ModelChoiceField(
        label="Post as",
        queryset=WorkplaceAccount.objects.none(),
        empty_label=None,
        widget=forms.Select(attrs={"class": "nhsuk-select"}),
    )

    def __init__(self, *args: object, accounts: QuerySet[WorkplaceAccount], **kwargs: object):
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["account"].queryset = accounts  # type: ignore[attr-defined]


class EditForm(DomainErrorsMixin, forms.Form):
    text = DraftForm.base_fields["text"]


# The composer's images. Not Django form fields: their number changes as the trainee
# adds posts and images, so they are named by position ("image-0", "alt-0-12") and parsed
# here. Alt text is capped far above X's 1,000 only to stop a runaway paste; the real
# limit is the service's rule and message.
ALT_HARD_CAP = 25_000


@dataclass
class Attachment:
    """An image attached to one post in the composer, with the alt text as typed."""

    id: int
    alt: str
    position: int  # which post of the thread, from 0
    error: str = ""

    @property
    def url(self) -> str:
        return reverse("post_image", args=[self.id])

    @property
    def field(self) -> str:
        return f"alt-{self.position}-{self.id}"

    def as_entry(self) -> dict[str, object]:
        return {"id": self.id, "alt": self.alt}


@dataclass
class PostAttachments:
    """The images of one post, and the image being added to it."""

    position: int
    images: list[Attachment] = field(default_factory=list)
    upload_alt: str = ""
    upload_error: str = ""

    @property
    def upload_field(self) -> str:
        return f"upload-{self.position}"

    @property
    def has_room(self) -> bool:
        return len(self.images) < MAX_IMAGES_PER_POST


def post_attachments(data: QueryDict, posts: int) -> list[PostAttachments]:
    """Each post's images as the form sent them, in order."""
    attachments = []
    for position in range(posts):
        images = [
            Attachment(
                int(value), str(data.get(f"alt-{position}-{value}", ""))[:ALT_HARD_CAP], position
            )
            for value in data.getlist(f"image-{position}")
            if value.isdigit()
        ]
        upload_alt = str(data.get(f"upload-alt-{position}", ""))[:ALT_HARD_CAP]
        attachments.append(PostAttachments(position, images, upload_alt))
    return attachments


def attachments_of(revision_images: list[list[dict[str, object]]]) -> list[PostAttachments]:
    """A saved revision's images, ready to edit (DraftRevision.images_by_post)."""
    return [
        PostAttachments(
            position,
            [Attachment(int(str(e["id"])), str(e["alt"]), position) for e in entries],
        )
        for position, entries in enumerate(revision_images)
    ]


class ResponseForm(EditForm):
    """Answering a post in the private timeline: a reply or a quote post."""

    kind = forms.ChoiceField(
        label="How do you want to answer it?",
        choices=[("reply", "Reply to it"), ("quote", "Quote it in a post of your own")],
        required=False,  # a bare reply form (no choice sent) means a reply
        widget=forms.RadioSelect,
        error_messages={"invalid_choice": "Choose a reply or a quote."},
    )

    def answering(self, item: TimelineItem) -> tuple[TimelineItem | None, TimelineItem | None]:
        """(in_reply_to, quote_of) for the services, as the trainee chose."""
        return (None, item) if self.cleaned_data.get("kind") == "quote" else (item, None)
