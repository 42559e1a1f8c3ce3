from typing import Any

from django import forms
from django.contrib.auth.models import User
from django.http import QueryDict

from coaching.models import NOTE_MAX_LENGTH, Review
from coaching.selectors import OVERDUE, QueueChoices, QueueFilters
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


def _name(user: User) -> str:
    return user.get_full_name() or user.username


_SELECT = forms.Select(attrs={"class": "nhsuk-select"})


class QueueFilterForm(forms.Form):
    """The queue's filters (GET). Choices come only from the coach's own organisations,
    so another organisation's trainee cannot even be named."""

    scope = forms.ChoiceField(
        label="Show",
        required=False,
        choices=[("mine", "Routed to me"), ("all", "Everyone in my organisation")],
        widget=forms.RadioSelect,
    )
    trainee = forms.TypedChoiceField(
        label="Trainee", required=False, coerce=int, empty_value=None, widget=_SELECT
    )
    cohort = forms.TypedChoiceField(
        label="Cohort", required=False, coerce=int, empty_value=None, widget=_SELECT
    )
    account = forms.TypedChoiceField(
        label="Account", required=False, coerce=int, empty_value=None, widget=_SELECT
    )
    age = forms.ChoiceField(
        label="Waiting",
        required=False,
        choices=[
            ("", "Any time"),
            ("1h", "More than 1 hour"),
            ("4h", "More than 4 hours"),
            (OVERDUE, "Past the review target"),
        ],
        widget=_SELECT,
    )

    def __init__(self, data: QueryDict, *, choices: QueueChoices) -> None:
        super().__init__(data)
        for name, options in (
            ("trainee", [(user.pk, _name(user)) for user in choices.trainees]),
            ("cohort", [(cohort.pk, cohort.name) for cohort in choices.cohorts]),
            ("account", [(account.pk, f"@{account.handle}") for account in choices.accounts]),
        ):
            field = self.fields[name]
            field.choices = [("", "All"), *options]  # type: ignore[attr-defined]
            field.error_messages["invalid_choice"] = (
                f"Choose a{'n' if name == 'account' else ''} {name} from the list: "
                "that one is not in your organisation, so it is not filtered on."
            )
        self.fields["scope"].error_messages["invalid_choice"] = "Choose mine or everyone."
        self.fields["age"].error_messages["invalid_choice"] = "Choose how long from the list."

    def filters(self, *, default_scope: str) -> QueueFilters:
        """The valid filters; a bad one is left out (and shown as an error)."""
        self.is_valid()
        data = self.cleaned_data
        return QueueFilters(
            scope=data.get("scope") or default_scope,
            trainee_id=data.get("trainee"),
            cohort_id=data.get("cohort"),
            account_id=data.get("account"),
            age=data.get("age") or "",
        )


class AvailabilityForm(DomainErrorsMixin, forms.Form):
    away_from = forms.DateField(
        label="First day away",
        required=False,
        widget=forms.DateInput(
            attrs={"type": "date", "class": "nhsuk-input nhsuk-input--width-10"}
        ),
        error_messages={"invalid": "Enter the first day away as a date, like 2026-12-01."},
    )
    away_until = forms.DateField(
        label="Last day away (optional)",
        required=False,
        widget=forms.DateInput(
            attrs={"type": "date", "class": "nhsuk-input nhsuk-input--width-10"}
        ),
        error_messages={"invalid": "Enter the last day away as a date, like 2026-12-05."},
    )
    cover_coach = forms.TypedChoiceField(
        label="Who covers for you",
        required=False,
        coerce=int,
        empty_value=None,
        widget=forms.Select(attrs={"class": "nhsuk-select"}),
        error_messages={"invalid_choice": "Choose a coach of your organisation from the list."},
    )

    def __init__(self, *args: Any, coaches: list[User], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["cover_coach"].choices = [  # type: ignore[attr-defined]
            ("", "Nobody: the coach pool shares my trainees"),
            *[(coach.pk, _name(coach)) for coach in coaches],
        ]


class AssignForm(forms.Form):
    coach = forms.IntegerField(
        error_messages={"required": "Choose a coach.", "invalid": "Choose a coach."}
    )
    cohort = forms.IntegerField(required=False, error_messages={"invalid": "Choose a cohort."})
