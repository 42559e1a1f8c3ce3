"""Posts with images, on every platform, end to end: approve, Redis, a real Celery worker,
the platform's real client library, the platform's double. The images are real files in
(temporary) private storage, read back by the service."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from typing import Any

import pytest
from django.db import transaction

from coaching import services as coaching
from coaching.models import Publication, PublishAttempt
from doubles.x import INVALID_MEDIA_IDS, XDouble
from sandbox import services
from sandbox.models import Draft, PostImage, WorkplaceAccount
from tests import factories
from tests.builders import sent
from tests.factories import wait_for

pytestmark = pytest.mark.usefixtures("private_media")
P = Publication.Status
Outcome = PublishAttempt.Outcome


class Platform:
    """One platform's account and double, and how to read what the double holds."""

    def __init__(self, name: str, account: Any, double: Any) -> None:
        self.name, self.account, self.double = name, account, double

    def posts(self) -> list[Any]:
        """Stored posts, oldest first."""
        if self.name == "mastodon":
            return list(reversed(self.double.statuses_for(self.account.handle)))
        return list(reversed(self.double.posts_for(self.account.handle)))

    def images(self, post: Any) -> list[tuple[str, bytes]]:
        """(alt text, bytes) of each image attached to a stored post, in order."""
        if self.name == "x":
            return [(m.alt_text, self.double.media_bytes(m.id)) for m in self.double.media_of(post)]
        if self.name == "mastodon":
            return [
                (m.description, self.double.media_bytes(m.id)) for m in self.double.media_of(post)
            ]
        return [(i["alt"], self.double.blob_bytes(i["image"]["ref"]["$link"])) for i in post.images]

    def reply_parent(self, post: Any) -> str | None:
        if self.name == "x":
            return post.in_reply_to_tweet_id
        if self.name == "mastodon":
            return post.in_reply_to_id
        return post.reply_parent

    def remote_id(self, post: Any) -> str:
        return post.uri if self.name == "bluesky" else post.id


@pytest.fixture
def platform(platform_account: tuple[str, WorkplaceAccount, Any]) -> Platform:
    return Platform(*platform_account)


ALL = pytest.mark.parametrize("platform_account", ["x", "mastodon", "bluesky"], indirect=True)
THROUGH_THE_WORKER = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def draft_with_images(trainee, account, thread: tuple[str, ...] = ()) -> Draft:
    return services.draft_create(
        author=trainee, account=account, text=f"Clinic update {time.time_ns()}", thread=thread
    )


def approve_with_images(
    draft: Draft, coach: Any, images: list[list[tuple[PostImage, str]]]
) -> Publication:
    """Approve, with each post's images (and alt text) in the publication's parts, as the
    composer's approval writes them. One transaction: the worker's message leaves at its
    commit, so it never sees the parts without their images."""
    coaching.draft_submit(draft=draft, by=draft.author)
    with transaction.atomic():
        coaching.review_approve(draft=draft, by=coach)
        publication = Publication.objects.get(draft=draft)
        parts = [dict(part) for part in publication.parts]
        for part, post_images in zip(parts, images, strict=False):
            part["images"] = [{"id": image.pk, "alt": alt} for image, alt in post_images]
        Publication.objects.filter(pk=publication.pk).update(parts=parts)
    return publication


def settled(publication: Publication, done: Callable[[Publication], bool]) -> Publication:
    def check() -> Publication | None:
        publication.refresh_from_db()
        return publication if done(publication) else None

    return wait_for(check, timeout=25.0)


def first_attempt_done(p: Publication) -> bool:
    return p.attempts.exclude(outcome=Outcome.PENDING).exists()


def first_attempt_handled(p: Publication) -> bool:
    # The attempt's outcome and what it means for the publication are two commits: wait for
    # the second too, or a busy machine reads the publication still "sending".
    return first_attempt_done(p) and p.status != P.SENDING


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# Going live ---------------------------------------------------------------------------


@ALL
@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_post_with_two_images_and_alt_text_goes_live(
    celery_worker, platform, trainee, coach
) -> None:
    draft = draft_with_images(trainee, platform.account)
    red = factories.make_post_image(draft, colour="red")
    blue = factories.make_post_image(draft, colour="blue", fmt="JPEG")
    publication = approve_with_images(
        draft, coach, [[(red, "A red poster about flu jabs"), (blue, "Map of the clinic")]]
    )

    publication = settled(publication, lambda p: p.status == P.PUBLISHED)

    [post] = platform.posts()
    images = platform.images(post)
    assert [alt for alt, _ in images] == ["A red poster about flu jabs", "Map of the clinic"]
    assert [sha(data) for _, data in images] == [red.sha256, blue.sha256]
    assert publication.remote_id == platform.remote_id(post)
    assert "with 2 images" in publication.attempts.get().request


@ALL
@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_thread_where_only_the_second_post_has_an_image(
    celery_worker, platform, trainee, coach
) -> None:
    draft = draft_with_images(trainee, platform.account, thread=("And here is the map.",))
    chart = factories.make_post_image(draft, colour="green")
    publication = approve_with_images(draft, coach, [[], [(chart, "Chart of waiting times")]])

    settled(publication, lambda p: p.status == P.PUBLISHED)

    first, second = platform.posts()
    assert platform.images(first) == []
    assert [(alt, sha(data)) for alt, data in platform.images(second)] == [
        ("Chart of waiting times", chart.sha256)
    ]
    assert platform.reply_parent(second) == platform.remote_id(first)


