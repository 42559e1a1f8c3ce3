"""Forms of the people pages and the check settings, for an organisation's admins."""

from typing import Any

from django import forms
from django.conf import settings

from coaching.forms import SELECT_ATTRS, id_choice
from coaching.selectors import coach_memberships
from coaching.selectors.people import PERSON_STATUSES, PeopleFilters
from sandbox.checks import CHECKS
from sandbox.forms import (
    DomainErrorsMixin,
    TextField,
)
from sandbox.models import (
    CheckSeverity,
    Cohort,
    LocalIdentifierPattern,
    LocalWord,
    Membership,
    Organisation,
    PreElectionPeriod,
)
from sandbox.selectors import display_name

# People, for their organisation's admins ---------------------------------------------------

_INPUT = {"class": "nhsuk-input"}


def _choices_of(organisation_id: int) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """The organisation's cohorts and possible named coaches, as choices."""
    cohorts = [(str(c.pk), c.name) for c in Cohort.objects.filter(organisation_id=organisation_id)]
    coaches = [(str(m.user_id), display_name(m.user)) for m in coach_memberships([organisation_id])]
    return cohorts, coaches


class PeopleFilterForm(forms.Form):
    """The people list's search and filters, from the query string."""

    q = TextField(
        label="Name or email",
        required=False,
        max_length=200,
        widget=forms.TextInput(attrs={**_INPUT, "type": "search"}),
    )
    role = forms.ChoiceField(
        label="Role",
        required=False,
        choices=[("", "Any role"), *Membership.Role.choices],
        widget=forms.Select(attrs=SELECT_ATTRS),
    )
    cohort = id_choice("Cohort")
    coach = id_choice("Coach")
    status = forms.ChoiceField(
        label="Status",
        required=False,
        choices=[("", "Anyone"), *PERSON_STATUSES.items()],
        widget=forms.Select(attrs=SELECT_ATTRS),
    )

    def __init__(self, data: object, *, organisation_id: int) -> None:
        super().__init__(data)  # type: ignore[arg-type]
        cohorts, coaches = _choices_of(organisation_id)
        self.fields["cohort"].choices = [("", "Any cohort"), *cohorts]  # type: ignore[attr-defined]
        self.fields["coach"].choices = [("", "Any coach"), *coaches]  # type: ignore[attr-defined]

    @property
    def filters(self) -> PeopleFilters:
        """The valid filters: a bad one is reported and left out, not fatal."""
        self.is_valid()
        data = self.cleaned_data
        return PeopleFilters(
            search=data.get("q") or "",
            role=data.get("role") or "",
            cohort_id=data.get("cohort"),
            coach_id=data.get("coach"),
            status=data.get("status") or "",
        )


