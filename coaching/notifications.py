"""Telling people things: the one place that writes Notification rows and sends their email.

In-app notices are always written. Email follows the user's NotificationPreference and
goes only after the surrounding transaction commits (``transaction.on_commit``): a
rolled-back decision never emails anyone, and a mail server that is down is logged and
never undoes the action that caused the notice.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import threading
from collections.abc import Iterable, Iterator
from functools import partial

from django.conf import settings
from django.contrib.auth.models import User
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.db.models import Exists, OuterRef, Prefetch, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.text import Truncator

from coaching.models import (
    AccountCover,
    DraftComment,
    InboxItem,
    Lockdown,
    LockdownDrill,
    Notification,
    NotificationPreference,
    Publication,
    Review,
)
from coaching.selectors import (
    WAITING,
    QueueFilters,
    is_away,
    past_target,
    queue_page,
    responsible_coaches,
    reviewer_name,
)
from coaching.selectors.inbox import patient_details_in
from sandbox import page_cache
from sandbox.models import Draft, Membership
from sandbox.selectors import REVIEWER_ROLES, display_name

logger = logging.getLogger(__name__)

Kind = Notification.Kind

# Which preference switches a kind's email on. Kinds not listed are in-app only.
EMAIL_PREFERENCE: dict[str, str] = {
    Kind.REVIEWED: "email_reviews",
    Kind.SUBMITTED: "email_submissions",
    Kind.PAST_TARGET: "email_past_target",
    # An inbox item past the organisation's response target is the same kind of news.
    Kind.INBOX_OVERDUE: "email_past_target",
}
COACH_PREFERENCES = ("email_submissions", "email_past_target", "daily_digest")
PREFERENCE_FIELDS = ("email_reviews", *COACH_PREFERENCES)

MESSAGE_MAX_LENGTH = 300  # Notification.message
DIGEST_OLDEST_ITEMS = 5
PAST_TARGET_BATCH = 200


def absolute(path: str) -> str:
    """A link that works from an email client: SITE_URL plus the path."""
    return settings.SITE_URL.rstrip("/") + path


def preferences_for(users: Iterable[User]) -> dict[int, NotificationPreference]:
    """Each user's preferences in one query; the model's defaults for anyone who has
    never saved theirs (unsaved instances, so reading costs no writes)."""
    ids = {user.pk for user in users}
    saved = {p.user_id: p for p in NotificationPreference.objects.filter(user_id__in=ids)}
    return {pk: saved.get(pk) or NotificationPreference(user_id=pk) for pk in ids}


_batch = threading.local()


@contextlib.contextmanager
def notices_in_one_insert() -> Iterator[None]:
    """Notices given inside (all but "past the target", which is written one by one) are
    inserted together on the way out, in one statement: for telling a batch of posts."""
    pending: list[Notification] = []
    _batch.pending = pending
    try:
        yield
    finally:
        _batch.pending = None
    Notification.objects.bulk_create(pending)


def notify(
    *,
    users: Iterable[User],
    kind: str,
    message: str,
    url: str = "",
    draft: Draft | None = None,
) -> list[Notification]:
    """Tell each user once: a notice in the header and, if they asked for it, an email.

    Returns the notices actually written. "Past the target" is said once per draft and
    user: a second call (or a second sweep racing this one) writes nothing and emails
    no one, because the database's unique constraint decides who got there first.
    """
    people = list({user.pk: user for user in users}.values())
    if not people:
        return []
    message = Truncator(message).chars(MESSAGE_MAX_LENGTH)
    if kind == Kind.PAST_TARGET:
        written = []
        for user in people:
            # get_or_create catches the IntegrityError of a concurrent insert in a
            # savepoint and reads the winner's row instead, so exactly one caller creates.
            notice, created = Notification.objects.get_or_create(
                user=user,
                draft=draft,
                kind=kind,
                submitted_at=draft.submitted_at if draft else None,
                defaults={"message": message, "url": url},
            )
            if created:
                written.append(notice)
    else:
        written = [
            Notification(user=user, kind=kind, message=message, url=url, draft=draft)
            for user in people
        ]
        pending = getattr(_batch, "pending", None)
        if pending is not None:
            pending.extend(written)  # inserted with the rest of the batch
        else:
            Notification.objects.bulk_create(written)
    preference = EMAIL_PREFERENCE.get(kind)
    if preference and written:
        wanted = preferences_for(people)
        recipients = [
            notice.user.email
            for notice in written
            if notice.user.email and getattr(wanted[notice.user_id], preference)
        ]
        if recipients:
            body = f"{message}\n\n{absolute(url)}" if url else message
            _email_after_commit(subject=message, body=body, recipients=recipients)
    return written


def _email_after_commit(*, subject: str, body: str, recipients: list[str]) -> None:
    # Mail is network I/O: never inside the caller's transaction, never able to undo it.
    transaction.on_commit(partial(_send, subject=subject, body=body, recipients=recipients))


def _send(*, subject: str, body: str, recipients: list[str]) -> int:
    """One message per person (nobody sees another's address), over one connection.
    Returns how many were sent; a failure is logged, not raised."""
    footer = "\n\n--\nYou get this email from Sandpit. Choose what we email you: " + absolute(
        reverse("notification_preferences")
    )
    messages = [
        EmailMessage(subject=f"Sandpit: {subject}", body=body + footer, to=[address])
        for address in recipients
    ]
    try:
        with get_connection() as connection:
            return int(connection.send_messages(messages) or 0)
    except Exception:  # any backend error: the notice is already in the app
        logger.exception("Could not send %d notification email(s): %s", len(messages), subject)
        return 0


# What services call (one line each) -------------------------------------------------------


def _post_words(draft: Draft) -> str:
    return _quoted(draft.text)


def _quoted(text: str) -> str:
    # One line: the words go in email subjects, where a newline is not allowed.
    return "“" + Truncator(" ".join(text.split())).chars(60) + "”"


def _public_words(item: InboxItem) -> str:
    """A public post's words for a notice, unless the checks found a patient's details
    in it (as fetched, or as the organisation's checks read it now): those stay on the
    item's page, not copied into notices and emails."""
    if patient_details_in(item):
        return "(its words are not repeated here: they may hold a patient's details)"
    return _quoted(item.text)


def submission_received(*, draft: Draft) -> list[Notification]:
    """A trainee submitted: tell the coaches whose queue it lands in (named coach, their
    cover while away, or the pool). A post passed by spot-check is not waiting for them,
    but they are told, because it publishes unless one of them holds it."""
    coaches, _ = responsible_coaches(
        trainee_id=draft.author_id, organisation_id=draft.account.organisation_id
    )
    message = f"{display_name(draft.author)} sent a post for review: {_post_words(draft)}"
    if draft.status == Draft.Status.APPROVED:
        message = (
            f"{display_name(draft.author)}'s post was passed by spot-check and publishes after the "
            f"delay unless you hold it: {_post_words(draft)}"
        )
    return notify(
        users=[coach for coach in coaches if coach.pk != draft.author_id],
        kind=Kind.SUBMITTED,
        message=message,
        url=reverse("review", args=[draft.pk]),
        draft=draft,
    )


def review_mode_changed(*, trainee: User, heading: str, reason: str) -> list[Notification]:
    return notify(
        users=[trainee],
        kind=Kind.MODE_CHANGED,
        message=f"{heading}: {reason}"[:300],
        url=reverse("timeline"),
    )


_DECIDED: dict[str, str] = {
    Review.Decision.APPROVE: "approved your post",
    Review.Decision.REQUEST_CHANGES: "asked for changes to your post",
    Review.Decision.REJECT: "rejected your post",
}


def account_locked_down(*, lockdown: Lockdown) -> list[Notification]:
    """Every coach and admin of the organisation, in the app and by email whatever their
    preferences: a hijacked account is everyone's business at once, and no preference
    was ever offered for it."""
    account = lockdown.account
    people = list(
        User.objects.filter(
            memberships__organisation_id=lockdown.organisation_id,
            memberships__role__in=REVIEWER_ROLES,
            memberships__is_active=True,
            is_active=True,
        ).distinct()
    )
    url = reverse("lockdown", args=[lockdown.pk])
    message = (
        f"@{account.handle} on {account.get_platform_display()} is locked down by "
        f"{display_name(lockdown.started_by)}: {lockdown.reason}"
    )
    written = notify(users=people, kind=Kind.LOCKDOWN, message=message, url=url)
    recipients = [person.email for person in people if person.email]
    if recipients:
        revoked = (
            lockdown.revoke_outcome
            if lockdown.revoked
            else f"The platform did not revoke the tokens ({lockdown.revoke_outcome}): "
            "revoke them by hand at the platform."
        )
        body = (
            f"{message}\n\nPublishing to @{account.handle} is stopped. {revoked} Sandpit has "
            "forgotten the account's tokens.\n\nThe recovery checklist: " + absolute(url)
        )
        _email_after_commit(
            subject=f"@{account.handle} is locked down", body=body, recipients=recipients
        )
    return written


def inbox_items_arrived(
    *, person: User, account_handle: str, items: list[InboxItem]
) -> list[Notification]:
    """New posts on an account came to the person looking after it: one notice for the
    whole batch, linking to the newest (or the inbox, for several)."""
    first = items[0]
    if len(items) == 1:
        message = f"@{first.author_handle} wrote to @{account_handle}: {_public_words(first)}"
        url = reverse("inbox_item", args=[first.pk])
    else:
        message = f"{len(items)} new posts to @{account_handle} are waiting for an answer"
        url = reverse("inbox") + "?assigned=me"
    return notify(users=[person], kind=Kind.INBOX, message=message, url=url)


def inbox_item_assigned(*, item: InboxItem, to: User, by: User) -> list[Notification]:
    return notify(
        users=[to],
        kind=Kind.INBOX,
        message=(
            f"{display_name(by)} gave you @{item.author_handle}'s post to "
            f"@{item.account.handle}: {_public_words(item)}"
        ),
        url=reverse("inbox_item", args=[item.pk]),
    )


def inbox_overdue(*, item: InboxItem, person: User, hours: int) -> list[Notification]:
    return notify(
        users=[person],
        kind=Kind.INBOX_OVERDUE,
        message=(
            f"@{item.author_handle}'s post to @{item.account.handle} has waited more than "
            f"{hours} hours for an answer: {_public_words(item)}"
        ),
        url=reverse("inbox_item", args=[item.pk]),
    )


def handover(*, cover: AccountCover) -> list[Notification]:
    """A cover period has started: the cover hears what the owner left them."""
    account = cover.account
    note = f" The owner's note: {_quoted(cover.handover_note)}" if cover.handover_note else ""
    return notify(
        users=[cover.person],
        kind=Kind.HANDOVER,
        message=(
            f"You are looking after @{account.handle} until {cover.ends_on.day} "
            f"{cover.ends_on:%b}: its inbox comes to you.{note}"
        ),
        url=reverse("account_cover", args=[account.pk]),
    )


def handback(*, cover: AccountCover, owner: User) -> list[Notification]:
    """The cover left a note for the owner, for when they are back."""
    return notify(
        users=[owner],
        kind=Kind.HANDOVER,
        message=(
            f"{display_name(cover.person)} left you a note on looking after "
            f"@{cover.account.handle}: {_quoted(cover.handback_note)}"
        ),
        url=reverse("account_cover", args=[cover.account_id]),
    )


def review_decided(*, review: Review) -> list[Notification]:
    """A coach decided: tell the trainee who wrote the post."""
    draft = review.draft
    who = reviewer_name(review)
    return notify(
        users=[draft.author],
        kind=Kind.REVIEWED,
        message=f"{who} {_DECIDED[review.decision]} {_post_words(draft)}",
        url=reverse("draft_detail", args=[draft.pk]),
        draft=draft,
    )


def comment_added(*, comment: DraftComment, to: Iterable[User]) -> list[Notification]:
    """Someone wrote in a draft's thread: tell the others in the conversation (the page
    each of them reads it on: the trainee's draft page, a coach's review page)."""
    draft = comment.draft
    notices_resolved(draft_id=draft.pk, event="commented", user=comment.author)
    words = "“" + Truncator(" ".join(comment.body.split())).chars(80) + "”"
    told = []
    for person in to:
        if person.pk == comment.author_id:
            continue
        page = "draft_detail" if person.pk == draft.author_id else "review"
        told += notify(
            users=[person],
            kind=Kind.COMMENT,
            message=f"{display_name(comment.author)} commented on {_post_words(draft)}: {words}",
            url=reverse(page, args=[draft.pk]) + "#comments",
            draft=draft,
        )
    return told


def publication_settled(*, publication: Publication) -> list[Notification]:
    """A post went live, or failed for good: its author hears either way, and when it
    failed so do the coaches who can publish it again."""
    draft = publication.draft
    if publication.status == Publication.Status.PUBLISHED:
        notices_resolved(draft_id=draft.pk, event="published")
        return notify(
            users=[draft.author],
            kind=Kind.PUBLICATION,
            message=f"Your post {_post_words(draft)} is live on @{publication.account.handle}",
            url=reverse("draft_detail", args=[draft.pk]),
            draft=draft,
        )
    coaches, _ = responsible_coaches(
        trainee_id=draft.author_id, organisation_id=publication.account.organisation_id
    )
    told = notify(
        users=[draft.author],
        kind=Kind.PUBLICATION,
        message=f"Your post {_post_words(draft)} could not be published: {publication.error}",
        url=reverse("draft_detail", args=[draft.pk]),
        draft=draft,
    )
    return told + notify(
        users=[coach for coach in coaches if coach.pk != draft.author_id],
        kind=Kind.PUBLICATION,
        message=f"{display_name(draft.author)}'s post {_post_words(draft)} could not be published: "
        f"{publication.error}",
        url=reverse("publishing"),
        draft=draft,
    )


# Notices that resolve themselves ------------------------------------------------------------

# What dealing with a draft settles, by lifecycle action (coaching.services.lifecycle._move
# calls this after every move) or "published": the kinds of that draft's earlier notices
# that are no longer anyone's to act on.
_WAITING_FOR_A_COACH = (Kind.SUBMITTED, Kind.PAST_TARGET)
RESOLVED_BY: dict[str, tuple[str, ...]] = {
    # A decision takes the post out of every coach's queue.
    "approve": _WAITING_FOR_A_COACH,
    "request_changes": _WAITING_FOR_A_COACH,
    "reject": _WAITING_FOR_A_COACH,
    # The trainee sent it again: the decision they were told of is answered.
    "submit": (Kind.REVIEWED,),
    "withdraw": (*_WAITING_FOR_A_COACH, Kind.REVIEWED),
    # Live: the approval, a spot-check pass, an earlier failure are all history now.
    "published": (*_WAITING_FOR_A_COACH, Kind.REVIEWED, Kind.PUBLICATION),
    # Answering a thread (for the one who answers only) deals with what they were told of it.
    "commented": (Kind.COMMENT,),
}


def notices_resolved(*, draft_id: int, event: str, user: User | None = None) -> int:
    """Mark done the draft's notices that ``event`` (a lifecycle action, "published" or
    "commented") deals with, for everyone who had one, or only ``user``. Returns how many."""
    kinds = RESOLVED_BY.get(event)
    if not kinds:
        return 0
    notices = Notification.objects.filter(
        draft_id=draft_id, kind__in=kinds, resolved_at__isnull=True
    )
    if user is not None:
        notices = notices.filter(user=user)
    return notices.update(resolved_at=timezone.now())


# How many settled publications one pass tells about, in one transaction.
TELL_BATCH = 100


def tell_settled() -> int:
    """Tell people about every publication that settled (published or failed) and that
    nobody has heard of yet, oldest first, a batch per transaction: one task message
    covers a burst of posts. Each is told once: the rows are locked while their notices
    are written and marked told in the same commit, and a second pass running at once
    skips them. Returns how many publications were told about."""
    told = 0
    while True:
        with transaction.atomic():
            batch = list(
                Publication.objects.filter(
                    told_at__isnull=True,
                    status__in=[Publication.Status.PUBLISHED, Publication.Status.FAILED],
                )
                .select_related("draft__author", "draft__current_revision", "account")
                .select_for_update(skip_locked=True, of=("self",))
                .order_by("pk")[:TELL_BATCH]
            )
            organisations = {p.account.organisation_id for p in batch}
            with page_cache.writes_for(*organisations), notices_in_one_insert():
                for publication in batch:
                    publication_settled(publication=publication)
                Publication.objects.filter(pk__in=[p.pk for p in batch]).update(
                    told_at=timezone.now()
                )
        told += len(batch)
        if len(batch) < TELL_BATCH:
            return told


def lockdown_notices_resolved(*, lockdown: Lockdown) -> int:
    """A closed lockdown's alerts are dealt with: every recovery step is done."""
    return Notification.objects.filter(
        kind=Kind.LOCKDOWN,
        url=reverse("lockdown", args=[lockdown.pk]),
        resolved_at__isnull=True,
    ).update(resolved_at=timezone.now())


def drill_started(*, drill: LockdownDrill, trainees: Iterable[User]) -> list[Notification]:
    """Each trainee of the drill's cohort, in the app only: it is practice, and it waits
    for them (the clock starts when they press Start)."""
    return notify(
        users=trainees,
        kind=Kind.DRILL,
        message=(
            f"Lockdown drill from {display_name(drill.started_by)}: @{drill.account.handle} "
            "may have been hacked. Open it when you are ready; the clock starts when you "
            "press Start."
        ),
        url=reverse("drill_run", args=[drill.pk]),
    )


def drill_notices_resolved(*, drill: LockdownDrill, user: User | None = None) -> int:
    """A drill's notices are dealt with: the trainee finished it (``user``), or it ended."""
    notices = Notification.objects.filter(
        kind=Kind.DRILL, url=reverse("drill_run", args=[drill.pk]), resolved_at__isnull=True
    )
    if user is not None:
        notices = notices.filter(user=user)
    return notices.update(resolved_at=timezone.now())


def inbox_notices_resolved(*, item_id: int) -> int:
    """An item marked done or as needing no reply, or answered: what people were told of
    it (new, given to them, overdue) is dealt with and leaves the badge."""
    return Notification.objects.filter(
        kind__in=(Kind.INBOX, Kind.INBOX_OVERDUE),
        url=reverse("inbox_item", args=[item_id]),
        resolved_at__isnull=True,
    ).update(resolved_at=timezone.now())


# Periodic: past the review target, and the daily digest ------------------------------------


def past_target_sweep(*, now: dt.datetime | None = None) -> int:
    """Tell the responsible coaches of each draft that has just gone past its target.
    Safe to run as often as beat likes: each coach hears once per draft."""
    now = now or timezone.now()
    already_told = Notification.objects.filter(
        kind=Kind.PAST_TARGET, draft_id=OuterRef("pk"), submitted_at=OuterRef("submitted_at")
    )
    overdue = (
        past_target(Draft.objects.filter(status__in=WAITING), now=now)
        .exclude(Exists(already_told))
        .select_related("author", "account__organisation", "current_revision")
        .order_by("submitted_at", "pk")[:PAST_TARGET_BATCH]
    )
    routes: dict[tuple[int, int], list[User]] = {}
    told = 0
    for draft in overdue:
        key = (draft.author_id, draft.account.organisation_id)
        if key not in routes:
            routes[key] = responsible_coaches(
                trainee_id=draft.author_id, organisation_id=draft.account.organisation_id
            )[0]
        hours = draft.account.organisation.review_target_hours
        told += len(
            notify(
                users=[coach for coach in routes[key] if coach.pk != draft.author_id],
                kind=Kind.PAST_TARGET,
                message=(
                    f"{display_name(draft.author)}'s post {_post_words(draft)} has waited "
                    f"more than {hours} hours for review"
                ),
                url=reverse("review", args=[draft.pk]),
                draft=draft,
            )
        )
    return told


def _digest_due(now: dt.datetime, *, any_hour: bool) -> bool:
    return any_hour or timezone.localtime(now).hour >= settings.DIGEST_HOUR


def send_due_digests(*, now: dt.datetime | None = None, any_hour: bool = False) -> int:
    """Send today's digest to each coach who wants one and has not had it. Run hourly by
    beat; from DIGEST_HOUR (local time) onwards a coach's first run of the day sends it.

    Each coach's day is claimed with a conditional update before anything is sent, so two
    beats (or beat and an operator's ``send_digests``) never send the same digest twice.
    Returns how many digests were emailed.
    """
    now = now or timezone.now()
    if not _digest_due(now, any_hour=any_hour):
        return 0
    today = timezone.localdate(now)
    coaches = [
        coach
        for coach in User.objects.filter(
            is_active=True, memberships__role__in=REVIEWER_ROLES, memberships__is_active=True
        )
        .exclude(email="")
        .distinct()
        .prefetch_related(
            Prefetch(
                "memberships",
                queryset=Membership.objects.filter(role__in=REVIEWER_ROLES, is_active=True),
                to_attr="reviewer_memberships",
            )
        )
        # A coach away from every organisation they coach in has no queue to hear about.
        if not all(is_away(membership, today) for membership in coach.reviewer_memberships)
    ]
    # Everyone gets a preference row, so there is a row to claim (defaults: digest on).
    NotificationPreference.objects.bulk_create(
        [NotificationPreference(user=coach) for coach in coaches], ignore_conflicts=True
    )
    sent = 0
    for coach in coaches:
        claimed = (
            NotificationPreference.objects.filter(user=coach, daily_digest=True)
            .filter(Q(digest_sent_on__isnull=True) | Q(digest_sent_on__lt=today))
            .update(digest_sent_on=today)
        )
        if claimed:
            sent += _send_digest(coach, now=now)
    return sent


def _send_digest(coach: User, *, now: dt.datetime) -> int:
    # The coach's queue as they first see it (routed to them, for a coach), so the digest
    # and the page give the same numbers.
    queue = queue_page(coach, QueueFilters(), now=now)
    waiting, past_target = queue.waiting, queue.overdue
    if not waiting:
        return 0  # nothing to say; the claim stands, so no empty digest later today
    lines = [
        f"Good morning {display_name(coach)}.",
        "",
        f"{waiting} post{'s' if waiting != 1 else ''} waiting for review, "
        f"{past_target} past the review target.",
        "",
        "Waiting longest:",
    ]
    for row in queue.rows[:DIGEST_OLDEST_ITEMS]:
        lines.append(
            f"- {row.trainee}: {_quoted(row.text)}, sent "
            f"{timezone.localtime(row.submitted_at):%d %b %H:%M}\n"
            f"  {absolute(reverse('review', args=[row.draft_id]))}"
        )
    lines += ["", f"The queue: {absolute(reverse('queue'))}"]
    return _send(
        subject=f"{waiting} post{'s' if waiting != 1 else ''} waiting for review",
        body="\n".join(lines),
        recipients=[coach.email],
    )


# The user's own notices and preferences ----------------------------------------------------


def notification_open(*, notification: Notification, by: User) -> Notification:
    """Mark one of the user's notices read (opening it)."""
    assert notification.user_id == by.pk, "views fetch notices through the owner"
    if notification.read_at is None:
        notification.read_at = timezone.now()
        Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(
            read_at=notification.read_at
        )
    return notification


def notifications_mark_all_read(*, by: User) -> int:
    # The ones the badge counts: a notice already dealt with reads as done as it is.
    return Notification.objects.filter(
        user=by, read_at__isnull=True, resolved_at__isnull=True
    ).update(read_at=timezone.now())


def preferences_set(*, by: User, **choices: bool) -> NotificationPreference:
    """Save the user's email choices; switches not given keep their value."""
    unknown = set(choices) - set(PREFERENCE_FIELDS)
    assert not unknown, f"not a preference: {unknown}"
    preference, _ = NotificationPreference.objects.update_or_create(user=by, defaults=choices)
    return preference


# Invitations (coaching.services.people) ---------------------------------------------------


def email_person_after_commit(*, to: str, subject: str, body: str) -> None:
    """One email to one address about their own access (an invitation, being added to an
    organisation): not a notice, so no preferences footer. Sent after commit, like the
    rest, so an invitation rolled back never arrives."""
    transaction.on_commit(partial(_send_one, to=to, subject=subject, body=body))


def _send_one(*, to: str, subject: str, body: str) -> None:
    try:
        EmailMessage(subject=f"Sandpit: {subject}", body=body, to=[to]).send()
    except Exception:  # any backend error: the admin can send the invitation again
        logger.exception("Could not send an email to a person: %s", subject)
