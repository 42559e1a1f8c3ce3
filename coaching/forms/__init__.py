import datetime as dt
from collections.abc import Sequence
from typing import Any

from django import forms
from django.contrib.auth.models import User
from django.core.validators import EmailValidator
from django.db import models
from django.http import QueryDict

from coaching.models import NOTE_MAX_LENGTH, RUBRIC, AuditEvent, Review
from coaching.selectors import (
    OVERDUE,
    QueueChoices,
    QueueFilters,
    calendar,
)
from coaching.services import AnchoredNote
from sandbox.forms import (
    TEXT_HARD_CAP,
    DomainErrorsMixin,
    IdField,
    TextField,
    unsaveable_boxes,
    unsaveable_message,
)
from sandbox.http import id_from
from sandbox.models import (
    Cohort,
    Membership,
    WorkplaceAccount,
)
from sandbox.selectors import display_name

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
    note = TextField(
        label="Feedback for the trainee",
        required=False,
        strip=True,
        widget=forms.Textarea(attrs={"rows": 4, "class": "nhsuk-textarea"}),
        # A little slack over the limit so the service, not the form, words the message.
        max_length=NOTE_MAX_LENGTH * 10,
    )
    override_reason = TextField(
        label="Reason for overriding",
        required=False,
        max_length=1000,
        widget=forms.TextInput(attrs={"class": "nhsuk-input"}),
    )
    revision = IdField(widget=forms.HiddenInput)
    # The rubric and tags are passed to the service as sent, which words every refusal.
    safe = TextField(required=False, max_length=10)
    person_centred = TextField(required=False, max_length=10)
    effective = TextField(required=False, max_length=10)
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

    def clean(self) -> dict[str, Any]:
        """The notes on particular words and the suggested rewrite are not form fields
        (their number varies; anchored_notes_from and suggestion_from read them), so the
        rule for what can be saved is applied to them here, and a refusal keeps them."""
        cleaned = super().clean() or {}
        for name in unsaveable_boxes(self.data, ("anchor-", "suggestion-")):
            what = "Your suggested rewrite" if name.startswith("s") else "A note on words"
            self.add_error(None, unsaveable_message(what))
        return cleaned

    def scores(self) -> dict[str, str]:
        return {name: self.cleaned_data.get(name) or "" for name in RUBRIC}


class ApproveCleanForm(DomainErrorsMixin, forms.Form):
    """The queue's "approve the ticked posts": each ticked box sends ``draft:revision``,
    the revision its row showed, and one score for each quality applies to them all.
    Passed to the service as sent (review_approve_clean), which words every refusal."""

    approve = ValuesField(required=False)
    safe = TextField(required=False, max_length=10)
    person_centred = TextField(required=False, max_length=10)
    effective = TextField(required=False, max_length=10)

    def clean_approve(self) -> list[tuple[int, int]]:
        chosen = []
        for value in self.cleaned_data["approve"]:
            draft, _, revision = value.partition(":")
            draft_id, revision_id = id_from(draft), id_from(revision)
            if draft_id is None or revision_id is None:
                raise forms.ValidationError(
                    "A ticked post could not be read. Reload the queue and tick it again."
                )
            chosen.append((draft_id, revision_id))
        return chosen

    def chosen(self) -> set[tuple[int, int]]:
        """The pairs ticked, to tick them again when the form comes back refused."""
        if self.is_bound and hasattr(self, "cleaned_data"):
            return set(self.cleaned_data.get("approve") or ())
        return set()

    def scores(self) -> dict[str, str]:
        return {name: self.cleaned_data.get(name) or "" for name in RUBRIC}


class CalendarForm(forms.Form):
    """Which period of an account's calendar to show (GET): a week or a month, around a
    day. Anything unreadable shows this week, with the reason."""

    view = forms.ChoiceField(
        required=False,
        choices=[(calendar.WEEK, "Week"), (calendar.MONTH, "Month")],
        error_messages={"invalid_choice": "Choose a week or a month to show."},
    )
    date = forms.DateField(
        required=False,
        input_formats=["%Y-%m-%d"],
        error_messages={"invalid": "Enter a date like 2026-12-07 to show the period around it."},
    )

    def clean_date(self) -> dt.date | None:
        day: dt.date | None = self.cleaned_data.get("date")
        if day is not None and not calendar.EARLIEST <= day <= calendar.LATEST:
            raise forms.ValidationError(
                f"The calendar shows {calendar.EARLIEST.year} to {calendar.LATEST.year}."
            )
        return day

    def period(self, today: dt.date) -> tuple[str, dt.date]:
        """The view and day asked for, or this week where the form is refused."""
        if not self.is_valid():
            return calendar.WEEK, today
        return self.cleaned_data["view"] or calendar.WEEK, self.cleaned_data["date"] or today


