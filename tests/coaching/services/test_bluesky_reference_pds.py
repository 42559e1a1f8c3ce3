"""Connecting, publishing, reconciling and retracting a Bluesky account through the services,
against Bluesky's reference PDS (tests/pds/), which has no AppView: everything Sandpit does
with a Bluesky account must work with the PDS's own methods."""

from __future__ import annotations

import datetime as dt
from typing import Any

import httpx
import pytest
from django.utils import timezone

from coaching import services as coaching
from coaching.models import Publication
from coaching.publishing.bluesky import BlueskyPublisher, record_key_for
from coaching.services.sending import idempotency_key
from doubles.bluesky import INVALID_CREDENTIALS
from sandbox.errors import InvalidState
from sandbox.models import WorkplaceAccount
from tests.builders import approved, sent
from tests.pds import PDSAccount, ReferencePDS

pytestmark = pytest.mark.django_db

P = Publication.Status


@pytest.fixture
def on_pds(reference_pds: ReferencePDS) -> PDSAccount:
    return reference_pds.new_account("board")


@pytest.fixture
def connected(admin, organisation, reference_pds: ReferencePDS, on_pds: PDSAccount):
    return coaching.bluesky_connect(
        by=admin,
        organisation_id=organisation.pk,
        server=reference_pds.url,
        handle=on_pds.handle,
        app_password=reference_pds.app_password(on_pds),
    )


def lose_the_answer(monkeypatch: pytest.MonkeyPatch, *, stored: bool) -> None:
    """The next createRecord's answer never comes back; the PDS has stored the post or not."""
    real = BlueskyPublisher._create_post

    def create_then_time_out(self: BlueskyPublisher, client: Any, **kwargs: Any) -> Any:
        monkeypatch.setattr(BlueskyPublisher, "_create_post", real)
        if stored:
            real(self, client, **kwargs)
        raise httpx.ReadTimeout("the answer was lost")

    monkeypatch.setattr(BlueskyPublisher, "_create_post", create_then_time_out)


def test_an_app_password_connects_and_a_post_goes_out_on_the_saved_session(
    trainee, coach, connected: WorkplaceAccount, reference_pds: ReferencePDS, on_pds: PDSAccount
) -> None:
    assert connected.status == WorkplaceAccount.Status.ACTIVE
    assert connected.platform_session  # the session from connecting, kept for publishing

    publication = sent(approved(trainee, coach, connected, "Clinics open today #NHS"))

    assert publication.status == P.PUBLISHED
    assert publication.remote_id == (
        f"at://{on_pds.did}/app.bsky.feed.post/{record_key_for(idempotency_key(publication, 0))}"
    )
    assert reference_pds.texts(on_pds) == ["Clinics open today #NHS"]


def test_a_wrong_app_password_is_refused_in_the_pds_words(
    admin, organisation, reference_pds: ReferencePDS, on_pds: PDSAccount
) -> None:
    with pytest.raises(InvalidState, match=f"Bluesky did not accept that: {INVALID_CREDENTIALS}"):
        coaching.bluesky_connect(
            by=admin,
            organisation_id=organisation.pk,
            server=reference_pds.url,
            handle=on_pds.handle,
            app_password="abcd-efgh-ijkl-mnop",
        )
    assert not WorkplaceAccount.objects.filter(handle=on_pds.handle).exists()


def test_a_thread_goes_out_as_replies(
    trainee, coach, connected: WorkplaceAccount, reference_pds: ReferencePDS
) -> None:
    publication = sent(approved(trainee, coach, connected, "Winter advice 1/2", ["And 2/2"]))

    assert publication.status == P.PUBLISHED
    first, second = (part["remote_id"] for part in publication.parts)
    reply = reference_pds.record(second)["value"]["reply"]  # type: ignore[index]
    assert reply["root"]["uri"] == reply["parent"]["uri"] == first


