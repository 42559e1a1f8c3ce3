"""What an organisation's admins read about their people: the list and its filters,
one person, invitations, imports, second factors and the check settings."""

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

from allauth.mfa.models import Authenticator
from django.contrib.auth.models import User
from django.db.models import (
    Exists,
    OuterRef,
    Q,
    QuerySet,
)

from coaching.models import (
    Invitation,
    PeopleImport,
)
from sandbox.models import (
    CheckSeverity,
    LocalIdentifierPattern,
    LocalWord,
    Membership,
    PreElectionPeriod,
)
from sandbox.selectors import (
    admin_organisation_ids,
)


def second_factor_overview(organisation_ids: Sequence[int]) -> QuerySet[Membership]:
    """The organisations' people, each with whether they have a passkey or an authenticator
    app (has_second_factor) and recovery codes (has_recovery_codes), for the lost-device page."""
    factors = Authenticator.objects.filter(user_id=OuterRef("user_id"))
    return (
        Membership.objects.filter(organisation_id__in=organisation_ids)
        .select_related("user", "organisation")
        .annotate(
            has_second_factor=Exists(
                factors.filter(type__in=[Authenticator.Type.TOTP, Authenticator.Type.WEBAUTHN])
            ),
            has_recovery_codes=Exists(factors.filter(type=Authenticator.Type.RECOVERY_CODES)),
        )
        .order_by("organisation__name", "user__last_name", "user__first_name", "user__username")
    )


# People, for their organisation's admins -----------------------------------------------------

PERSON_STATUSES = {
    "active": "Active",
    "invited": "Invited, not yet signed in",
    "deactivated": "Deactivated",
}


def token_hash(token: str) -> str:
    """How an invitation's token is stored and found: only its SHA-256."""
    return hashlib.sha256(token.encode()).hexdigest()


def _pending_invitation() -> Exists:
    return Exists(
        Invitation.objects.filter(
            membership_id=OuterRef("pk"), accepted_at__isnull=True, replaced_at__isnull=True
        )
    )


@dataclass(frozen=True)
class PeopleFilters:
    search: str = ""
    role: str = ""
    cohort_id: int | None = None
    coach_id: int | None = None
    status: str = ""


def people_of(organisation_id: int, filters: PeopleFilters) -> QuerySet[Membership]:
    """The organisation's memberships, searched and filtered, in name order, with what a
    row shows joined in (one query for any number of rows)."""
    people = (
        Membership.objects.filter(organisation_id=organisation_id)
        .select_related("user", "cohort", "coach")
        .annotate(invited=_pending_invitation())
    )
    if filters.search:
        words = filters.search.split()[:5]
        for word in words:
            people = people.filter(
                Q(user__first_name__icontains=word)
                | Q(user__last_name__icontains=word)
                | Q(user__email__icontains=word)
                | Q(user__username__icontains=word)
            )
    if filters.role:
        people = people.filter(role=filters.role)
    if filters.cohort_id:
        people = people.filter(cohort_id=filters.cohort_id)
    if filters.coach_id:
        people = people.filter(coach_id=filters.coach_id)
    if filters.status == "deactivated":
        people = people.filter(is_active=False)
    elif filters.status == "invited":
        people = people.filter(is_active=True, invited=True)
    elif filters.status == "active":
        people = people.filter(is_active=True, invited=False)
    return people.order_by("user__first_name", "user__last_name", "user__username", "pk")


def person_for(user: User, pk: int) -> Membership | None:
    """A membership of an organisation the user administers (None for any other, so the
    page answers 404 and says nothing of other organisations)."""
    return (
        Membership.objects.filter(pk=pk, organisation_id__in=admin_organisation_ids(user))
        .select_related("user", "organisation", "cohort", "coach")
        .annotate(invited=_pending_invitation())
        .first()
    )


def latest_invitation(membership: Membership) -> Invitation | None:
    return membership.invitations.order_by("-created_at").first()


def invitation_for_token(token: str) -> Invitation | None:
    return (
        Invitation.objects.select_related("membership__user", "membership__organisation")
        .filter(token_hash=token_hash(token))
        .first()
    )


def people_import_for(user: User, pk: int) -> PeopleImport | None:
    return (
        PeopleImport.objects.filter(pk=pk, organisation_id__in=admin_organisation_ids(user))
        .select_related("organisation", "started_by")
        .defer("rows")
        .first()
    )


def people_imports_of(organisation_id: int, limit: int = 10) -> QuerySet[PeopleImport]:
    return (
        PeopleImport.objects.filter(organisation_id=organisation_id)
        .select_related("started_by")
        .defer("rows", "results")[:limit]
    )


@dataclass
class CheckSettings:
    severities: dict[str, str]
    words: list[LocalWord]
    patterns: list[LocalIdentifierPattern]
    periods: list[PreElectionPeriod]


def check_settings_of(organisation_id: int) -> CheckSettings:
    return CheckSettings(
        severities=dict(
            CheckSeverity.objects.filter(organisation_id=organisation_id).values_list(
                "code", "severity"
            )
        ),
        words=list(LocalWord.objects.filter(organisation_id=organisation_id).order_by("word")),
        patterns=list(
            LocalIdentifierPattern.objects.filter(organisation_id=organisation_id).order_by("label")
        ),
        periods=list(PreElectionPeriod.objects.filter(organisation_id=organisation_id)),
    )


def check_setting_for(user: User, kind: str, pk: int) -> object | None:
    """A local word, pattern or period of an organisation the user administers."""
    model = {"word": LocalWord, "pattern": LocalIdentifierPattern, "period": PreElectionPeriod}[
        kind
    ]
    return model.objects.filter(  # type: ignore[attr-defined]
        pk=pk, organisation_id__in=admin_organisation_ids(user)
    ).first()
