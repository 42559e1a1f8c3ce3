"""The inbox's reads: who may see which items, the page's filters, the conversation around
an item, and who is looking after an account on a given day (the cover rota, else the
owner). Each rule is here once; the services and pages ask these."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.contrib.auth.models import User
from django.db.models import OuterRef, Q, QuerySet, Subquery
from django.utils import timezone

from coaching.models import AccountCover, InboxItem, Publication
from coaching.selectors.retention import PATIENT_DETAIL_CHECKS
from sandbox.checks import run_checks
from sandbox.models import Membership, WorkplaceAccount
from sandbox.selectors import (
    REVIEWER_ROLES,
    active_memberships,
    check_context,
    display_name,
    standings,
)

INBOX_PAGE_SIZE = 20

# Who may see the inbox, the one rule:
# - the coaches and admins of the account's organisation see every item and act on it
#   (assign, done, needs no reply, reopen);
# - any other active member of the organisation (a trainee) sees only the items assigned
#   to them, to draft an answer through review; deciding that an item is dealt with, or
#   who deals with it, stays with the staff who answer for the account.


def inbox_visible_to(user: User) -> QuerySet[InboxItem]:
    """The items ``user`` may see (the rule above)."""
    mine = standings(user)
    staff_of = [s.organisation_id for s in mine if s.role in REVIEWER_ROLES]
    member_of = [s.organisation_id for s in mine]
    return InboxItem.objects.filter(
        Q(account__organisation_id__in=staff_of)
        | Q(account__organisation_id__in=member_of, assigned_to=user)
    )


def may_see_inbox(user: User) -> bool:
    """Whether the inbox is for this person at all (the header's link): staff, or anyone
    with an item assigned to them."""
    if any(s.role in REVIEWER_ROLES for s in standings(user)):
        return True
    return inbox_visible_to(user).exists()


def inbox_accounts(user: User) -> QuerySet[WorkplaceAccount]:
    """The accounts whose inbox the person may look at (the account filter's choices)."""
    member_of = [s.organisation_id for s in standings(user)]
    return WorkplaceAccount.objects.filter(organisation_id__in=member_of).only(
        "pk", "handle", "platform", "organisation_id"
    )


@dataclass(frozen=True)
class InboxFilters:
    account_id: int | None = None
    # "open" (needs an answer, the default), "done", "no_reply", or "" for any state.
    state: str = InboxItem.State.OPEN
    # "me", "unassigned", or "" for anyone.
    assigned: str = ""
    kind: str = ""


def _own_post_text() -> Subquery:
    # The account's own published post an item answers, read in the same query as the
    # item (never one query per item).
    return Subquery(
        Publication.objects.filter(
            account_id=OuterRef("account_id"),
            remote_id=OuterRef("in_reply_to_remote_id"),
        )
        .exclude(remote_id="")
        .values("text")[:1]
    )


def inbox_items(user: User, filters: InboxFilters) -> QuerySet[InboxItem]:
    """The page's items, newest first, with what each row shows in the same query."""
    items = inbox_visible_to(user)
    if filters.account_id is not None:
        items = items.filter(account_id=filters.account_id)
    if filters.state:
        items = items.filter(state=filters.state)
    if filters.assigned == "me":
        items = items.filter(assigned_to=user)
    elif filters.assigned == "unassigned":
        items = items.filter(assigned_to__isnull=True)
    if filters.kind:
        items = items.filter(kind=filters.kind)
    return (
        items.select_related("account", "assigned_to", "handled_by")
        .defer(*WorkplaceAccount.secrets_of("account"))
        .annotate(answers_own_post=_own_post_text())
        .order_by("-posted_at", "-pk")
    )


def inbox_item_for(user: User, pk: int) -> InboxItem | None:
    """One item the person may see, or None (a 404: nothing said about other items)."""
    return (
        inbox_visible_to(user)
        .select_related("account__organisation", "assigned_to", "handled_by")
        .defer(*WorkplaceAccount.secrets_of("account"))
        .annotate(answers_own_post=_own_post_text())
        .filter(pk=pk)
        .first()
    )


@dataclass(frozen=True)
class ConversationEntry:
    """One post of a conversation, as the item page shows it: someone's inbox item, or
    the account's own published post."""

    when: dt.datetime
    text: str
    handle: str
    name: str
    own: bool
    item: InboxItem | None = None
    url: str = ""


def conversation(item: InboxItem) -> list[ConversationEntry]:
    """The conversation around ``item``, oldest first: the account's other inbox items of
    the same conversation, and the account's own published posts any of them answer (or
    that began it). Two queries whatever its length."""
    if item.conversation_id:
        items = list(
            InboxItem.objects.filter(
                account_id=item.account_id, conversation_id=item.conversation_id
            )
        )
    else:
        items = [item]
    answered = {i.in_reply_to_remote_id for i in items if i.in_reply_to_remote_id}
    if item.conversation_id:
        answered.add(item.conversation_id)
    own = Publication.objects.filter(
        account_id=item.account_id, remote_id__in=answered, status=Publication.Status.PUBLISHED
    ).only("text", "published_at", "created_at", "remote_url", "account_id")
    account = item.account
    entries = [
        ConversationEntry(
            when=other.posted_at,
            text=other.text,
            handle=other.author_handle,
            name=other.author_name or other.author_handle,
            own=False,
            item=other,
            url=other.remote_url,
        )
        for other in items
    ] + [
        ConversationEntry(
            when=post.published_at or post.created_at,
            text=post.text,
            handle=account.handle,
            name=account.display_name,
            own=True,
            url=post.remote_url,
        )
        for post in own
    ]
    return sorted(entries, key=lambda entry: entry.when)


def assignable_people(organisation_id: int) -> QuerySet[Membership]:
    """Who an item may be assigned to: the organisation's active members, any role."""
    return (
        active_memberships()
        .filter(organisation_id=organisation_id, user__is_active=True)
        .select_related("user")
        .order_by("user__first_name", "user__last_name", "user__username")
    )


def assignable_by_organisation(organisation_ids: Sequence[int]) -> dict[int, list[Membership]]:
    """``assignable_people`` of several organisations in one query, by organisation."""
    people: dict[int, list[Membership]] = {}
    for membership in (
        active_memberships()
        .filter(organisation_id__in=list(organisation_ids), user__is_active=True)
        .select_related("user")
        .order_by("user__first_name", "user__last_name", "user__username")
    ):
        people.setdefault(membership.organisation_id, []).append(membership)
    return people


# Who is looking after an account -----------------------------------------------------------


@dataclass(frozen=True)
class OnDuty:
    """Who looks after an account on a day: ``person`` (None when it has no owner and no
    cover), and the cover period when it is someone covering."""

    person: User | None
    cover: AccountCover | None = None


def covers_on(account_ids: Iterable[int], day: dt.date) -> dict[int, AccountCover]:
    """Each account's cover period that includes ``day`` (periods never overlap)."""
    return {
        cover.account_id: cover
        for cover in AccountCover.objects.filter(
            account_id__in=list(account_ids), starts_on__lte=day, ends_on__gte=day
        ).select_related("person")
    }


def on_duty_for(
    accounts: Sequence[WorkplaceAccount], day: dt.date | None = None
) -> dict[int, OnDuty]:
    """Who looks after each account on ``day`` (today by default): the person on the
    cover rota that day, else the owner. The one place for that rule. One query for the
    rota, whatever the number of accounts (the owners come with the accounts)."""
    day = day or timezone.localdate()
    covers = covers_on((a.pk for a in accounts), day)
    return {
        account.pk: (
            OnDuty(person=covers[account.pk].person, cover=covers[account.pk])
            if account.pk in covers
            else OnDuty(person=account.owner)
        )
        for account in accounts
    }


def on_duty(account: WorkplaceAccount, day: dt.date | None = None) -> OnDuty:
    return on_duty_for([account], day)[account.pk]


def cover_rota(
    account: WorkplaceAccount, viewer: User, *, today: dt.date | None = None
) -> list[AccountCover]:
    """The account's cover periods that have not ended, or ended in the last 30 days (so
    a handback note is still there to read). Whoever keeps the rota sees it all; someone
    who only covers sees their own periods, and a handover note once their period has
    begun (it is written for then)."""
    today = today or timezone.localdate()
    rota = AccountCover.objects.filter(
        account=account, ends_on__gte=today - dt.timedelta(days=30)
    ).select_related("person", "created_by")
    if may_arrange_cover(viewer, account):
        return list(rota)
    own = list(rota.filter(person=viewer))
    for cover in own:
        if cover.starts_on > today:
            cover.handover_note = ""
    return own


def may_see_cover(user: User, account: WorkplaceAccount) -> bool:
    """Whoever keeps the account's rota, and anyone on it."""
    return (
        may_arrange_cover(user, account)
        or AccountCover.objects.filter(account=account, person=user).exists()
    )


def may_arrange_cover(user: User, account: WorkplaceAccount) -> bool:
    """The owner, and the coaches and admins of the account's organisation, keep its
    cover rota."""
    if account.owner_id == user.pk and any(
        s.organisation_id == account.organisation_id for s in standings(user)
    ):
        return True
    return any(
        s.organisation_id == account.organisation_id and s.role in REVIEWER_ROLES
        for s in standings(user)
    )


# The header's line: who is covering today, for the organisation's staff -------------------


def covering_lines(user: User, day: dt.date | None = None) -> list[str]:
    """ "@Handle: Sam Patel is covering until 12 Dec (owner: Alex Jones)", for each account
    of the staff member's organisations that someone is covering today. One query, asked
    only by the header of a full page (never by htmx fragments or polls), and none for a
    trainee. Not cached: a cached line would make a page's query count depend on what
    the cache held, and the rota's index answers this at once."""
    day = day or timezone.localdate()
    staff_of = [s.organisation_id for s in standings(user) if s.role in REVIEWER_ROLES]
    if not staff_of:
        return []
    covers = (
        AccountCover.objects.filter(
            account__organisation_id__in=staff_of, starts_on__lte=day, ends_on__gte=day
        )
        .select_related("person", "account__owner")
        .only(
            "ends_on",
            "person__first_name",
            "person__last_name",
            "person__username",
            "account__handle",
            "account__owner__first_name",
            "account__owner__last_name",
            "account__owner__username",
        )
        .order_by("account__handle")
    )
    return [_covering_line(cover) for cover in covers]


def _covering_line(cover: AccountCover) -> str:
    owner = cover.account.owner
    whose = f" (owner: {display_name(owner)})" if owner is not None else ""
    return (
        f"@{cover.account.handle}: {display_name(cover.person)} is covering until "
        f"{cover.ends_on.day} {cover.ends_on:%b}{whose}"
    )


PATIENT_DETAILS_WARNING = "Contains what looks like a patient's details: do not quote it."
OTHER_RISKS_WARNING = "The risk checks found something in it: take care before answering."


def patient_details_in(item: InboxItem) -> list[str]:
    """The patient-detail checks that flag the item's words: those stored when it was
    fetched, and those the organisation's checks find now (its settings may be stricter
    than when it arrived)."""
    stored = {str(risk.get("code")) for risk in item.risks if isinstance(risk, dict)}
    context = check_context(item.account.organisation_id)
    found = {
        finding.code
        for finding in run_checks(item.text, context=context)
        if finding.severity == "block"
    }
    return sorted((stored | found) & set(PATIENT_DETAIL_CHECKS))


def risk_heading(item: InboxItem) -> str:
    """What the item's flags say first, in plain words ("" when the checks found nothing)."""
    if not item.risks:
        return ""
    codes = {risk.get("code") for risk in item.risks if isinstance(risk, dict)}
    return PATIENT_DETAILS_WARNING if codes & set(PATIENT_DETAIL_CHECKS) else OTHER_RISKS_WARNING
