"""Looking after an account: its owner (set by an admin), and the cover rota (kept by the
owner, the coaches and the admins), with the handover note to the cover and the handback
note to the owner. Who is on for a day is read in coaching/selectors/inbox.py
(``on_duty``), the one place for that rule."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from coaching import notifications
from coaching.models import AccountCover, AuditEvent, InboxItem
from coaching.selectors.inbox import assignable_people, may_arrange_cover
from coaching.services.inbox import items_arrived
from coaching.services.lifecycle import _audit
from sandbox import access
from sandbox.errors import InputProblems, InvalidInput, InvalidState, NotAllowed
from sandbox.models import WorkplaceAccount
from sandbox.selectors import display_name

NOTE_MAX_LENGTH = 2000
LONGEST_COVER = dt.timedelta(days=366)
COVER_ONLY = "Only the account's owner, or a coach or admin of its organisation, can arrange cover."


def _member_of(account: WorkplaceAccount, person: User, *, field: str) -> None:
    if not assignable_people(account.organisation_id).filter(user=person).exists():
        raise InvalidInput("Choose someone from the organisation.", field=field)


def _clean_note(note: str, *, field: str) -> str:
    note = (note or "").strip()
    if len(note) > NOTE_MAX_LENGTH:
        raise InvalidInput(f"Keep the note under {NOTE_MAX_LENGTH} characters.", field=field)
    return note


def account_owner_set(*, by: User, account: WorkplaceAccount, owner: User | None) -> None:
    """An admin names who looks after the account day to day (or nobody)."""
    access.require_admin(by, account.organisation_id)
    if owner is not None:
        _member_of(account, owner, field="owner")
    with transaction.atomic():
        WorkplaceAccount.objects.filter(pk=account.pk).update(owner=owner)
        account.owner = owner
        _audit(
            AuditEvent.Action.ACCOUNT_OWNER_SET,
            organisation_id=account.organisation_id,
            actor=by,
            account=account,
            detail=f"Owner: {display_name(owner) if owner is not None else 'nobody'}",
        )


def _date_problems(
    starts_on: dt.date | None, ends_on: dt.date | None, today: dt.date
) -> list[InvalidInput]:
    """Every problem with a period's dates, each beside its field."""
    problems = []
    if starts_on is None:
        problems.append(InvalidInput("Enter the first day of cover.", field="starts_on"))
    elif starts_on < today:
        problems.append(
            InvalidInput("Cover cannot start in the past: start today or later.", field="starts_on")
        )
    if ends_on is None:
        problems.append(InvalidInput("Enter the last day of cover.", field="ends_on"))
    elif starts_on is not None and ends_on < starts_on:
        problems.append(
            InvalidInput(
                "The last day of cover must be on or after the first day.", field="ends_on"
            )
        )
    elif starts_on is not None and ends_on - starts_on > LONGEST_COVER:
        problems.append(
            InvalidInput("Cover can last a year at most: end it sooner.", field="ends_on")
        )
    return problems


