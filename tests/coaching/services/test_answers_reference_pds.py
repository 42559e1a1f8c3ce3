"""Answering the public on Bluesky through the services, against Bluesky's reference PDS
(tests/pds/): two accounts on one real server, a member of the public who posts and the
organisation's account, whose reviewed reply and quote land as the real thing (a reply
with root and parent strong refs, a quote as app.bsky.embed.record, a quote with an image
as app.bsky.embed.recordWithMedia)."""

from __future__ import annotations

import pytest

from coaching import services as coaching
from coaching.models import InboxItem, Publication
from coaching.publishing.bluesky import BlueskyPublisher
from coaching.services.answers import answer_start
from sandbox import services as sandbox_services
from sandbox.models import WorkplaceAccount
from tests.builders import answer_approved, sent
from tests.factories import inbox_item, make_post_image
from tests.pds import PDSAccount, ReferencePDS

pytestmark = pytest.mark.django_db

P = Publication.Status


@pytest.fixture
def connected(admin, organisation, reference_pds: ReferencePDS) -> WorkplaceAccount:
    board = reference_pds.new_account("board")
    return coaching.bluesky_connect(
        by=admin,
        organisation_id=organisation.pk,
        server=reference_pds.url,
        handle=board.handle,
        app_password=reference_pds.app_password(board),
    )


@pytest.fixture
def member_of_the_public(reference_pds: ReferencePDS) -> BlueskyPublisher:
    """Someone else on the same PDS, posting with their own app password."""
    person: PDSAccount = reference_pds.new_account("amara")
    return BlueskyPublisher(
        service_url=reference_pds.url,
        handle=person.handle,
        app_password=reference_pds.app_password(person),
    )


def asked(public: BlueskyPublisher, account: WorkplaceAccount) -> InboxItem:
    """A question by the member of the public, as the inbox would hold it."""
    post = public.publish(text="Is the walk-in centre open on Sunday?", idempotency_key="q-1")
    return inbox_item(
        account, remote_id=post.remote_id, author_handle=public.handle, text="Open Sunday?"
    )


def test_a_reply_lands_with_the_questions_strong_refs(
    trainee, coach, connected, member_of_the_public, reference_pds: ReferencePDS
) -> None:
    item = asked(member_of_the_public, connected)
    publication = sent(answer_approved(trainee, coach, item, "Yes: 9 to 5 on Sunday."))

    assert publication.status == P.PUBLISHED, publication.error
    question = reference_pds.record(item.remote_id)
    stored = reference_pds.record(publication.remote_id)
    assert question is not None and stored is not None
    reference = {"uri": question["uri"], "cid": question["cid"]}
    reply = stored["value"]["reply"]
    assert {k: reply["parent"][k] for k in ("uri", "cid")} == reference
    assert {k: reply["root"][k] for k in ("uri", "cid")} == reference
    assert stored["value"]["text"] == "Yes: 9 to 5 on Sunday."
    item.refresh_from_db()
    assert item.state == InboxItem.State.DONE and item.handled_by == trainee


def test_a_quote_lands_as_a_record_embed(
    trainee, coach, connected, member_of_the_public, reference_pds: ReferencePDS
) -> None:
    item = asked(member_of_the_public, connected)
    publication = sent(answer_approved(trainee, coach, item, "A good question.", kind="quote"))

    assert publication.status == P.PUBLISHED, publication.error
    question = reference_pds.record(item.remote_id)
    stored = reference_pds.record(publication.remote_id)
    assert question is not None and stored is not None
    embed = stored["value"]["embed"]
    assert embed["$type"] == "app.bsky.embed.record"
    assert {k: embed["record"][k] for k in ("uri", "cid")} == {
        "uri": question["uri"],
        "cid": question["cid"],
    }
    assert "reply" not in stored["value"]


def test_a_quote_with_an_image_lands_as_record_with_media(
    trainee, coach, connected, member_of_the_public, reference_pds: ReferencePDS, private_media
) -> None:
    item = asked(member_of_the_public, connected)
    InboxItem.objects.filter(pk=item.pk).update(assigned_to=trainee)  # given to the trainee
    item.refresh_from_db()
    draft = answer_start(author=trainee, item=item, kind="quote", text="See the poster.")
    image = make_post_image(draft)
    sandbox_services.draft_edit(
        draft=draft,
        by=trainee,
        text="See the poster.",
        images=[[{"id": image.pk, "alt": "Opening hours poster"}]],
    )
    coaching.draft_submit(draft=draft, by=trainee)
    coaching.review_approve(draft=draft, by=coach)
    publication = sent(Publication.objects.get(draft=draft))

    assert publication.status == P.PUBLISHED, publication.error
    stored = reference_pds.record(publication.remote_id)
    assert stored is not None
    embed = stored["value"]["embed"]
    assert embed["$type"] == "app.bsky.embed.recordWithMedia"
    assert embed["record"]["record"]["uri"] == item.remote_id
    assert embed["media"]["$type"] == "app.bsky.embed.images"
    assert embed["media"]["images"][0]["alt"] == "Opening hours poster"


def test_a_reply_to_a_post_deleted_meanwhile_fails_and_the_item_is_gone(
    trainee, coach, connected, member_of_the_public, reference_pds: ReferencePDS
) -> None:
    item = asked(member_of_the_public, connected)
    publication = answer_approved(trainee, coach, item, "Yes: 9 to 5 on Sunday.")
    member_of_the_public.delete(remote_id=item.remote_id)

    publication = sent(publication)

    assert publication.status == P.FAILED
    assert "no longer on Bluesky" in publication.error
    item.refresh_from_db()
    assert item.gone_at is not None
    assert reference_pds.record(item.remote_id) is None
