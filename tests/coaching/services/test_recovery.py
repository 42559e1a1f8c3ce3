"""coaching/services/recovery.py through the real X API double over HTTP: reconcile looks on
the account before anything is sent again, publish anyway, and retract only what is surely
live."""

import datetime as dt

import httpx
import pytest
from django.utils import timezone

from coaching import services as coaching
from coaching.models import AuditEvent, Publication
from coaching.services import recovery
from sandbox.errors import InvalidInput, InvalidState, NotAllowed
from tests.builders import approved, sent
from tests.factories import X_TOKEN

pytestmark = pytest.mark.django_db

LONG_AGO = dt.timedelta(minutes=10)
P = Publication.Status


# Unknown outcomes: reconcile and publish anyway ---------------------------------------------


def test_reconcile_finds_a_post_that_went_out(trainee, coach, account, x_double):
    x_double.inject("5xx-after")
    publication = sent(approved(trainee, coach, account, "Did this go?"))
    assert publication.status == P.UNCONFIRMED
    assert coaching.publication_reconcile(publication=publication, by=coach) == P.PUBLISHED
    publication.refresh_from_db()
    [post] = x_double.posts_for(account.handle)
    assert publication.remote_id == post.id
    assert AuditEvent.objects.filter(action="publication_reconciled", actor=coach).exists()


def test_reconcile_waits_then_fails_a_post_that_never_arrived(trainee, coach, account, x_double):
    x_double.inject("5xx-before")
    publication = sent(approved(trainee, coach, account, "Lost in transit"))
    assert coaching.publication_reconcile(publication=publication) == P.UNCONFIRMED
    publication.attempts.update(started_at=timezone.now() - dt.timedelta(minutes=5))
    assert coaching.publication_reconcile(publication=publication) == P.FAILED
    publication.refresh_from_db()
    assert "did not go out" in publication.error


def test_publish_anyway_is_audited_and_sends_again(trainee, coach, account, x_double):
    x_double.inject("5xx-before")
    publication = sent(approved(trainee, coach, account, "Try once more"))
    coaching.publication_retry(publication=publication, by=coach)
    assert sent(publication).status == P.PUBLISHED
    assert AuditEvent.objects.get(action="publication_forced").actor == coach


def test_a_trainee_cannot_force_or_retract(trainee, coach, account, x_double):
    publication = sent(approved(trainee, coach, account, "Mine"))
    with pytest.raises(NotAllowed):
        coaching.publication_retract(publication=publication, by=trainee, reason="Oops")
    with pytest.raises(NotAllowed):
        coaching.publication_retry(publication=publication, by=trainee)


# Retract -----------------------------------------------------------------------------------------


def test_retract_deletes_the_post_and_is_audited(trainee, coach, account, x_double):
    publication = sent(approved(trainee, coach, account, "Wrong date, sorry"))
    with pytest.raises(InvalidInput):
        coaching.publication_retract(publication=publication, by=coach, reason="")
    coaching.publication_retract(publication=publication, by=coach, reason="Wrong date")
    publication.refresh_from_db()
    assert publication.status == P.RETRACTED
    assert x_double.posts_for(account.handle) == []
    event = AuditEvent.objects.get(action="publication_retracted")
    assert (event.actor, event.detail, event.revision_id) == (
        coach,
        "Wrong date",
        publication.revision_id,
    )


# Reconcile must look far enough before it calls a post failed ---------------------------------


def post_directly(x_double, handle: str, count: int) -> None:
    for n in range(count):
        httpx.post(
            f"{x_double.base_url}/2/tweets",
            json={"text": f"Other news {n}"},
            headers={"Authorization": f"Bearer {X_TOKEN}"},
        ).raise_for_status()


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


# Retract only what is surely live ---------------------------------------------------------------


def test_an_unconfirmed_post_cannot_be_retracted_until_checked(trainee, coach, account, x_double):
    x_double.inject("5xx-after")
    publication = sent(approved(trainee, coach, account, "Unsure"))
    parts = publication.parts
    parts[0].update(remote_id="123")
    Publication.objects.filter(pk=publication.pk).update(parts=parts)
    with pytest.raises(InvalidState, match="check the account first"):
        coaching.publication_retract(publication=publication, by=coach, reason="Oops")