def cover_add(
    *,
    by: User,
    account: WorkplaceAccount,
    person: User,
    starts_on: dt.date | None,
    ends_on: dt.date | None,
    handover_note: str = "",
    today: dt.date | None = None,
) -> AccountCover:
    """Put someone on the rota for the account from ``starts_on`` to ``ends_on``. Periods
    never overlap: the account's row is locked while the rota is checked, so two people
    adding cover at once cannot both add overlapping periods."""
    if not may_arrange_cover(by, account):
        raise NotAllowed(COVER_ONLY)
    today = today or timezone.localdate()
    problems = InputProblems()
    problems.check(lambda: _member_of(account, person, field="person"))
    if account.owner_id == person.pk:
        problems.found.append(
            InvalidInput(
                "The owner cannot cover for themselves: choose someone else.", field="person"
            )
        )
    problems.found.extend(_date_problems(starts_on, ends_on, today))
    note = problems.check(lambda: _clean_note(handover_note, field="handover_note"))
    problems.raise_any()
    assert starts_on is not None and ends_on is not None
    with transaction.atomic():
        WorkplaceAccount.objects.select_for_update().filter(pk=account.pk).first()
        clash = (
            AccountCover.objects.filter(
                account=account, starts_on__lte=ends_on, ends_on__gte=starts_on
            )
            .select_related("person")
            .first()
        )
        if clash is not None:
            raise InvalidInput(
                f"{display_name(clash.person)} already covers @{account.handle} from "
                f"{clash.starts_on:%d %B %Y} to {clash.ends_on:%d %B %Y}. Choose dates that "
                "do not overlap, or remove that period first.",
                field="starts_on",
            )
        cover = AccountCover.objects.create(
            account=account,
            person=person,
            starts_on=starts_on,
            ends_on=ends_on,
            handover_note=note or "",
            created_by=by,
        )
        _audit(
            AuditEvent.Action.COVER_ADDED,
            organisation_id=account.organisation_id,
            actor=by,
            account=account,
            detail=f"{display_name(person)} from {starts_on} to {ends_on}",
        )
    handovers_due(today=today, account=account)
    return cover


def cover_remove(*, by: User, cover: AccountCover, today: dt.date | None = None) -> None:
    """Take a period off the rota. One that has ended stays, as the record of who covered."""
    account = cover.account
    if not may_arrange_cover(by, account):
        raise NotAllowed(COVER_ONLY)
    today = today or timezone.localdate()
    if cover.ends_on < today:
        raise InvalidState("That cover has already ended: it stays on the record.")
    with transaction.atomic():
        _cut_short(AccountCover.objects.filter(pk=cover.pk), today)
        _audit(
            AuditEvent.Action.COVER_REMOVED,
            organisation_id=account.organisation_id,
            actor=by,
            account=account,
            detail=f"{display_name(cover.person)} from {cover.starts_on} to {cover.ends_on}",
        )


def _cut_short(covers: QuerySet[AccountCover], today: dt.date) -> None:
    """Take periods off the rota from today: one not begun goes; one already running ends
    yesterday and stays, with its notes, as the record of who covered."""
    covers.filter(starts_on__gte=today).delete()
    covers.filter(starts_on__lt=today).update(ends_on=today - dt.timedelta(days=1))


def cover_person_left(*, person: User, organisation_id: int, today: dt.date | None = None) -> None:
    """Someone left the organisation (deactivated or erased): they no longer own its
    accounts, cover them from today, or hold its open inbox posts, so new posts and
    alerts go to whoever else looks after the account, or wait for the staff."""
    today = today or timezone.localdate()
    WorkplaceAccount.objects.filter(organisation_id=organisation_id, owner=person).update(
        owner=None
    )
    InboxItem.objects.filter(
        account__organisation_id=organisation_id,
        assigned_to=person,
        state=InboxItem.State.OPEN,
    ).update(assigned_to=None)
    _cut_short(
        AccountCover.objects.filter(
            account__organisation_id=organisation_id, person=person, ends_on__gte=today
        ),
        today,
    )


def cover_handback(
    *, by: User, cover: AccountCover, note: str, today: dt.date | None = None
) -> AccountCover:
    """The cover leaves a note for the owner on what happened while they were away."""
    if cover.person_id != by.pk:
        raise NotAllowed("Only the person covering can leave the handback note.")
    today = today or timezone.localdate()
    if cover.starts_on > today:
        raise InvalidState("Your cover has not started yet: leave the note when it has.")
    note = _clean_note(note, field="note")
    if not note:
        raise InvalidInput("Write the note for the owner first.", field="note")
    account = cover.account
    with transaction.atomic():
        AccountCover.objects.filter(pk=cover.pk).update(handback_note=note)
        cover.handback_note = note
        _audit(
            AuditEvent.Action.HANDBACK_LEFT,
            organisation_id=account.organisation_id,
            actor=by,
            account=account,
            detail=f"For the cover from {cover.starts_on} to {cover.ends_on}",
        )
        owner = account.owner
        if owner is not None and owner.pk != by.pk:
            transaction.on_commit(lambda: notifications.handback(cover=cover, owner=owner))
    return cover