def test_reconcile_finds_a_post_whose_answer_was_lost_by_its_key(
    monkeypatch: pytest.MonkeyPatch,
    trainee,
    coach,
    connected: WorkplaceAccount,
    reference_pds: ReferencePDS,
    on_pds: PDSAccount,
) -> None:
    lose_the_answer(monkeypatch, stored=True)
    publication = sent(approved(trainee, coach, connected, "Did this go?"))
    assert publication.status == P.UNCONFIRMED

    assert coaching.publication_reconcile(publication=publication, by=coach) == P.PUBLISHED

    publication.refresh_from_db()
    [post] = reference_pds.posts(on_pds)
    assert publication.remote_id == post["uri"]


def test_reconcile_fails_a_post_that_never_arrived_after_the_grace_period(
    monkeypatch: pytest.MonkeyPatch,
    trainee,
    coach,
    connected: WorkplaceAccount,
    reference_pds: ReferencePDS,
    on_pds: PDSAccount,
) -> None:
    lose_the_answer(monkeypatch, stored=False)
    publication = sent(approved(trainee, coach, connected, "Lost in transit"))
    assert coaching.publication_reconcile(publication=publication) == P.UNCONFIRMED

    publication.attempts.update(started_at=timezone.now() - dt.timedelta(minutes=5))

    # One look-up by key proves it is not there, however many posts the account has.
    assert coaching.publication_reconcile(publication=publication) == P.FAILED
    assert reference_pds.texts(on_pds) == []


def test_retract_deletes_the_posts_from_the_pds(
    trainee, coach, connected: WorkplaceAccount, reference_pds: ReferencePDS, on_pds: PDSAccount
) -> None:
    publication = sent(approved(trainee, coach, connected, "Wrong date 1/2", ["And 2/2"]))

    coaching.publication_retract(publication=publication, by=coach, reason="Wrong date")

    publication.refresh_from_db()
    assert publication.status == P.RETRACTED
    assert reference_pds.texts(on_pds) == []


def test_a_revoked_app_password_fails_publishing_as_needing_reconnection(
    trainee, coach, connected: WorkplaceAccount, reference_pds: ReferencePDS, on_pds: PDSAccount
) -> None:
    reference_pds.revoke_app_password(on_pds)
    # The saved session's access token would still work for up to two hours (see
    # tests/coaching/publishing/test_bluesky_reference_pds.py): without it, the publisher
    # must log in with the revoked app password.
    WorkplaceAccount.objects.filter(pk=connected.pk).update(platform_session="")
    connected.refresh_from_db()

    publication = sent(approved(trainee, coach, connected, "After revoking"))

    # It waits for an admin to reconnect the account, in the PDS's words.
    assert publication.status == P.QUEUED
    assert "needs reconnecting" in publication.error
    connected.refresh_from_db()
    assert connected.status == WorkplaceAccount.Status.NEEDS_RECONNECT
    assert INVALID_CREDENTIALS in connected.status_detail
    assert reference_pds.texts(on_pds) == []


def test_lockdown_ends_the_session_at_the_pds(
    coach, connected: WorkplaceAccount, reference_pds: ReferencePDS
) -> None:
    from atproto_client import Session

    saved = Session.decode(connected.platform_session)

    lockdown = coaching.account_lockdown(by=coach, account=connected, reason="Hacked")

    assert lockdown.revoked, lockdown.revoke_outcome
    # deleteSession ended the refresh session: it can never be refreshed again.
    refreshed = reference_pds.xrpc(
        "com.atproto.server.refreshSession", token=saved.refresh_jwt, method="POST"
    )
    assert refreshed.status_code == 400, refreshed.text
    assert refreshed.json()["error"] == "ExpiredToken"
    # What it cannot end: the access token already issued lasts until it expires (the
    # checklist says so, and says to delete the app password by hand).
    still = reference_pds.xrpc("com.atproto.server.getSession", token=saved.access_jwt)
    assert still.status_code == 200
    # The rogue posts come from an AppView read, which this PDS has not got: said, not hidden.
    assert lockdown.rogue_posts == []
    assert lockdown.rogue_posts_error
    connected.refresh_from_db()
    assert (connected.app_password, connected.platform_session) == ("", "")