class _PersonFields(DomainErrorsMixin, forms.Form):
    role = forms.ChoiceField(
        label="Role",
        choices=Membership.Role.choices,
        initial=Membership.Role.TRAINEE,
        widget=forms.Select(attrs=SELECT_ATTRS),
        help_text="Trainees write posts; coaches review them; admins also manage people, "
        "accounts and settings.",
    )
    coach = id_choice(
        "Named coach (optional)",
        error_messages={"invalid_choice": "Choose a coach of your organisation from the list."},
        help_text="For a trainee: whose queue their posts go to.",
    )
    cohort = id_choice(
        "Cohort (optional)",
        error_messages={"invalid_choice": "Choose one of your organisation's cohorts."},
    )

    def __init__(
        self, *args: Any, organisation_id: int, person_id: int | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        cohorts, coaches = _choices_of(organisation_id)
        # Nobody is their own named coach.
        coaches = [choice for choice in coaches if choice[0] != str(person_id)]
        self.fields["cohort"].choices = [("", "None"), *cohorts]  # type: ignore[attr-defined]
        self.fields["coach"].choices = [("", "None: the coach pool"), *coaches]  # type: ignore[attr-defined]


class InviteForm(_PersonFields):
    email = TextField(
        label="Email address",
        max_length=254,
        widget=forms.EmailInput(attrs={**_INPUT, "autocomplete": "off", "spellcheck": "false"}),
        error_messages={"required": "Enter the person's email address."},
        help_text="We email them a link to choose a password. It works once, for "
        f"{settings.INVITATION_DAYS} days.",
    )
    first_name = TextField(
        label="First name", required=False, max_length=150, widget=forms.TextInput(attrs=_INPUT)
    )
    last_name = TextField(
        label="Last name", required=False, max_length=150, widget=forms.TextInput(attrs=_INPUT)
    )
    field_order = ["email", "first_name", "last_name", "role", "coach", "cohort"]


class PersonForm(_PersonFields):
    pass


class CohortForm(DomainErrorsMixin, forms.Form):
    name = TextField(
        label="New cohort",
        max_length=200,
        widget=forms.TextInput(attrs={**_INPUT, "class": "nhsuk-input nhsuk-input--width-20"}),
        error_messages={"required": "Enter a name for the cohort, like 'Ward 5' or 'May intake'."},
        help_text="A group of trainees who learn together: a ward, a team, an intake.",
    )


class ImportForm(DomainErrorsMixin, forms.Form):
    file = forms.FileField(
        label="CSV file",
        widget=forms.ClearableFileInput(attrs={"class": "nhsuk-file-upload", "accept": ".csv"}),
        error_messages={"required": "Choose a CSV file to import."},
        help_text="The first line names the columns: email, name, role, cohort, coach email. "
        "Only email is required; role is trainee, coach or admin (trainee if empty).",
    )


class ErasureForm(DomainErrorsMixin, forms.Form):
    """The confirmation of an erasure: the person's name, typed."""

    confirmation = TextField(
        label="Type their name to confirm",
        max_length=300,
        widget=forms.TextInput(attrs={**_INPUT, "autocomplete": "off", "spellcheck": "false"}),
        error_messages={"required": "Type their name to confirm whom you are erasing."},
    )


class SeveritiesForm(forms.Form):
    """One choice per risk check: its default, or the organisation's own severity."""

    def __init__(self, data: object, *, current: dict[str, str]) -> None:
        super().__init__(data, initial=current)  # type: ignore[arg-type]
        for check in CHECKS:
            self.fields[check.code] = forms.ChoiceField(
                label=check.title,
                required=False,
                choices=[("", "Default"), *CheckSeverity.Level.choices],
                widget=forms.Select(attrs=SELECT_ATTRS),
                error_messages={"invalid_choice": "Choose a severity from the list."},
            )


class LocalWordForm(DomainErrorsMixin, forms.ModelForm):
    class Meta:
        model = LocalWord
        fields = ["word"]
        field_classes = {"word": TextField}
        labels = {"word": "Word to add to the profanity check"}
        widgets = {
            "word": forms.TextInput(attrs={**_INPUT, "class": "nhsuk-input nhsuk-input--width-20"})
        }


class LocalIdentifierPatternForm(DomainErrorsMixin, forms.ModelForm):
    class Meta:
        model = LocalIdentifierPattern
        fields = ["label", "pattern"]
        field_classes = {"label": TextField, "pattern": TextField}
        widgets = {
            "label": forms.TextInput(attrs=_INPUT),
            "pattern": forms.TextInput(attrs={**_INPUT, "spellcheck": "false"}),
        }


class PreElectionPeriodForm(DomainErrorsMixin, forms.ModelForm):
    class Meta:
        model = PreElectionPeriod
        fields = ["name", "starts_on", "ends_on"]
        field_classes = {"name": TextField}
        labels = {"starts_on": "First day", "ends_on": "Last day"}
        widgets = {
            "name": forms.TextInput(attrs=_INPUT),
            "starts_on": forms.DateInput(
                attrs={"type": "date", "class": "nhsuk-input nhsuk-input--width-10"}
            ),
            "ends_on": forms.DateInput(
                attrs={"type": "date", "class": "nhsuk-input nhsuk-input--width-10"}
            ),
        }
        error_messages = {
            "starts_on": {"invalid": "Enter a real date, like 2027-04-01."},
            "ends_on": {"invalid": "Enter a real date, like 2027-05-07."},
        }


CHECK_SETTING_FORMS: dict[str, type[forms.ModelForm]] = {
    "word": LocalWordForm,
    "pattern": LocalIdentifierPatternForm,
    "period": PreElectionPeriodForm,
}


class RetentionForm(DomainErrorsMixin, forms.ModelForm):
    """The organisation's retention periods. The bounds and their messages are the model's
    (sandbox.models.Organisation), so the page and the service say the same thing."""

    class Meta:
        model = Organisation
        fields = list(Organisation.RETENTION_FIELDS)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name, field in self.fields.items():
            unit = "days" if name.endswith("_days") else "months"
            bounds = Organisation._meta.get_field(name).validators[0].message  # type: ignore[union-attr]
            field.widget = forms.TextInput(
                attrs={"class": "nhsuk-input nhsuk-input--width-4", "inputmode": "numeric"}
            )
            field.error_messages.update(
                required=f"Enter a number of {unit}.",
                invalid=f"Enter a whole number of {unit}, like {field.initial or 12}.",
                min_value=bounds,
                max_value=bounds,
            )