def handovers_due(*, today: dt.date | None = None, account: WorkplaceAccount | None = None) -> int:
    """Give each cover whose period has started the owner's handover note: once each (a
    conditional UPDATE on ``handover_told_at``). Run by the beat, and at once when cover is
    added for today."""
    today = today or timezone.localdate()
    due = AccountCover.objects.filter(
        starts_on__lte=today, ends_on__gte=today, handover_told_at__isnull=True
    ).select_related("account", "person")
    if account is not None:
        due = due.filter(account=account)
    told = 0
    for cover in due:
        with transaction.atomic():
            if AccountCover.objects.filter(pk=cover.pk, handover_told_at__isnull=True).update(
                handover_told_at=timezone.now()
            ):
                told += len(notifications.handover(cover=cover))
    return told


# The demo (seed_demo announces it: sandbox.signals.demo_seeded) ----------------------------

DEMO_HANDOVER = (
    "The walk-in centre's Sunday hours change this weekend: point people to the page on "
    "the website. Anything about a named patient goes to PALS, never answered in public."
)
DEMO_POSTS = [
    # remote id, kind, handle, name, text, minutes ago, risks
    (
        "demo-inbox-1",
        "mention",
        "amara_okafor",
        "Amara Okafor",
        "@NHSDemoBoard is the walk-in centre open this Sunday? The website still says 8 till 8",
        20,
        [],
    ),
    (
        "demo-inbox-2",
        "mention",
        "kelderby_dad",
        "Dev Patel",
        "@NHSDemoBoard my dad Raj Patel, NHS no 943 476 5919, has waited 6 hours in A&E "
        "at Kelderby General. Is anyone going to see him??",
        95,
        [
            {
                "code": "patient-identifier",
                "message": "It has what looks like an NHS number and a patient's name.",
            }
        ],
    ),
    (
        "demo-inbox-3",
        "mention",
        "localnewsdesk",
        "Kelderby Echo",
        "@NHSDemoBoard can you confirm the flu clinic at Ward 4 has moved to Saturdays?",
        300,
        [],
    ),
    (
        "demo-inbox-4",
        "mention",
        "thankful_nan",
        "Maureen",
        "@NHSDemoBoard thank you to the lovely nurses on the children's ward last week",
        600,
        [],
    ),
]


def on_demo_seeded(
    *, organisation: object, account: WorkplaceAccount, users: dict[str, User], **_: object
) -> None:
    """The demo's cover (the coach, from today for a week, with the owner's handover note)
    and a few posts in its inbox, given to whoever is on. Run again, it adds nothing."""
    today = timezone.localdate()
    if not AccountCover.objects.filter(account=account, ends_on__gte=today).exists():
        AccountCover.objects.create(
            account=account,
            person=users["coach"],
            starts_on=today,
            ends_on=today + dt.timedelta(days=6),
            handover_note=DEMO_HANDOVER,
            created_by=users["admin"],
        )
    now = timezone.now()
    arrived = []
    for remote_id, kind, handle, name, text, minutes, risks in DEMO_POSTS:
        item, created = InboxItem.objects.get_or_create(
            account=account,
            remote_id=remote_id,
            defaults={
                "kind": kind,
                "author_handle": handle,
                "author_name": name,
                "text": text,
                "risks": risks,
                "posted_at": now - dt.timedelta(minutes=minutes),
            },
        )
        if created:
            arrived.append(item)
    items_arrived(account=account, items=arrived)
    handovers_due(today=today, account=account)
