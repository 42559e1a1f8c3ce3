"""Drafts as pages show them, with their publications and reviews: the trainee's timeline
and draft pages, and a scenario's debrief. Coaching owns these reads because they join
coaching's records to the trainee's drafts; which drafts a person may see at all is the
authoring rule in sandbox.selectors.visible_drafts."""

import datetime as dt
from dataclasses import dataclass

from django.contrib.auth.models import User
from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone

from coaching.models import FeedbackNote, Publication, Review
from sandbox.models import Draft, DraftRevision, ScenarioRun, TimelineItem, WorkplaceAccount
from sandbox.selectors import visible_drafts


def with_display_data(drafts: QuerySet[Draft]) -> QuerySet[Draft]:
    return (
        drafts.select_related(
            "current_revision",
            "account",
            "author",
            "in_reply_to",
            "quote_of__account",
            # What an answer to the public replies to or quotes (None for other drafts).
            "answer__item__account",
        )
        .defer(
            *WorkplaceAccount.secrets_of("account", "quote_of__account", "answer__item__account")
        )
        .prefetch_related(
            Prefetch(
                "publications",
                # The approval tells a spot-check pass (no reviewer) from a coach's.
                queryset=Publication.objects.select_related("approval").order_by("-created_at"),
                to_attr="publication_list",
            )
        )
    )


def draft_for_display(pk: int) -> Draft:
    return with_display_data(Draft.objects.filter(pk=pk)).get()


def draft_visible_to(user: User, pk: int) -> Draft | None:
    """The draft, with what its page shows, if the user may see it (visible_drafts)."""
    return with_display_data(visible_drafts(user).filter(pk=pk)).first()


def revisions_with_feedback(draft: Draft) -> QuerySet[DraftRevision]:
    return draft.revisions.order_by("-number").prefetch_related(
        Prefetch(
            "reviews",
            queryset=Review.objects.select_related("reviewer").prefetch_related(
                Prefetch("notes", queryset=FeedbackNote.objects.select_related("author"))
            ),
        )
    )


def responses_to(item: TimelineItem, author: User) -> QuerySet[Draft]:
    """The author's drafts answering this item, newest first."""
    return with_display_data(
        Draft.objects.filter(Q(in_reply_to=item) | Q(quote_of=item), author=author)
    ).order_by("-created_at")


@dataclass(frozen=True)
class DebriefEntry:
    """One line of a debrief: an inject, or the trainee's response to one."""

    at: dt.datetime
    seconds: int  # from the start of the run
    inject: TimelineItem | None = None
    practice: TimelineItem | None = None
    draft: Draft | None = None
    answers: TimelineItem | None = None
    arrived: bool = True


def debrief(run: ScenarioRun, *, viewer: User) -> list[DebriefEntry]:
    """The scenario's items in the order they arrive, each at its offset, interleaved
    with the trainee's answers to them: practice replies and quotes, and responses drafted
    for review (with their reviews and notes). The trainee sees only items that have
    arrived; coaches see what is still to come. A fixed number of queries."""
    now = timezone.now()
    injects_q = run.items.select_related("parent")
    if viewer.pk == run.trainee_id:
        injects_q = injects_q.filter(appear_at__lte=now)
    injects = list(injects_q.order_by("appear_at", "pk"))
    by_pk = {item.pk: item for item in injects}
    practice = TimelineItem.objects.filter(
        Q(parent__in=injects) | Q(quote_of__in=injects),
        owner_id=run.trainee_id,
        persona="",
        draft__isnull=True,  # an approved response shows as its draft, with its review
        appear_at__lte=now,
    ).select_related("account")
    drafts = (
        with_display_data(
            Draft.objects.filter(Q(in_reply_to__in=injects) | Q(quote_of__in=injects)).filter(
                author_id=run.trainee_id
            )
        )
        .select_related("practice_item")
        .prefetch_related(
            Prefetch(
                "reviews",
                queryset=Review.objects.select_related("reviewer").prefetch_related(
                    Prefetch("notes", queryset=FeedbackNote.objects.select_related("author"))
                ),
                to_attr="review_list",
            )
        )
    )
    start = run.started_at

    def entry(at: dt.datetime, **fields: object) -> DebriefEntry:
        seconds = max(0, int((at - start).total_seconds()))
        return DebriefEntry(at=at, seconds=seconds, **fields)  # type: ignore[arg-type]

    entries = [
        entry(item.appear_at, inject=item, arrived=item.appear_at <= now) for item in injects
    ]
    entries += [
        entry(
            item.appear_at,
            practice=item,
            answers=by_pk.get(item.parent_id or 0) or by_pk.get(item.quote_of_id or 0),
        )
        for item in practice
    ]
    entries += [
        entry(
            draft.created_at,
            draft=draft,
            answers=by_pk.get(draft.in_reply_to_id or 0) or by_pk.get(draft.quote_of_id or 0),
        )
        for draft in drafts
    ]
    # An inject sorts before the answers given in the same second.
    return sorted(entries, key=lambda e: (e.at, e.inject is None))
