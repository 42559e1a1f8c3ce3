import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import ProhibitNullCharactersValidator
from django.db.models import QuerySet
from django.http import QueryDict
from django.urls import reverse

from sandbox.errors import InvalidInput
from sandbox.http import id_from
from sandbox.media import MAX_IMAGES_PER_POST
from sandbox.models import TimelineItem, WorkplaceAccount

# Far beyond any post, small enough that a runaway paste cannot fill the database.
# The real limit (280 weighted characters) is the service's rule and message.
TEXT_HARD_CAP = 25_000


# Text -------------------------------------------------------------------------------------

# What PostgreSQL refuses to store in text (NUL), and halves of a surrogate pair without
# their other half, which are not characters at all and cannot even be written as UTF-8.
_UNSAVEABLE = re.compile("[\x00\ud800-\udfff]")


def unsaveable_message(what: str = "This text") -> str:
    return (
        f"{what} contains a character that can't be saved (a NUL or broken character). "
        "Remove it and try again."
    )


def is_saveable(text: str) -> bool:
    return not _UNSAVEABLE.search(text)


def validate_saveable(value: str) -> None:
    if not is_saveable(value):
        raise ValidationError(unsaveable_message(), code="null_characters_not_allowed")


class TextField(forms.CharField):
    """Every free-text field in Sandpit's forms. Django's CharField refuses NUL, but
    with "Null characters are not allowed.", which tells a coach nothing, and it does not
    look for unpaired surrogates (a request cannot carry one, as Django reads broken UTF-8
    as U+FFFD, but a form can be given text from anywhere). This refuses both in plain
    English."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        # In place of Django's NUL check, not beside it: one message for one mistake.
        self.validators = [
            *(v for v in self.validators if not isinstance(v, ProhibitNullCharactersValidator)),
            validate_saveable,
        ]


def unsaveable_boxes(data: Mapping[str, Any], prefixes: tuple[str, ...]) -> list[str]:
    """The boxes, among those named with these prefixes, sent with text that can't be
    saved: for a form's boxes that are not fields (their number varies), which it reads
    from its data itself and so must hold to TextField's rule itself."""
    sent = data.lists() if isinstance(data, QueryDict) else ((k, [v]) for k, v in data.items())
    return [
        name
        for name, values in sent
        if name.startswith(prefixes) and not all(is_saveable(str(value)) for value in values)
    ]


def posted_text(data: QueryDict, name: str, *, what: str = "This text") -> str:
    """A free-text value a view reads from the POST itself (a button's reason, with no
    form): the same rule as TextField, refused as InvalidInput for the view's refusal."""
    value = str(data.get(name, ""))
    if not is_saveable(value):
        raise InvalidInput(unsaveable_message(what), field=name)
    return value


class IdField(forms.Field):
    """An id a form sends (a hidden revision, a chosen coach), read by id_from."""

    default_error_messages = {
        "invalid": "That is not one of the choices on this page. Reload it and try again."
    }

    def to_python(self, value: object) -> int | None:
        if value in self.empty_values:
            return None
        number = id_from(value)
        if number is None:
            raise ValidationError(self.error_messages["invalid"], code="invalid")
        return number


class DomainErrorsMixin:
    """Shows a service's InvalidInput on the field it names (or on the whole form): every
    problem it carries, each in its place."""

    def add_domain_error(self: forms.Form, error: InvalidInput) -> None:  # type: ignore[misc]
        for problem in error:
            self.add_error(problem.field if problem.field in self.fields else None, problem.message)


def _composer_box(name: str) -> str:
    """A composer box that is not a form field, named as the page labels it."""
    kind, _, rest = name.partition("-")
    position = id_from(rest.removeprefix("alt-").partition("-")[0])
    if kind == "thread" and position is not None:
        return f"Post {position + 1} of the thread"
    post = f" on post {position + 1}" if position is not None else ""
    return f"An image description{post}"


class ComposerForm(DomainErrorsMixin, forms.Form):
    """The composer's text, and the boxes that are not form fields (the thread's other
    posts, ``thread-N``, and the images' alt text, ``alt-P-ID`` and ``upload-alt-P``):
    these are read from the POST as typed, so their one rule for what can be saved is
    applied here, before anything is saved, and the page keeps what was typed."""

    text = TextField(
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

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        for name in unsaveable_boxes(self.data, ("thread-", "alt-", "upload-alt-")):
            self.add_error(None, unsaveable_message(_composer_box(name)))
        return cleaned


class DraftForm(ComposerForm):
    account = forms.ModelChoiceField(
        label="Post as",
        queryset=WorkplaceAccount.objects.none(),
        empty_label=None,
        widget=forms.Select(attrs={"class": "nhsuk-select"}),
    )

    def __init__(self, *args: object, accounts: QuerySet[WorkplaceAccount], **kwargs: object):
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["account"].queryset = accounts  # type: ignore[attr-defined]


class EditForm(ComposerForm):
    pass


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
                image_id, str(data.get(f"alt-{position}-{image_id}", ""))[:ALT_HARD_CAP], position
            )
            for image_id in map(id_from, data.getlist(f"image-{position}"))
            if image_id is not None
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