def rubric_items(form: forms.Form) -> list[dict[str, object]]:
    """The rubric as templates/coaching/_rubric.html draws it, from a form with a field
    per quality: each quality's levels, the score chosen and its errors."""
    return [
        {
            "name": name,
            "title": title,
            "levels": sorted(levels.items()),
            "value": str(form[name].value() or ""),
            "errors": form.errors.get(name, []) if form.is_bound else [],
        }
        for name, (title, levels) in RUBRIC.items()
    ]


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
                post_index=id_from(data.get(f"anchor-{n}-post")),
                start=id_from(data.get(f"anchor-{n}-start")),
                end=id_from(data.get(f"anchor-{n}-end")),
            )
        )
    return notes


def suggestion_from(data: QueryDict, posts: list[str]) -> list[str]:
    """The suggested rewrite, one box per post of the revision (``suggestion-N``)."""
    return [str(data.get(f"suggestion-{n}", ""))[:TEXT_HARD_CAP] for n in range(len(posts))]


class CommentForm(DomainErrorsMixin, forms.Form):
    """A message in a draft's thread (the service words what is too long or empty)."""

    body = TextField(
        label="Add a comment",
        required=False,
        strip=True,
        max_length=NOTE_MAX_LENGTH * 10,
        widget=forms.Textarea(attrs={"rows": 3, "class": "nhsuk-textarea"}),
    )


class ReasonForm(DomainErrorsMixin, forms.Form):
    """A reason that goes in the audit log and on the banner (stop, retract)."""

    reason = TextField(
        label="Reason",
        max_length=500,
        widget=forms.TextInput(attrs={"class": "nhsuk-input"}),
        error_messages={"required": "Say why; everyone in the organisation will see it."},
    )
    organisation = IdField(required=False, widget=forms.HiddenInput)
    account = IdField(required=False, widget=forms.HiddenInput)


class LockdownForm(DomainErrorsMixin, forms.Form):
    """Locking an account down: why, and the confirmation that this is meant."""

    reason = TextField(
        label="What has happened?",
        help_text="Everyone who coaches or runs this organisation's accounts will be told this.",
        max_length=500,
        widget=forms.Textarea(attrs={"class": "nhsuk-textarea", "rows": 3}),
        error_messages={"required": "Say what has happened; everyone will be told."},
    )
    confirm = forms.BooleanField(
        label="I understand that publishing stops and the account must be reconnected",
        error_messages={
            "required": "Tick the box to confirm that you mean to lock the account down."
        },
    )


class DrillForm(DomainErrorsMixin, forms.Form):
    """Starting a lockdown drill: which account the made-up incident names, for which
    cohort, and what is happening."""

    account = forms.ModelChoiceField(
        queryset=WorkplaceAccount.objects.none(),
        label="The account in the incident",
        help_text="Only its name is used. Nothing happens to the real account.",
        empty_label=None,
        widget=forms.Select(attrs={"class": "nhsuk-select"}),
        error_messages={"invalid_choice": "Choose one of your organisation's accounts."},
    )
    cohort = forms.ModelChoiceField(
        queryset=Cohort.objects.none(),
        label="The cohort who take part",
        empty_label=None,
        widget=forms.Select(attrs={"class": "nhsuk-select"}),
        error_messages={"invalid_choice": "Choose one of your organisation's cohorts."},
    )
    incident = TextField(
        label="What is happening",
        help_text="Each trainee reads this when they start. @{account} becomes the account's name.",
        max_length=500,
        widget=forms.Textarea(attrs={"class": "nhsuk-textarea", "rows": 4}),
        error_messages={"required": "Say what is happening in the made-up incident."},
    )

    def __init__(self, *args: Any, organisation_id: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        accounts = WorkplaceAccount.objects.filter(organisation_id=organisation_id)
        self.fields["account"].queryset = accounts.order_by("handle")  # type: ignore[attr-defined]
        self.fields["cohort"].queryset = Cohort.objects.filter(  # type: ignore[attr-defined]
            organisation_id=organisation_id
        )


class PurgeForm(DomainErrorsMixin, forms.Form):
    """Why a draft's revisions with a patient's details are purged: kept on the purge
    record (never in the audit log, which cannot be changed if the reason quotes them)."""

    reason = TextField(
        label="Why are you purging these revisions?",
        help_text="For example: the trainee named a patient. Do not repeat the details.",
        required=False,  # The service's message, which the audit's reasons share, says why.
        max_length=500,
        widget=forms.Textarea(attrs={"class": "nhsuk-textarea", "rows": 3}),
    )


class ScenarioForm(DomainErrorsMixin, forms.Form):
    title = TextField(
        label="Title", max_length=120, widget=forms.TextInput(attrs={"class": "nhsuk-input"})
    )
    description = TextField(
        label="What the trainee should practise (optional)",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "class": "nhsuk-textarea"}),
    )
    script = TextField(
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


class _PersonChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: User) -> str:
        return display_name(obj)


