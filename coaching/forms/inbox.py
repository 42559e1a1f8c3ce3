"""The inbox's forms: its filters (from the query string), giving an item to someone, the
account's owner, and the cover rota with its notes."""

from typing import Any

from django import forms
from django.contrib.auth.models import User

from coaching.forms import SELECT_ATTRS, id_choice
from coaching.models import InboxItem
from coaching.selectors.inbox import InboxFilters
from coaching.services.account_cover import NOTE_MAX_LENGTH
from sandbox.forms import DomainErrorsMixin, TextField
from sandbox.models import Membership, WorkplaceAccount
from sandbox.selectors import display_name

STATES = [
    (InboxItem.State.OPEN, "Needs an answer"),
    (InboxItem.State.DONE, "Done"),
    (InboxItem.State.NO_REPLY, "Needs no reply"),
    ("any", "Any"),
]
ASSIGNED = [("", "Anyone"), ("me", "Me"), ("unassigned", "Nobody yet")]


class InboxFilterForm(forms.Form):
    """The inbox's filters. A bad value is reported and left out, never a 500."""

    account = id_choice("Account")
    state = forms.ChoiceField(
        label="State", required=False, choices=STATES, widget=forms.Select(attrs=SELECT_ATTRS)
    )
    assigned = forms.ChoiceField(
        label="Assigned to",
        required=False,
        choices=ASSIGNED,
        widget=forms.Select(attrs=SELECT_ATTRS),
    )
    kind = forms.ChoiceField(
        label="Kind",
        required=False,
        choices=[("", "Any kind"), *InboxItem.Kind.choices],
        widget=forms.Select(attrs=SELECT_ATTRS),
    )

    def __init__(self, data: Any, *, accounts: list[WorkplaceAccount]) -> None:
        super().__init__(data)
        self.fields["account"].choices = [  # type: ignore[attr-defined]
            ("", "Every account"),
            *[(str(a.pk), f"@{a.handle} ({a.get_platform_display()})") for a in accounts],
        ]

    @property
    def filters(self) -> InboxFilters:
        self.is_valid()
        data = self.cleaned_data
        state = data.get("state") or InboxItem.State.OPEN
        return InboxFilters(
            account_id=data.get("account"),
            state="" if state == "any" else state,
            assigned=data.get("assigned") or "",
            kind=data.get("kind") or "",
        )


def person_choices(people: list[Membership]) -> list[tuple[str, str]]:
    return [(str(m.user_id), display_name(m.user)) for m in people]


class AssignForm(forms.Form):
    """Who gets the item: "me", a person's id, or "" for nobody."""

    to = forms.ChoiceField(
        label="Give to",
        required=False,
        widget=forms.Select(attrs=SELECT_ATTRS),
        error_messages={"invalid_choice": "Choose someone from the organisation from the list."},
    )

    def __init__(self, *args: Any, people: list[Membership], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.people = {m.user_id: m.user for m in people}
        self.fields["to"].choices = [  # type: ignore[attr-defined]
            ("", "Nobody"),
            ("me", "Me"),
            *person_choices(people),
        ]

    def person(self, me: User) -> User | None:
        chosen = self.cleaned_data.get("to") or ""
        if chosen == "me":
            return me
        return self.people[int(chosen)] if chosen else None


class OwnerForm(forms.Form):
    owner = id_choice(
        "Owner",
        error_messages={"invalid_choice": "Choose someone from the organisation from the list."},
    )

    def __init__(self, *args: Any, people: list[Membership], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["owner"].choices = [("", "Nobody"), *person_choices(people)]  # type: ignore[attr-defined]


_DATE = {"type": "date", "class": "nhsuk-input nhsuk-input--width-10"}


class CoverForm(DomainErrorsMixin, forms.Form):
    person = id_choice(
        "Who covers",
        error_messages={"invalid_choice": "Choose someone from the organisation from the list."},
    )
    starts_on = forms.DateField(
        label="First day of cover",
        required=False,
        widget=forms.DateInput(attrs=_DATE),
        error_messages={"invalid": "Enter the first day as a date, like 2026-12-01."},
    )
    ends_on = forms.DateField(
        label="Last day of cover",
        required=False,
        widget=forms.DateInput(attrs=_DATE),
        error_messages={"invalid": "Enter the last day as a date, like 2026-12-12."},
    )
    handover_note = TextField(
        label="Handover note (optional)",
        required=False,
        max_length=NOTE_MAX_LENGTH,
        help_text="What the person covering should know: open conversations, what is "
        "planned, who to ask. They see it when their cover starts.",
        widget=forms.Textarea(attrs={"class": "nhsuk-textarea", "rows": 4}),
    )

    def __init__(self, *args: Any, people: list[Membership], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.people = {m.user_id: m.user for m in people}
        self.fields["person"].choices = [("", "Choose someone"), *person_choices(people)]  # type: ignore[attr-defined]

    def clean_person(self) -> int:
        chosen = self.cleaned_data.get("person")
        if chosen is None:
            raise forms.ValidationError("Choose who covers.")
        return int(chosen)


class HandbackForm(DomainErrorsMixin, forms.Form):
    note = TextField(
        label="Note for the owner",
        max_length=NOTE_MAX_LENGTH,
        help_text="What happened while you looked after the account, and what is still open.",
        widget=forms.Textarea(attrs={"class": "nhsuk-textarea", "rows": 4}),
        error_messages={"required": "Write the note for the owner first."},
    )
