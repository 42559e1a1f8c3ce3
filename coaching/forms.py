from django import forms
from django.db import models
from django.http import QueryDict

from coaching.models import NOTE_MAX_LENGTH, RUBRIC, Review
from coaching.services import AnchoredNote
from sandbox.forms import TEXT_HARD_CAP, DomainErrorsMixin

# Boxes for notes on particular words, at most: enough for any review, and a bound on input.
MAX_ANCHORED_NOTES = 20


class ValuesField(forms.Field):
    """Every value sent under one name (checkboxes), unjudged: the service checks them."""

    widget = forms.CheckboxSelectMultiple

    def to_python(self, value: object) -> list[str]:
        return [str(item) for item in value] if isinstance(value, list | tuple) else []


class ReviewForm(DomainErrorsMixin, forms.Form):
    decision = forms.ChoiceField(
        choices=Review.Decision.choices,
        error_messages={"required": "Choose approve, request changes or reject."},
    )
    note = forms.CharField(
        label="Feedback for the trainee",
        required=False,
        strip=True,
        widget=forms.Textarea(attrs={"rows": 4, "class": "nhsuk-textarea"}),
        # A little slack over the limit so the service, not the form, words the message.
        max_length=NOTE_MAX_LENGTH * 10,
    )
    override_reason = forms.CharField(
        label="Reason for overriding",
        required=False,
        max_length=1000,
        widget=forms.TextInput(attrs={"class": "nhsuk-input"}),
    )
    revision = forms.IntegerField(widget=forms.HiddenInput)
    # The rubric and tags are passed to the service as sent, which words every refusal.
    safe = forms.CharField(required=False, max_length=10)
    person_centred = forms.CharField(required=False, max_length=10)
    effective = forms.CharField(required=False, max_length=10)
    tags = ValuesField(required=False)
    publish_at = forms.DateTimeField(
        label="Publish at (optional)",
        required=False,
        widget=forms.DateTimeInput(
            attrs={"type": "datetime-local", "class": "nhsuk-input nhsuk-input--width-20"},
            format="%Y-%m-%dT%H:%M",
        ),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
        error_messages={"invalid": "Enter a date and time, like 2026-12-01 09:30."},
    )

    def scores(self) -> dict[str, str]:
        return {name: self.cleaned_data.get(name) or "" for name in RUBRIC}


def _number(raw: str | None) -> int | None:
    return int(raw) if raw and raw.isdigit() and len(raw) < 9 else None


def anchored_notes_from(data: QueryDict) -> list[AnchoredNote]:
    """The notes on particular words, as typed (empty boxes too, so the page can show
    them again): ``anchor-N-body``, ``-quote``, ``-post``, ``-start``, ``-end``."""
    notes = []
    for n in range(MAX_ANCHORED_NOTES):
        if f"anchor-{n}-body" not in data and f"anchor-{n}-quote" not in data:
            continue
        notes.append(
            AnchoredNote(
                body=str(data.get(f"anchor-{n}-body", ""))[: NOTE_MAX_LENGTH * 10],
                quote=str(data.get(f"anchor-{n}-quote", ""))[:TEXT_HARD_CAP],
                post_index=_number(data.get(f"anchor-{n}-post")),
                start=_number(data.get(f"anchor-{n}-start")),
                end=_number(data.get(f"anchor-{n}-end")),
            )
        )
    return notes


def suggestion_from(data: QueryDict, posts: list[str]) -> list[str]:
    """The suggested rewrite, one box per post of the revision (``suggestion-N``)."""
    return [str(data.get(f"suggestion-{n}", ""))[:TEXT_HARD_CAP] for n in range(len(posts))]


class ReasonForm(DomainErrorsMixin, forms.Form):
    """A reason that goes in the audit log and on the banner (stop, retract)."""

    reason = forms.CharField(
        label="Reason",
        max_length=500,
        widget=forms.TextInput(attrs={"class": "nhsuk-input"}),
        error_messages={"required": "Say why; everyone in the organisation will see it."},
    )
    organisation = forms.IntegerField(required=False, widget=forms.HiddenInput)
    account = forms.IntegerField(required=False, widget=forms.HiddenInput)


class ScenarioForm(DomainErrorsMixin, forms.Form):
    title = forms.CharField(
        label="Title", max_length=120, widget=forms.TextInput(attrs={"class": "nhsuk-input"})
    )
    description = forms.CharField(
        label="What the trainee should practise (optional)",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "class": "nhsuk-textarea"}),
    )
    script = forms.CharField(
        label="Timeline items, one a line",
        widget=forms.Textarea(attrs={"rows": 8, "class": "nhsuk-textarea"}),
        help_text="minutes | persona | text. Start the text with 'reply:' to reply to the "
        "scenario's previous post. Example: 2 | dave-hollins | reply: Why was nobody told?",
    )


def _preference_field(name: str) -> forms.BooleanField:
    from coaching.models import NotificationPreference

    field = NotificationPreference._meta.get_field(name)
    assert isinstance(field, models.BooleanField)
    return forms.BooleanField(label=str(field.verbose_name), required=False)


class NotificationPreferencesForm(forms.Form):
    """What Sandpit emails the user. Only coaches see the switches about the queue."""

    email_reviews = _preference_field("email_reviews")
    email_submissions = _preference_field("email_submissions")
    email_past_target = _preference_field("email_past_target")
    daily_digest = _preference_field("daily_digest")

    COACH_FIELDS = ("email_submissions", "email_past_target", "daily_digest")

    def __init__(self, *args: object, reviewer: bool, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        if not reviewer:
            for name in self.COACH_FIELDS:
                del self.fields[name]
