"""coaching/services/answers.py: drafting a reply to or a quote of a post of the public's
(an inbox item), the refusals, approval copying the target into the Publication, and
sending it as a real reply or quote at each platform's double."""

import datetime as dt

import pytest
from django.utils import timezone

from coaching import services as coaching
from coaching.models import Answer, InboxItem, Notification, Publication, PublishAttempt
from coaching.publishing.bluesky import BlueskyPublisher
from coaching.publishing.mastodon import MastodonPublisher
from coaching.publishing.x import XPublisher
from coaching.services import inbox
from coaching.services.answers import GONE, QUOTE_OF_PATIENT_DETAILS, answer_start
from sandbox.errors import InvalidInput, InvalidState, NotAllowed
from sandbox.models import Draft, Membership, Organisation
from tests.builders import answer, answer_approved, approved, sent
from tests.factories import (
    BLUESKY_HANDLE,
    MASTODON_USER,
    NHS_NUMBER_POST,
    inbox_item,
    make_post_image,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _posts_are_given_to_the_trainee(trainee, monkeypatch):
    """A trainee answers only what is given to them (coaching.selectors.inbox): this
    module's posts are given to the trainee unless a test says otherwise."""
    made = inbox_item
    monkeypatch.setitem(
        globals(),
        "inbox_item",
        lambda account, **fields: made(account, **{"assigned_to": trainee, **fields}),
    )


P = Publication.Status
QUESTION = "Is the walk-in centre open on Sunday?"
REPLY = "Yes: 9 to 5 on Sunday, no appointment needed."


def public_post(platform: str, double, text: str = QUESTION) -> tuple[str, object]:
    """A post by a member of the public on the platform's double: (its id, a publisher
    that can delete it)."""
    if platform == "x":
        double.add_user("amara_okafor", token="amara-token")
        publisher = XPublisher(
            base_url=double.base_url, access_token="amara-token", username="amara_okafor"
        )
    elif platform == "mastodon":
        double.add_account("amara", token="amara-token")
        publisher = MastodonPublisher(api_base_url=double.base_url, access_token="amara-token")
    else:
        double.add_account("amara.test", app_password="amar-aokf-2rtp-w4nc")
        publisher = BlueskyPublisher(
            service_url=double.base_url, handle="amara.test", app_password="amar-aokf-2rtp-w4nc"
        )
    post = publisher.publish(text=text, idempotency_key=f"amara-{text}")
    return post.remote_id, publisher


def landed(platform: str, double) -> list[dict[str, object]]:
    """The organisation's posts at the double, oldest first: their text and what they
    answer."""
    if platform == "x":
        handle = next(u.username for u in double.users() if u.username != "amara_okafor")
        return [
            {
                "id": p.id,
                "text": p.text,
                "reply_to": p.in_reply_to_tweet_id,
                "quote_of": p.quote_tweet_id,
            }
            for p in reversed(double.posts_for(handle))
        ]
    if platform == "mastodon":
        return [
            {
                "id": s.id,
                "text": s.text,
                "reply_to": s.in_reply_to_id,
                "quote_of": s.quoted_status_id,
            }
            for s in reversed(double.statuses_for(MASTODON_USER))
        ]
    return [
        {"id": p.uri, "text": p.text, "reply_to": p.reply_parent, "quote_of": p.quoted}
        for p in reversed(double.posts_for(BLUESKY_HANDLE))
    ]


# Drafting an answer -------------------------------------------------------------------------


def test_a_trainee_drafts_a_reply_to_an_item_as_a_real_post(trainee, account):
    item = inbox_item(account)
    draft = answer_start(author=trainee, item=item, kind="reply", text=REPLY)
    assert draft.status == Draft.Status.DRAFT
    assert draft.account == account and draft.author == trainee
    assert draft.current_revision.text == REPLY
    assert Answer.objects.get(draft=draft).item == item
    assert draft.answer.kind == Answer.Kind.REPLY
    # A real post, not a practice response: nothing treats it as sandbox-only.
    assert not draft.is_sandbox_only
    assert not Draft.objects.filter(Draft.SANDBOX_ONLY, pk=draft.pk).exists()


def test_a_coach_may_answer_too(coach, account):
    draft = answer_start(author=coach, item=inbox_item(account), kind="quote", text="Worth a read")
    assert draft.answer.kind == Answer.Kind.QUOTE


def test_an_item_that_is_gone_cannot_be_answered(trainee, account):
    item = inbox_item(account, gone_at=timezone.now())
    with pytest.raises(InvalidState, match="deleted"):
        answer_start(author=trainee, item=item, kind="reply", text=REPLY)
    assert not Draft.objects.exists()


def test_an_item_of_another_organisations_account_cannot_be_answered(trainee, other_account):
    with pytest.raises(NotAllowed):
        answer_start(author=trainee, item=inbox_item(other_account), kind="reply", text=REPLY)
    assert not Draft.objects.exists()


def test_a_deactivated_member_cannot_answer(trainee, account):
    Membership.objects.filter(user=trainee).update(is_active=False)
    with pytest.raises(NotAllowed):
        answer_start(author=trainee, item=inbox_item(account), kind="reply", text=REPLY)


def test_a_post_with_a_patients_details_may_be_replied_to_but_never_quoted(trainee, account):
    item = inbox_item(account, text=NHS_NUMBER_POST)
    with pytest.raises(InvalidState) as refusal:
        answer_start(author=trainee, item=item, kind="quote", text="Lovely news")
    assert refusal.value.message == QUOTE_OF_PATIENT_DETAILS
    assert not Answer.objects.exists()
    reply = answer_start(author=trainee, item=item, kind="reply", text="Please DM us instead")
    assert reply.answer.kind == "reply"


def test_the_flags_stored_at_fetch_also_forbid_a_quote(trainee, account):
    # Words the checks might not read as a patient's details today; the fetch flagged them.
    item = inbox_item(
        account, text="My mum is in bed 4", risks=[{"code": "patient-details", "message": "x"}]
    )
    with pytest.raises(InvalidState, match="patient's details"):
        answer_start(author=trainee, item=item, kind="quote", text="Get well soon")


def test_an_answer_refused_by_the_authoring_rules_leaves_nothing_behind(trainee, account):
    with pytest.raises(InvalidInput):
        answer_start(author=trainee, item=inbox_item(account), kind="reply", text="   ")
    assert not Draft.objects.exists() and not Answer.objects.exists()


def test_an_unknown_kind_is_refused(trainee, account):
    with pytest.raises(InvalidInput, match="reply to the post or quote it"):
        answer_start(author=trainee, item=inbox_item(account), kind="repost", text=REPLY)


# Approval copies the target ----------------------------------------------------------------


def test_approval_copies_a_replys_target_into_the_publication(trainee, coach, account):
    item = inbox_item(account, remote_id="1790000000000000001")
    publication = answer_approved(trainee, coach, item, REPLY)
    assert publication.reply_to_remote_id == "1790000000000000001"
    assert publication.quote_of_remote_id == ""
    assert publication.is_answer
    assert publication.revision == publication.draft.current_revision  # bound as any post


def test_approval_copies_a_quotes_target(trainee, coach, account):
    item = inbox_item(account, remote_id="1790000000000000002")
    publication = answer_approved(trainee, coach, item, "Good question", kind="quote")
    assert publication.quote_of_remote_id == "1790000000000000002"
    assert publication.reply_to_remote_id == ""


def test_a_plain_post_answers_nothing(trainee, coach, account):
    publication = approved(trainee, coach, account)
    assert not publication.is_answer


def test_an_answer_to_an_item_gone_since_it_was_sent_cannot_be_approved(trainee, coach, account):
    item = inbox_item(account)
    draft = answer(trainee, item, REPLY)
    InboxItem.objects.filter(pk=item.pk).update(gone_at=timezone.now())
    with pytest.raises(InvalidState) as refusal:
        coaching.review_approve(draft=draft, by=coach)
    assert refusal.value.message == GONE
    assert not Publication.objects.exists()
    assert Draft.objects.get(pk=draft.pk).status == Draft.Status.SUBMITTED  # rolled back


def test_a_quote_with_an_image_on_x_is_refused_at_approval(trainee, coach, account, private_media):
    draft = answer_start(author=trainee, item=inbox_item(account), kind="quote", text="Look")
    image = make_post_image(draft)
    from sandbox import services as sandbox_services

    sandbox_services.draft_edit(
        draft=draft, by=trainee, text="Look", images=[[{"id": image.pk, "alt": "A poster"}]]
    )
    coaching.draft_submit(draft=draft, by=trainee)
    with pytest.raises(InvalidState, match="X does not take images on a quote"):
        coaching.review_approve(draft=draft, by=coach)


def test_an_answer_in_spot_check_mode_is_passed_with_its_target(trainee, account, organisation):
    # Earned autonomy on, the trainee in spot-check mode, no post sampled (1 in 100).
    Organisation.objects.filter(pk=organisation.pk).update(
        autonomy_streak=3, spot_check_every=100, spot_check_delay_minutes=60
    )
    Membership.objects.filter(user=trainee).update(review_mode=Membership.ReviewMode.SPOT_CHECK)
    organisation.refresh_from_db()
    item = inbox_item(account, remote_id="1790000000000000003")
    draft = answer(trainee, item, REPLY)
    assert draft.status == Draft.Status.APPROVED
    publication = Publication.objects.get(draft=draft)
    assert publication.reply_to_remote_id == "1790000000000000003"
    assert publication.approval.reviewer is None
    # It waits for the organisation's delay, like any post passed by spot-check.
    delay = dt.timedelta(minutes=organisation.spot_check_delay_minutes)
    assert publication.publish_at > timezone.now() + delay - dt.timedelta(minutes=1)


def test_an_answer_to_a_post_with_a_patients_details_is_always_read_by_a_coach(
    trainee, account, organisation
):
    Organisation.objects.filter(pk=organisation.pk).update(
        autonomy_streak=3, spot_check_every=100, spot_check_delay_minutes=60
    )
    Membership.objects.filter(user=trainee).update(review_mode=Membership.ReviewMode.SPOT_CHECK)
    item = inbox_item(account, text=NHS_NUMBER_POST)
    draft = answer(trainee, item, "Please message us privately so we can help.")
    assert draft.status == Draft.Status.SUBMITTED
    assert not Publication.objects.filter(draft=draft).exists()


def test_a_trainee_answers_only_what_is_given_to_them(trainee, other_trainee, account):
    item = inbox_item(account, assigned_to=other_trainee)
    with pytest.raises(NotAllowed, match="given to"):
        answer_start(author=trainee, item=item, kind="reply", text=REPLY)
    assert not Answer.objects.exists()


# Sending: a reply lands as a reply, a quote as a quote --------------------------------------


PLATFORMS = pytest.mark.parametrize("platform_account", ["x", "mastodon", "bluesky"], indirect=True)


@PLATFORMS
def test_an_approved_reply_lands_as_a_reply_to_the_item(
    platform_account, trainee, coach, django_capture_on_commit_callbacks
):
    platform, account, double = platform_account
    target, _ = public_post(platform, double)
    item = inbox_item(account, remote_id=target, assigned_to=None)
    type(account).objects.filter(pk=account.pk).update(owner=trainee)
    account.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        inbox.items_arrived(account=account, items=[item])  # the notice the answer settles
    publication = sent(answer_approved(trainee, coach, item, REPLY))
    assert publication.status == P.PUBLISHED, publication.error
    [post] = landed(platform, double)
    assert post == {
        "id": publication.remote_id,
        "text": REPLY,
        "reply_to": target,
        "quote_of": None,
    }
    item.refresh_from_db()
    assert item.state == InboxItem.State.DONE
    assert item.handled_by == trainee and item.handled_at is not None
    notices = Notification.objects.filter(kind=Notification.Kind.INBOX)
    assert notices.count() >= 1 and not notices.filter(resolved_at__isnull=True).exists()


@PLATFORMS
def test_an_approved_quote_lands_as_a_quote_of_the_item(platform_account, trainee, coach):
    platform, account, double = platform_account
    target, _ = public_post(platform, double)
    item = inbox_item(account, remote_id=target)
    publication = sent(answer_approved(trainee, coach, item, "Good question!", kind="quote"))
    assert publication.status == P.PUBLISHED, publication.error
    [post] = landed(platform, double)
    assert post["quote_of"] == target and post["reply_to"] is None
    assert post["text"].startswith("Good question!")


@PLATFORMS
def test_a_reply_to_a_post_deleted_since_is_rejected_and_the_item_gone(
    platform_account, trainee, coach
):
    platform, account, double = platform_account
    target, author = public_post(platform, double)
    item = inbox_item(account, remote_id=target)
    publication = answer_approved(trainee, coach, item, REPLY)
    author.delete(remote_id=target)
    publication = sent(publication)
    assert publication.status == P.FAILED
    assert publication.attempts.get().outcome == PublishAttempt.Outcome.REJECTED
    assert landed(platform, double) == []
    item.refresh_from_db()
    assert item.gone_at is not None and item.state == InboxItem.State.OPEN


def test_xs_own_words_for_a_reply_to_a_deleted_post(trainee, coach, account, x_double):
    target, author = public_post("x", x_double)
    publication = answer_approved(trainee, coach, inbox_item(account, remote_id=target), REPLY)
    author.delete(remote_id=target)
    publication = sent(publication)
    assert (
        "You attempted to reply to a Tweet that is deleted or not visible to you."
        in publication.error
    )
    assert publication.attempts.get().status_code == 403


def test_a_thread_answers_with_its_first_post_and_chains_the_rest(
    trainee, coach, account, x_double
):
    target, _ = public_post("x", x_double)
    item = inbox_item(account, remote_id=target)
    started = answer_start(
        author=trainee, item=item, kind="reply", text=REPLY, thread=["More: nhs.uk"]
    )
    coaching.draft_submit(draft=started, by=trainee)
    coaching.review_approve(draft=started, by=coach)
    publication = sent(Publication.objects.get(draft=started))
    assert publication.status == P.PUBLISHED
    first, second = landed("x", x_double)
    assert first["reply_to"] == target
    assert second["reply_to"] == first["id"] and second["quote_of"] is None


def test_sending_an_answer_again_never_posts_twice(trainee, coach, account, x_double):
    target, _ = public_post("x", x_double)
    publication = answer_approved(trainee, coach, inbox_item(account, remote_id=target), REPLY)
    sent(publication)
    sent(publication)
    coaching.publication_send(publication_id=publication.pk)
    assert len(landed("x", x_double)) == 1


def test_an_unconfirmed_reply_is_reconciled_not_sent_again(trainee, coach, account, x_double):
    target, _ = public_post("x", x_double)
    item = inbox_item(account, remote_id=target)
    publication = answer_approved(trainee, coach, item, REPLY)
    x_double.inject("5xx-after")
    publication = sent(publication)
    assert publication.status == P.UNCONFIRMED
    coaching.publication_reconcile(publication=publication)
    publication.refresh_from_db()
    assert publication.status == P.PUBLISHED
    [post] = landed("x", x_double)
    assert post["reply_to"] == target and publication.remote_id == post["id"]
    item.refresh_from_db()
    assert item.state == InboxItem.State.DONE  # settled by reconcile, as by a send


def test_an_item_already_dealt_with_keeps_who_dealt_with_it(trainee, coach, account, x_double):
    target, _ = public_post("x", x_double)
    item = inbox_item(account, remote_id=target)
    publication = answer_approved(trainee, coach, item, REPLY)
    InboxItem.objects.filter(pk=item.pk).update(
        state=InboxItem.State.NO_REPLY, handled_by=coach, handled_at=timezone.now()
    )
    sent(publication)
    item.refresh_from_db()
    assert item.state == InboxItem.State.NO_REPLY and item.handled_by == coach