SELECT_ATTRS = {"class": "nhsuk-select"}


def id_choice(label: str, **options: Any) -> forms.TypedChoiceField:
    """An optional choice of one of the organisation's rows by id (a cohort, a coach, an
    account): its choices are set by the form, for the person's organisation only."""
    return forms.TypedChoiceField(
        label=label,
        required=False,
        coerce=int,
        empty_value=None,
        widget=forms.Select(attrs=SELECT_ATTRS),
        **options,
    )


_DATE_ERRORS = {"invalid": "Enter a real date, like 2026-12-01."}


class AuditFilterForm(forms.Form):
    """The audit log's filters, read from the query string. Every choice is limited to
    the organisations the admin administers."""

    date_from = forms.DateField(
        label="From",
        required=False,
        widget=forms.DateInput(attrs={"type": "date", "class": "nhsuk-input"}),
        error_messages=_DATE_ERRORS,
    )
    date_to = forms.DateField(
        label="To",
        required=False,
        widget=forms.DateInput(attrs={"type": "date", "class": "nhsuk-input"}),
        error_messages=_DATE_ERRORS,
    )
    action = forms.ChoiceField(
        label="What happened",
        required=False,
        choices=[("", "Anything"), *AuditEvent.Action.choices],
        widget=forms.Select(attrs=SELECT_ATTRS),
    )
    actor = _PersonChoiceField(
        User.objects.none(),
        label="Who did it",
        required=False,
        empty_label="Anyone",
        widget=forms.Select(attrs=SELECT_ATTRS),
    )
    trainee = _PersonChoiceField(
        User.objects.none(),
        label="Trainee",
        required=False,
        empty_label="Any trainee",
        widget=forms.Select(attrs=SELECT_ATTRS),
    )
    draft = forms.IntegerField(
        label="Draft number",
        required=False,
        min_value=1,
        # The largest id the database can hold (a bigger number would not be a draft).
        max_value=2**63 - 1,
        widget=forms.NumberInput(attrs={"class": "nhsuk-input nhsuk-input--width-10"}),
        error_messages={
            "invalid": "Enter a draft number, like 42.",
            "min_value": "Draft numbers start at 1.",
            "max_value": "There is no draft with a number that large.",
        },
    )
    account = forms.ModelChoiceField(
        WorkplaceAccount.objects.none(),
        label="Account",
        required=False,
        empty_label="Any account",
        widget=forms.Select(attrs=SELECT_ATTRS),
    )

    def __init__(self, data: object, *, organisation_ids: Sequence[int]) -> None:
        super().__init__(data)  # type: ignore[arg-type]
        members = User.objects.filter(memberships__organisation_id__in=organisation_ids)
        trainees = User.objects.filter(
            memberships__organisation_id__in=organisation_ids,
            memberships__role=Membership.Role.TRAINEE,
        )
        choices = {
            "actor": members.order_by("first_name", "username", "pk").distinct(),
            "trainee": trainees.order_by("first_name", "username", "pk").distinct(),
            "account": WorkplaceAccount.objects.filter(organisation_id__in=organisation_ids),
        }
        for name, queryset in choices.items():
            self.fields[name].queryset = queryset  # type: ignore[attr-defined]

    def clean(self) -> dict[str, object]:
        data = super().clean() or {}
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and end < start:
            self.add_error("date_to", "The 'to' date must be the same as or after the 'from' date.")
        return data

    @property
    def filters(self) -> dict[str, object]:
        """The filters that are valid: a bad one is reported and left out, not fatal."""
        self.is_valid()
        return {name: self.cleaned_data.get(name) for name in self.fields}


