"""Lifecycle builders: a draft taken to the state a test starts from, through the real
services, so every rule on the way applies (blocking findings, routing, earned autonomy).

Each step builds on the one before: ``draft`` -> ``submitted`` -> ``approved`` -> ``sent``
(``passed`` is ``submitted`` for a trainee in spot-check mode, who needs no coach; ``reviewed``
takes a draft through a list of decisions, for the record and the portfolio). Fixtures that
wrap them (``draft``, ``submitted``, ``publication``, ...) are in the conftest.py files.
"""

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from django.contrib.auth.models import User
from django.utils import timezone

from coaching import services as coaching
from coaching.models import Publication, Review
from sandbox import services
from sandbox.models import Draft, WorkplaceAccount

TEXT = "Clinic open 9-5"
# A trainee's answer to the scenario's rumour (tests/coaching/conftest.py ``inject``).
ANSWER = "The vaccines are in date and safe. Clinic details: nhs.uk/flu"


def draft(
    author: User,
    account: WorkplaceAccount,
    text: str = TEXT,
    thread: Sequence[str] = (),
    **kind: Any,
) -> Draft:
    """A saved draft. ``kind``: ``in_reply_to`` or ``quote_of`` a post of the timeline."""
    return services.draft_create(author=author, account=account, text=text, thread=thread, **kind)


def submitted(
    author: User,
    account: WorkplaceAccount,
    text: str = TEXT,
    thread: Sequence[str] = (),
    *,
    hours_ago: float = 0,
    **kind: Any,
) -> Draft:
    """A draft sent to a coach (for a trainee in spot-check mode: perhaps passed at once).
    ``hours_ago``: it has been waiting that long."""
    submitted = coaching.draft_submit(draft=draft(author, account, text, thread, **kind), by=author)
    if hours_ago:
        Draft.objects.filter(pk=submitted.pk).update(
            submitted_at=timezone.now() - dt.timedelta(hours=hours_ago)
        )
    return submitted


def submitted_response(author: User, account: WorkplaceAccount, post: Any, **target: Any) -> Draft:
    """The ANSWER to a post of the practice timeline, sent to a coach: a reply to ``post``,
    or what ``target`` says (``quote_of=post``)."""
    return submitted(author, account, ANSWER, **(target or {"in_reply_to": post}))


def passed(author: User, account: WorkplaceAccount, text: str = TEXT) -> Draft:
    """A draft by a trainee in spot-check mode, passed without a coach: approved, and its
    publication waiting for the organisation's delay."""
    passed = submitted(author, account, text)
    assert passed.status == Draft.Status.APPROVED
    return passed


def approved(
    author: User,
    coach: User,
    account: WorkplaceAccount,
    text: str = TEXT,
    thread: Sequence[str] = (),
    *,
    scores: Mapping[str, object] | None = None,
) -> Publication:
    """A draft submitted and approved by the coach: its publication, queued (nothing is sent
    until a worker or ``sent`` sends it). ``publication.draft`` is the draft."""
    approved = submitted(author, account, text, thread)
    coaching.review_approve(draft=approved, by=coach, scores=scores)
    return Publication.objects.get(draft=approved)


def sent(publication: Publication) -> Publication:
    """The publication after one send to the platform, in this process, read back."""
    coaching.publication_send(publication_id=publication.pk)
    publication.refresh_from_db()
    return publication


def reviewed(trainee, account, coach, decisions, *, hours=None, scores=None, tags=None) -> Draft:
    """A draft taken through ``decisions`` in turn (each a Review.Decision, or "spot" for a
    spot-check pass); the trainee revises and resubmits after each request for changes.
    ``hours``: the first approval is that many hours after the first submission."""
    draft = submitted(trainee, account)
    for turn, decision in enumerate(decisions):
        if decision == "spot":
            Review.objects.create(
                draft=draft,
                revision=draft.current_revision,
                reviewer=None,
                decision=Review.Decision.APPROVE,
                content_hash=draft.current_revision.content_hash,
            )
        elif decision == Review.Decision.APPROVE:
            coaching.review_approve(draft=draft, by=coach)
        elif decision == Review.Decision.REJECT:
            coaching.review_reject(draft=draft, by=coach, note="Not this one.")
        else:
            coaching.review_request_changes(draft=draft, by=coach, note="Say when.")
            draft = services.draft_edit(draft=draft, by=trainee, text=f"Clinic open 9-5 ({turn})")
            coaching.draft_submit(draft=draft, by=trainee)
    reviews = Review.objects.filter(draft=draft)
    if scores:
        reviews.filter(reviewer__isnull=False).update(**scores)
    if tags:
        reviews.filter(reviewer__isnull=False).update(tags=tags)
    if hours is not None:
        first = Draft.objects.get(pk=draft.pk).first_submitted_at
        reviews.filter(decision=Review.Decision.APPROVE).update(
            created_at=first + dt.timedelta(hours=hours)
        )
    return draft


def answer(
    author: User, item: Any, text: str = "Yes: 9 to 5 on Sunday.", *, kind: str = "reply"
) -> Draft:
    """A draft answering an inbox item (a reply, or ``kind="quote"``), sent for review.
    An item nobody has is first given to the author, as a coach would give it to a trainee
    (who may answer only what is given to them)."""
    from coaching.models import InboxItem
    from coaching.services.answers import answer_start

    if item.assigned_to_id is None:
        InboxItem.objects.filter(pk=item.pk).update(assigned_to=author)
        item.assigned_to = author
    started = answer_start(author=author, item=item, kind=kind, text=text)
    return coaching.draft_submit(draft=started, by=author)


def answer_approved(
    author: User,
    coach: User,
    item: Any,
    text: str = "Yes: 9 to 5 on Sunday.",
    *,
    kind: str = "reply",
) -> Publication:
    """An answer approved by the coach: its publication, queued."""
    submitted = answer(author, item, text, kind=kind)
    coaching.review_approve(draft=submitted, by=coach)
    return Publication.objects.get(draft=submitted)
