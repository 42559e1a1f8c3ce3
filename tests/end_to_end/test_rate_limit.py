"""A short rate limit does not stall the backlog: a 429 from the X double parks the
account's posts until the reset the platform gave, and one resume task, scheduled at that
reset, sends them. Approve -> Redis -> a real Celery worker -> the X double; no beat runs,
so nothing but the resume can wake the parked posts."""

import time

import pytest
from django.db import transaction

from coaching import services as coaching
from coaching.models import Publication, PublishAttempt
from sandbox import services
from tests.factories import wait_for

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]
P = Publication.Status
RESET_SECONDS = 2
BACKLOG = 20
# The sweep's requeue window was the only way out before (60 s): the backlog must be out
# long before that.
WELL_BEFORE_THE_SWEEP = 20.0


def test_a_backlog_parked_by_a_429_goes_out_at_the_reset(
    celery_worker, x_double, trainee, coach, account, monkeypatch
):
    monkeypatch.setattr(x_double, "rate_limit_reset_seconds", RESET_SECONDS)
    drafts = []
    for number in range(BACKLOG):
        draft = services.draft_create(
            author=trainee, account=account, text=f"Clinic update {number} {time.time_ns()}"
        )
        coaching.draft_submit(draft=draft, by=trainee)
        drafts.append(draft)
    x_double.inject("429")  # the first post to reach X meets the rate limit
    started = time.monotonic()
    with transaction.atomic():  # the whole backlog's messages leave at one commit
        for draft in drafts:
            coaching.review_approve(draft=draft, by=coach)

    published = Publication.objects.filter(draft__in=drafts, status=P.PUBLISHED)
    wait_for(lambda: published.count() == BACKLOG, timeout=WELL_BEFORE_THE_SWEEP)
    drained = time.monotonic() - started

    account.refresh_from_db()
    assert account.rate_limited_until is not None
    live = [post.text for post in x_double.posts_for(account.handle)]
    assert sorted(live) == sorted(d.current_revision.text for d in drafts)  # each once
    outcomes = list(
        PublishAttempt.objects.filter(publication__draft__in=drafts).values_list(
            "outcome", flat=True
        )
    )
    assert outcomes.count(PublishAttempt.Outcome.RATE_LIMITED) == 1
    assert outcomes.count(PublishAttempt.Outcome.PUBLISHED) == BACKLOG
    # Nothing went out before the reset the platform gave, and all of it soon after.
    first_live = min(
        Publication.objects.filter(draft__in=drafts).values_list("published_at", flat=True)
    )
    assert first_live >= account.rate_limited_until
    assert drained < RESET_SECONDS + 10, f"drained in {drained:.1f} s"
    print(f"\n{BACKLOG} posts parked by a {RESET_SECONDS} s rate limit drained in {drained:.1f} s")