# Upload faults: a class each, and never a second post -------------------------------------


@ALL
@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("fault", "outcome"),
    [("5xx-before", Outcome.NOT_SENT), ("429", Outcome.RATE_LIMITED), ("401", Outcome.AUTH_FAILED)],
)
def test_an_upload_fault_has_its_outcome_class_and_posts_nothing(
    celery_worker, platform, trainee, coach, fault, outcome
) -> None:
    draft = draft_with_images(trainee, platform.account)
    image = factories.make_post_image(draft)
    platform.double.inject(fault, on="upload")
    publication = approve_with_images(draft, coach, [[(image, "A poster")]])

    # After a 5xx the post is tried again, so it may be sending again by the time we look.
    handled = first_attempt_done if fault == "5xx-before" else first_attempt_handled
    publication = settled(publication, handled)

    attempt = publication.attempts.order_by("started_at")[0]
    assert attempt.outcome == outcome
    assert platform.posts() == []
    platform.account.refresh_from_db()
    if fault == "401":
        assert publication.status == P.QUEUED
        assert platform.account.status == WorkplaceAccount.Status.NEEDS_RECONNECT
    if fault == "429":
        assert platform.account.rate_limited_until is not None
    if fault == "5xx-before":
        assert publication.status in (P.QUEUED, P.SENDING, P.PUBLISHED)
        assert publication.status != P.UNCONFIRMED


@ALL
@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_an_upload_whose_answer_is_lost_is_retried_and_posts_exactly_once(
    celery_worker, platform, trainee, coach
) -> None:
    # The platform stored the image but its answer was lost: no post exists, so sending
    # again is safe. The first copy of the image is left unattached, to expire.
    draft = draft_with_images(trainee, platform.account)
    image = factories.make_post_image(draft)
    platform.double.inject("5xx-after", on="upload")
    publication = approve_with_images(draft, coach, [[(image, "A poster")]])

    publication = settled(publication, lambda p: p.status == P.PUBLISHED)

    outcomes = list(publication.attempts.order_by("started_at").values_list("outcome", flat=True))
    assert outcomes == [Outcome.NOT_SENT, Outcome.PUBLISHED]
    [post] = platform.posts()
    assert [alt for alt, _ in platform.images(post)] == ["A poster"]


@pytest.mark.parametrize("platform_account", ["x"], indirect=True)
@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_media_id_x_does_not_know_is_rejected_in_xs_words(
    celery_worker, platform, trainee, coach
) -> None:
    # X forgets media ids after a while: an upload it has dropped by the time the post is
    # created is unknown to it. (No alt text, so nothing else touches the id first.)
    platform.double.media_expires_seconds = 0
    try:
        draft = draft_with_images(trainee, platform.account)
        image = factories.make_post_image(draft)
        publication = approve_with_images(draft, coach, [[(image, "")]])
        publication = settled(publication, first_attempt_done)
    finally:
        platform.double.media_expires_seconds = XDouble.media_expires_seconds
    assert publication.status == P.FAILED
    assert publication.error == f"The platform said: {INVALID_MEDIA_IDS}"
    assert publication.attempts.get().outcome == Outcome.REJECTED
    assert platform.posts() == []


# Without the worker: reconcile, and whose images may go out ----------------------------


@ALL
@pytest.mark.django_db
def test_reconcile_finds_a_post_with_images(platform, trainee, coach) -> None:
    draft = draft_with_images(trainee, platform.account)
    image = factories.make_post_image(draft)
    publication = approve_with_images(draft, coach, [[(image, "A poster")]])
    platform.double.inject("5xx-after")  # the post is stored, the answer is lost

    assert sent(publication).status == P.UNCONFIRMED

    assert coaching.publication_reconcile(publication=publication, by=coach) == P.PUBLISHED
    [post] = platform.posts()
    publication.refresh_from_db()
    assert publication.remote_id == platform.remote_id(post)


@pytest.mark.parametrize("platform_account", ["x"], indirect=True)
@pytest.mark.django_db
def test_an_image_of_another_draft_is_never_sent(platform, trainee, other_trainee, coach) -> None:
    draft = draft_with_images(trainee, platform.account)
    others = draft_with_images(other_trainee, platform.account)
    not_ours = factories.make_post_image(others, colour="purple")
    publication = approve_with_images(draft, coach, [[(not_ours, "Someone else's photo")]])

    publication = sent(publication)

    assert publication.status == P.FAILED
    assert "image 1 is no longer attached to the draft" in publication.error
    assert platform.posts() == []
    assert not publication.attempts.exists()  # nothing went near the platform


@pytest.mark.parametrize("platform_account", ["x"], indirect=True)
@pytest.mark.django_db
def test_a_post_without_images_sends_no_upload(platform, trainee, coach) -> None:
    draft = draft_with_images(trainee, platform.account)
    publication = approve_with_images(draft, coach, [[]])

    assert sent(publication).status == P.PUBLISHED

    [post] = platform.posts()
    assert post.media_ids == ()
    assert platform.double.state()["media"] == []
