"""Regressions found by the chaos run and by review: each of these once could publish twice,
lose a post, or show a false state."""

import datetime as dt

import httpx
import pytest
from django.utils import timezone

from coaching import services as coaching
from coaching.models import AuditEvent, Publication, PublishAttempt
from coaching.services import recovery
from sandbox import services
from sandbox.errors import InvalidState
from sandbox.models import Draft
from tests.builders import approved, sent
from tests.factories import X_TOKEN

pytestmark = pytest.mark.django_db
P = Publication.Status
LONG_AGO = dt.timedelta(minutes=10)


def post_directly(x_double, handle: str, count: int) -> None:
    for n in range(count):
        httpx.post(
            f"{x_double.base_url}/2/tweets",
            json={"text": f"Other news {n}"},
            headers={"Authorization": f"Bearer {X_TOKEN}"},
        ).raise_for_status()


# A dead worker must never lead to a second send ------------------------------------------------


@pytest.mark.parametrize("outcome", ["unknown", "published", "pending"])
def test_a_stuck_post_whose_try_may_have_landed_is_unconfirmed_not_resent(
    trainee, coach, account, x_double, outcome
):
    publication = approved(trainee, coach, account, "Stuck")
    Publication.objects.filter(pk=publication.pk).update(status=P.SENDING)
    PublishAttempt.objects.create(publication=publication, request="x", outcome=outcome)
    result = coaching.publication_sweep(now=timezone.now() + LONG_AGO)
    publication.refresh_from_db()
    assert (result["requeued"], publication.status) == (0, P.UNCONFIRMED)


def test_a_stuck_post_whose_last_try_surely_failed_is_retried(trainee, coach, account, x_double):
    publication = approved(trainee, coach, account, "Stuck after a refused connection")
    Publication.objects.filter(pk=publication.pk).update(status=P.SENDING)
    PublishAttempt.objects.create(publication=publication, request="x", outcome="not_sent")
    assert coaching.publication_sweep(now=timezone.now() + LONG_AGO)["requeued"] == 1


def test_a_stuck_thread_with_every_post_live_is_published_not_resent(
    trainee, coach, account, x_double
):
    publication = sent(approved(trainee, coach, account, "One", ["Two"]))
    Publication.objects.filter(pk=publication.pk).update(status=P.SENDING)
    coaching.publication_sweep(now=timezone.now() + LONG_AGO)
    publication.refresh_from_db()
    assert publication.status == P.PUBLISHED
    coaching.publication_send(publication_id=publication.pk)
    assert len(x_double.posts_for(account.handle)) == 2


# Reconcile must look far enough before it calls a post failed ---------------------------------


def test_reconcile_finds_a_post_buried_under_many_newer_ones(trainee, coach, account, x_double):
    x_double.inject("5xx-after")
    publication = sent(approved(trainee, coach, account, "Buried but live"))
    post_directly(x_double, account.handle, 150)
    publication.attempts.update(started_at=timezone.now() - LONG_AGO)
    assert coaching.publication_reconcile(publication=publication) == P.PUBLISHED


def test_reconcile_never_calls_a_post_failed_on_an_incomplete_search(
    trainee, coach, account, x_double, monkeypatch
):
    monkeypatch.setattr(recovery, "RECONCILE_SEARCH_DEPTH", 5)
    x_double.inject("5xx-before")
    publication = sent(approved(trainee, coach, account, "Never arrived"))
    post_directly(x_double, account.handle, 10)
    publication.attempts.update(started_at=timezone.now() - LONG_AGO)
    assert coaching.publication_reconcile(publication=publication) == P.UNCONFIRMED
    publication.refresh_from_db()
    assert "does not prove it failed" in publication.error
    assert AuditEvent.objects.filter(action="publication_reconciled").count() == 1


# A half-published thread is never quietly cancelled ---------------------------------------------


def test_a_thread_with_a_live_post_cannot_be_edited_or_withdrawn(trainee, coach, account, x_double):
    publication = approved(trainee, coach, account, "Part one", ["Part two"])
    parts = publication.parts
    parts[0].update(remote_id="1", remote_url="http://x/1")
    Publication.objects.filter(pk=publication.pk).update(parts=parts, remote_id="1")
    draft = Draft.objects.get(pk=publication.draft_id)
    with pytest.raises(InvalidState, match="part of it is live"):
        services.draft_edit(draft=draft, by=trainee, text="Part one, changed")
    with pytest.raises(InvalidState, match="part of it is live"):
        coaching.draft_withdraw(draft=draft, by=trainee)
    publication.refresh_from_db()
    assert publication.status == P.QUEUED


def test_withdraw_uses_the_current_status_not_a_stale_copy(trainee, coach, account):
    draft = services.draft_create(author=trainee, account=account, text="Changing my mind")
    coaching.draft_submit(draft=draft, by=trainee)
    stale = Draft.objects.get(pk=draft.pk)  # the trainee's page, loaded before approval
    coaching.review_approve(draft=draft, by=coach)
    coaching.draft_withdraw(draft=stale, by=trainee)
    assert Publication.objects.get(draft=draft).status == P.CANCELLED


# Retract only what is surely live ---------------------------------------------------------------


def test_an_unconfirmed_post_cannot_be_retracted_until_checked(trainee, coach, account, x_double):
    x_double.inject("5xx-after")
    publication = sent(approved(trainee, coach, account, "Unsure"))
    parts = publication.parts
    parts[0].update(remote_id="123")
    Publication.objects.filter(pk=publication.pk).update(parts=parts)
    with pytest.raises(InvalidState, match="check the account first"):
        coaching.publication_retract(publication=publication, by=coach, reason="Oops")
