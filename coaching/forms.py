from django import forms
from django.db import models

from coaching.models import NOTE_MAX_LENGTH, Review
from sandbox.forms import DomainErrorsMixin


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
