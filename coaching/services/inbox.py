"""The inbox's state changes: who an item is assigned to, and whether it is dealt with;
new items going to whoever looks after the account; the alert past the response target.

Who may do what is the rule in coaching/selectors/inbox.py: the coaches and admins of the
account's organisation assign, close and reopen items. Closing and reopening are
conditional UPDATEs (two people closing the same item at once cannot both win); giving an
item to someone is the last word (whoever gives it last, it is theirs). Each change is one
audit event.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from coaching import notifications
from coaching.models import AccountCover, AuditEvent, InboxItem
from coaching.selectors.inbox import assignable_people, on_duty, on_duty_for
from coaching.services.lifecycle import _audit
from sandbox import access
from sandbox.errors import InvalidInput, InvalidState
from sandbox.models import Organisation, WorkplaceAccount
from sandbox.selectors import display_name

State = InboxItem.State
OVERDUE_BATCH = 200

ALREADY: dict[str, str] = {
    State.DONE: "This post was already marked done",
    State.NO_REPLY: "This post was already marked as needing no reply",
    State.OPEN: "This post already needs an answer",
}


def items_arrived(*, account: WorkplaceAccount, items: Sequence[InboxItem]) -> None:
    """New items fetched for ``account``: assign them to whoever looks after it today,
    and tell them. Called by the fetch (coaching.services.fetching) after it stores them.
    With nobody on duty (no owner, no cover) the items wait unassigned for the staff."""
    items = [item for item in items if item.assigned_to_id is None]
    if not items:
        return
    person = on_duty(account).person
    # An owner or cover who has since left the organisation gets nothing: the items wait
    # for the staff, as with nobody on.
    if (
        person is None
        or not assignable_people(account.organisation_id).filter(user=person).exists()
    ):
        return
    InboxItem.objects.filter(pk__in=[item.pk for item in items], assigned_to__isnull=True).update(
        assigned_to=person
    )
    for item in items:
        item.assigned_to = person
    newest_first = sorted(items, key=lambda item: item.posted_at, reverse=True)
    transaction.on_commit(
        lambda: notifications.inbox_items_arrived(
            person=person, account_handle=account.handle, items=newest_first
        )
    )


def inbox_assign(*, by: User, item: InboxItem, to: User | None) -> InboxItem:
    """Give the item to a person of the organisation (any role: a trainee may draft the
    answer), or to nobody."""
    organisation_id = item.account.organisation_id
    access.require_reviewer(by, organisation_id)
    if to is not None and not assignable_people(organisation_id).filter(user=to).exists():
        raise InvalidInput("Choose someone from the organisation to give this post to.", field="to")
    with transaction.atomic():
        InboxItem.objects.filter(pk=item.pk).update(assigned_to=to)
        item.assigned_to = to
        _audit(
            AuditEvent.Action.INBOX_ASSIGNED,
            organisation_id=organisation_id,
            actor=by,
            account=item.account,
            detail=(
                f"@{item.author_handle}'s post {item.remote_id} to "
                + (display_name(to) if to is not None else "nobody")
            ),
        )
        if to is not None and to.pk != by.pk:
            transaction.on_commit(
                lambda: notifications.inbox_item_assigned(item=item, to=to, by=by)
            )
    return item


def _move(*, by: User, item: InboxItem, to: str, allowed: Sequence[str], action: str) -> InboxItem:
    access.require_reviewer(by, item.account.organisation_id)
    # Closing records who and when; reopening forgets them (the audit log keeps both).
    handled_by, handled_at = (None, None) if to == State.OPEN else (by, timezone.now())
    with transaction.atomic():
        moved = InboxItem.objects.filter(pk=item.pk, state__in=allowed).update(
            state=to, handled_by=handled_by, handled_at=handled_at
        )
        if not moved:
            current = InboxItem.objects.filter(pk=item.pk).values_list("state", flat=True).first()
            raise InvalidState(ALREADY.get(current or "", "This post has changed") + ".")
        _audit(
            action,
            organisation_id=item.account.organisation_id,
            actor=by,
            account=item.account,
            detail=f"@{item.author_handle}'s post {item.remote_id}",
        )
        if to != State.OPEN:
            notifications.inbox_notices_resolved(item_id=item.pk)
    item.state = to
    item.handled_by = handled_by
    item.handled_at = handled_at
    return item


def inbox_done(*, by: User, item: InboxItem) -> InboxItem:
    """Answered (or dealt with some other way)."""
    return _move(
        by=by, item=item, to=State.DONE, allowed=[State.OPEN], action=AuditEvent.Action.INBOX_DONE
    )


def inbox_no_reply(*, by: User, item: InboxItem) -> InboxItem:
    """Nothing to answer: thanks, spam, a conversation between others."""
    return _move(
        by=by,
        item=item,
        to=State.NO_REPLY,
        allowed=[State.OPEN],
        action=AuditEvent.Action.INBOX_NO_REPLY,
    )


def inbox_reopen(*, by: User, item: InboxItem) -> InboxItem:
    """Back to needing an answer. Its overdue alert is not given again."""
    return _move(
        by=by,
        item=item,
        to=State.OPEN,
        allowed=[State.DONE, State.NO_REPLY],
        action=AuditEvent.Action.INBOX_REOPENED,
    )


def inbox_overdue_alerts(*, now: dt.datetime | None = None) -> int:
    """Tell whoever looks after each account about each open item past its organisation's
    response target: once per item. The conditional UPDATE on ``overdue_told_at`` decides,
    so two beats running at once never alert twice. Returns the number of alerts."""
    now = now or timezone.now()
    targets = dict(
        Organisation.objects.filter(accounts__inbox_items__state=State.OPEN)
        .distinct()
        .values_list("pk", "response_target_hours")
    )
    if not targets:
        return 0
    past = Q()
    for organisation_id, hours in targets.items():
        # Waiting that long since it was posted and since Sandpit fetched it: an account's
        # first fetch brings old posts, which are news, not a hundred alerts at once.
        cut = now - dt.timedelta(hours=hours)
        past |= Q(account__organisation_id=organisation_id, posted_at__lt=cut, fetched_at__lt=cut)
    today = timezone.localdate(now)
    covered = AccountCover.objects.filter(
        account=OuterRef("account"), starts_on__lte=today, ends_on__gte=today
    )
    # Only items someone can be told of: items on accounts nobody looks after would
    # otherwise fill every batch and hold back everyone else's alerts.
    someone = Q(account__owner__isnull=False) | Q(Exists(covered)) | Q(assigned_to__isnull=False)
    overdue = list(
        InboxItem.objects.filter(
            past, someone, state=State.OPEN, gone_at__isnull=True, overdue_told_at__isnull=True
        )
        .select_related("account__owner", "assigned_to")
        .defer(*WorkplaceAccount.secrets_of("account"))
        .order_by("posted_at", "pk")[:OVERDUE_BATCH]
    )
    accounts = list({item.account_id: item.account for item in overdue}.values())
    duty = on_duty_for(accounts, timezone.localdate(now))
    told = 0
    for item in overdue:
        person = duty[item.account_id].person or item.assigned_to
        if person is None:
            # Nobody to tell yet: the item stays untold, so naming an owner or a cover
            # later brings its alert on the next beat.
            continue
        with transaction.atomic():
            claimed = InboxItem.objects.filter(pk=item.pk, overdue_told_at__isnull=True).update(
                overdue_told_at=now
            )
            if not claimed:
                continue
            told += len(
                notifications.inbox_overdue(
                    item=item,
                    person=person,
                    hours=targets[item.account.organisation_id],
                )
            )
    return told