class QueueFilterForm(forms.Form):
    """The queue's filters (GET). Choices come only from the coach's own organisations,
    so another organisation's trainee cannot even be named."""

    scope = forms.ChoiceField(
        label="Show",
        required=False,
        choices=[("mine", "Routed to me"), ("all", "Everyone in my organisation")],
        widget=forms.RadioSelect,
    )
    trainee = TextField(
        label="Trainee",
        help_text="Part of their name or username.",
        required=False,
        max_length=100,
        strip=True,
        widget=forms.TextInput(
            attrs={"class": "nhsuk-input nhsuk-input--width-20", "type": "search"}
        ),
        error_messages={"max_length": "Search for a trainee with at most 100 characters."},
    )
    cohort = id_choice("Cohort")
    account = id_choice("Account")
    age = forms.ChoiceField(
        label="Waiting",
        required=False,
        choices=[
            ("", "Any time"),
            ("1h", "More than 1 hour"),
            ("4h", "More than 4 hours"),
            (OVERDUE, "Past the review target"),
        ],
        widget=forms.Select(attrs=SELECT_ATTRS),
    )

    def __init__(self, data: QueryDict, *, choices: QueueChoices) -> None:
        super().__init__(data)
        options = {
            "cohort": lambda: [(cohort.pk, cohort.name) for cohort in choices.cohorts],
            "account": lambda: [(account.pk, f"@{account.handle}") for account in choices.accounts],
        }
        for name, listed in options.items():
            field = self.fields[name]
            # A callable: Django reads it only when the field is shown or a value is checked.
            field.choices = lambda listed=listed: [("", "All"), *listed()]  # type: ignore[attr-defined]
            field.error_messages["invalid_choice"] = (
                f"Choose a{'n' if name == 'account' else ''} {name} from the list: "
                "that one is not in your organisation, so it is not filtered on."
            )
        self.fields["scope"].error_messages["invalid_choice"] = "Choose mine or everyone."
        self.fields["age"].error_messages["invalid_choice"] = "Choose how long from the list."

    def filters(self) -> QueueFilters:
        """The valid filters; a bad one is left out (and shown as an error)."""
        self.is_valid()
        data = self.cleaned_data
        return QueueFilters(
            scope=data.get("scope") or "",
            trainee=data.get("trainee") or "",
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
        help_text="Leave empty if you do not know yet; you can clear it when you are back.",
    )
    cover_coach = forms.TypedChoiceField(
        label="Who covers for you",
        required=False,
        coerce=int,
        empty_value=None,
        widget=forms.Select(attrs={"class": "nhsuk-select"}),
        error_messages={"invalid_choice": "Choose a coach of your organisation from the list."},
        help_text="A coach of your organisation. If they are away too, your trainees' posts go "
        "to the coach pool.",
    )

    def __init__(self, *args: Any, coaches: list[User], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["cover_coach"].choices = [  # type: ignore[attr-defined]
            ("", "Nobody: the coach pool shares my trainees"),
            *[(coach.pk, display_name(coach)) for coach in coaches],
        ]


class AssignForm(forms.Form):
    coach = IdField(error_messages={"required": "Choose a coach.", "invalid": "Choose a coach."})
    cohort = IdField(required=False, error_messages={"invalid": "Choose a cohort."})


class ConnectForm(DomainErrorsMixin, forms.Form):
    """Connecting a Mastodon or Bluesky account. The service judges every value (address,
    handle, credential shape); this form carries them back to the page with its message.
    The secret is never sent back."""

    server = TextField(
        label="Server address",
        max_length=2000,
        widget=forms.URLInput(attrs={"class": "nhsuk-input nhsuk-input--width-20"}),
    )
    secret = TextField(
        max_length=1000,
        widget=forms.PasswordInput(
            attrs={"class": "nhsuk-input nhsuk-input--width-20", "autocomplete": "off"}
        ),
    )

    def __init__(self, platform: str, data: QueryDict | None = None) -> None:
        # Both platforms' forms share a page: their ids must differ, their names need not.
        super().__init__(data, auto_id=f"{platform}-%s")
        self.platform = platform
        self.fields["secret"].label = "Access token" if platform == "mastodon" else "App password"
        if platform == "bluesky":
            self.fields["server"].initial = "https://bsky.social"
            self.fields["handle"] = TextField(
                label="Handle",
                max_length=253,
                widget=forms.TextInput(
                    attrs={
                        "class": "nhsuk-input nhsuk-input--width-20",
                        "placeholder": "nhsdemoboard.bsky.social",
                        "autocapitalize": "none",
                        "spellcheck": "false",
                    }
                ),
            )
            self.order_fields(["server", "handle", "secret"])
        else:
            self.fields["server"].widget.attrs["placeholder"] = "https://mastodon.social"
            # Optional, but without them a lockdown cannot revoke the token at Mastodon.
            self.fields["client_id"] = TextField(
                label="Client key (optional)",
                help_text="Shown above the access token. With the client secret, it lets "
                "Sandpit revoke the token at once if the account is ever locked down.",
                max_length=200,
                required=False,
                widget=forms.TextInput(
                    attrs={"class": "nhsuk-input nhsuk-input--width-20", "autocomplete": "off"}
                ),
            )
            self.fields["client_secret"] = TextField(
                label="Client secret (optional)",
                max_length=1000,
                required=False,
                widget=forms.PasswordInput(
                    attrs={"class": "nhsuk-input nhsuk-input--width-20", "autocomplete": "off"}
                ),
            )


class SingleSignOnForm(DomainErrorsMixin, forms.Form):
    """An organisation's OpenID Connect provider. The service judges every value (the
    issuer's address, the domains); the secret is never sent back to the page."""

    enabled = forms.BooleanField(label="Let people sign in with this provider", required=False)
    provider_name = TextField(
        error_messages={"required": "Enter what people call your sign-in, like NHSmail."},
        label="What people call it",
        help_text="Shown on the sign-in button, e.g. NHSmail or Microsoft Entra ID.",
        max_length=60,
        widget=forms.TextInput(attrs={"class": "nhsuk-input nhsuk-input--width-20"}),
    )
    issuer = TextField(
        error_messages={
            "required": "Enter the issuer's full address, like https://login.microsoftonline.com/your-tenant-id/v2.0."
        },
        label="Issuer",
        help_text="For Entra ID: https://login.microsoftonline.com/<tenant ID>/v2.0",
        max_length=300,
        widget=forms.URLInput(attrs={"class": "nhsuk-input", "spellcheck": "false"}),
    )
    client_id = TextField(
        error_messages={
            "required": "Enter the client ID (Entra ID calls it the Application (client) ID)."
        },
        label="Client ID",
        help_text="Entra ID calls it the Application (client) ID.",
        max_length=200,
        widget=forms.TextInput(attrs={"class": "nhsuk-input nhsuk-input--width-30"}),
    )
    client_secret = TextField(
        label="Client secret",
        help_text="The secret's value. Leave empty to keep the one saved already.",
        required=False,
        max_length=1000,
        widget=forms.PasswordInput(
            attrs={"class": "nhsuk-input nhsuk-input--width-30", "autocomplete": "off"}
        ),
    )
    email_domains = TextField(
        error_messages={"required": "Enter at least one email domain, like nhs.net."},
        label="Email domains",
        help_text="Only people with an email address at one of these may sign in this way, "
        "one per line, e.g. nhs.net.",
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3, "class": "nhsuk-textarea", "spellcheck": "false"}),
    )
    required = forms.BooleanField(
        label="Make it the only way in: members may not sign in with a password",
        required=False,
    )


class SignOnEmailForm(forms.Form):
    """Finding an organisation's provider by a work email address."""

    email = TextField(
        label="Work email address",
        max_length=254,
        error_messages={
            "required": "Enter your work email address.",
            "max_length": "Enter an email address like name@nhs.net.",
        },
        widget=forms.EmailInput(
            attrs={"class": "nhsuk-input nhsuk-input--width-30", "autocomplete": "email"}
        ),
    )

    def clean_email(self) -> str:
        email: str = self.cleaned_data["email"]
        EmailValidator(message="Enter an email address like name@nhs.net.")(email)
        return email
