"""What erasing a person would do, and whether it is allowed: the reads behind the
confirmation page and coaching.services.erasure (which applies the same refusals)."""

from __future__ import annotations

import re

from django.contrib.auth.models import User
from django.db.models import Q, QuerySet

from coaching.models import Publication
from sandbox.models import Draft, Membership
from sandbox.selectors import admin_organisation_ids, display_name

# How an erased person is named everywhere (display_name reads first_name), and the prefix
# of their pseudonymous reference (their username from then on).
FORMER_MEMBER = "A former member of staff"
REFERENCE_PREFIX = "former-member-"

# A publication that reached the real account, in whole or in part (a thread that failed
# half-way has its first post live), or was live until a coach retracted it.
WENT_LIVE = Q(status__in=[Publication.Status.PUBLISHED, Publication.Status.RETRACTED]) | ~Q(
    remote_id=""
)
ON_ITS_WAY = (Publication.Status.QUEUED, Publication.Status.SENDING, Publication.Status.UNCONFIRMED)


def is_erased(person: User) -> bool:
    return (
        person.username.startswith(REFERENCE_PREFIX)
        and person.first_name == FORMER_MEMBER
        and not person.email
        and not person.has_usable_password()
    )


def confirmation_words(person: User) -> str:
    """What the admin types to confirm: the name the page shows."""
    return " ".join(display_name(person).split())


def identifying_terms(person: User) -> list[str]:
    """What names the person in free text written about them (the audit log's details):
    their full name and email, and their username where it stood in for either."""
    terms = [person.get_full_name().strip(), person.email.strip()]
    if not person.email or not person.get_full_name().strip():
        terms.append(person.username)
    return [term for term in terms if term]


def whole_word(term: str) -> re.Pattern[str]:
    """The term as literal text standing as a whole word (not inside a longer name or
    address), in any case: the same rule as the database's coaching_auditevent_pseudonymise."""
    return re.compile(r"(?<![\w.@+-])" + re.escape(term) + r"(?![\w@+-])", re.IGNORECASE)


def drafts_that_went_live(person: User) -> QuerySet[Draft]:
    return Draft.objects.filter(
        author=person, pk__in=Publication.objects.filter(WENT_LIVE).values("draft_id")
    )


def live_posts(person: User) -> QuerySet[Publication]:
    """Their posts that are on a real account now: listed on the confirmation page so
    someone can decide whether to retract them before (or after) erasing."""
    return (
        Publication.objects.filter(draft__author=person, status=Publication.Status.PUBLISHED)
        .select_related("account__organisation", "draft")
        .order_by("-published_at")
    )


def refusals(*, by: User, person: User) -> list[str]:
    """Every reason the person may not be erased by this admin now; empty when they may."""
    name = display_name(person)
    if person.pk == by.pk:
        return ["You cannot erase yourself. Ask another admin to do it."]
    if person.is_staff or person.is_superuser:
        return [f"{name} runs this installation: ask the installation's operators."]
    reasons = []
    memberships = list(Membership.objects.filter(user=person).select_related("organisation"))
    administered = set(admin_organisation_ids(by))
    if any(m.organisation_id not in administered for m in memberships):
        reasons.append(
            f"{name} also belongs to an organisation you do not administer, whose records "
            "would go too: an admin of every organisation they belong to, or the "
            "installation's operators, must erase them."
        )
    for membership in memberships:
        organisation = membership.organisation
        # Another organisation is not named to an admin who does not run it.
        called = organisation.name if organisation.pk in administered else "another organisation"
        if organisation.records_on_hold and organisation.pk in administered:
            reason = organisation.records_on_hold_reason
            reasons.append(
                f"{called}'s records are on legal hold{f' ({reason})' if reason else ''}: "
                "nobody who belongs to it can be erased until the hold is lifted."
            )
        if (
            membership.is_active
            and membership.role == Membership.Role.ADMIN
            and not Membership.objects.filter(
                organisation=organisation, role=Membership.Role.ADMIN, is_active=True
            )
            .exclude(user=person)
            .exists()
        ):
            reasons.append(
                f"{name} is the only admin of {called}. Someone else must be made an admin "
                "first, so the organisation is never left without one."
            )
    on_its_way = Publication.objects.filter(draft__author=person, status__in=ON_ITS_WAY).count()
    if on_its_way:
        reasons.append(
            f"{on_its_way} of {name}'s posts {'is' if on_its_way == 1 else 'are'} on the way "
            "to the real account (queued, publishing or not confirmed). Wait until it is live "
            "or has failed, or cancel it, then erase them: the record of what was published "
            "must be complete."
        )
    return reasons
