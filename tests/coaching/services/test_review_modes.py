"""Earned autonomy at work (coaching/services/review_modes.py): the rule moving a trainee
between full review and spot-check in both directions, the 1-in-N routing, the automatic
pass bound to one revision, a coach holding a post, and who may do what."""

import datetime as dt
from collections.abc import Iterator
from functools import partial

import pytest
from django.db.models.signals import pre_save
from django.utils import timezone

from coaching import services as coaching
from coaching.models import AuditEvent, Publication, Review
from sandbox import services
from sandbox.errors import InvalidInput, InvalidState, NotAllowed
from sandbox.models import Draft, Membership, Organisation, TimelineItem
from tests import builders
from tests.builders import submitted
from tests.factories import NHS_NUMBER_POST

pytestmark = pytest.mark.django_db

Mode = Membership.ReviewMode


# The rule against the database ---------------------------------------------------------------


GOOD_SCORES = {"safe": 3, "person_centred": 3, "effective": 3}


class Rubric:
    """The coach's scores for the reviews these tests make. ``approved`` passes them
    through the service as a coach's form does; for the other service calls (a request
    for changes, a re-approval) a new coach review given no scores is saved with them."""

    scores: tuple[int, int, int] = (3, 3, 3)

    def __call__(self, sender, instance: Review, **kwargs) -> None:
        unscored = instance.safe is None and instance.effective is None
        if instance._state.adding and instance.reviewer_id is not None and unscored:
            instance.safe, instance.person_centred, instance.effective = self.scores


@pytest.fixture
def rubric() -> Iterator[Rubric]:
    scorer = Rubric()
    pre_save.connect(scorer, sender=Review, dispatch_uid="test-rubric")
    yield scorer
    pre_save.disconnect(sender=Review, dispatch_uid="test-rubric")


@pytest.fixture
def rule(organisation: Organisation) -> Organisation:
    Organisation.objects.filter(pk=organisation.pk).update(
        autonomy_streak=3, autonomy_min_score=3, spot_check_every=3, spot_check_delay_minutes=60
    )
    organisation.refresh_from_db()
    return organisation


def mode_of(user) -> str:
    return Membership.objects.get(user=user).review_mode


# Every approval here is scored high enough to count towards the streak, unless it says.
approved = partial(builders.approved, scores=GOOD_SCORES)


def earn_spot_check(trainee, coach, account) -> None:
    for n in range(3):
        approved(trainee, coach, account, f"Clinic open {n}")
    assert mode_of(trainee) == Mode.SPOT_CHECK


def mode_events(trainee) -> list[AuditEvent]:
    return list(
        AuditEvent.objects.filter(action="mode_changed", trainee=trainee).order_by("created_at")
    )


def test_the_streak_earns_spot_check_and_the_change_is_audited(
    rule, rubric, trainee, coach, account
):
    approved(trainee, coach, account, "One")
    approved(trainee, coach, account, "Two")
    assert mode_of(trainee) == Mode.FULL
    last = approved(trainee, coach, account, "Three").draft
    assert mode_of(trainee) == Mode.SPOT_CHECK
    [event] = mode_events(trainee)
    assert event.actor is None  # the rule, not a person
    assert event.revision_id == last.current_revision_id
    assert event.detail.startswith("Moved to spot-check: 3 first-pass approvals in a row")


def test_low_scores_a_request_for_changes_or_an_override_break_the_streak(
    rule, rubric, trainee, coach, account
):
    approved(trainee, coach, account, "One")
    approved(trainee, coach, account, "Two")
    approved(
        trainee,
        coach,
        account,
        "Three, scored 2 for safe",
        scores={"safe": 2, "person_centred": 4, "effective": 4},
    )
    approved(trainee, coach, account, "Four")
    approved(trainee, coach, account, "Five")
    assert mode_of(trainee) == Mode.FULL  # the low score broke it: the streak is 2

    sent_back = submitted(trainee, account, "Six")
    coaching.review_request_changes(draft=sent_back, by=coach, note="Add the opening hours")
    services.draft_edit(draft=sent_back, by=trainee, text="Six, 9 to 5")
    coaching.draft_submit(draft=sent_back, by=trainee)
    coaching.review_approve(draft=sent_back, by=coach)
    approved(trainee, coach, account, "Seven")
    assert mode_of(trainee) == Mode.FULL  # "Six" was not a first pass

    risky = services.draft_create(author=trainee, account=account, text=NHS_NUMBER_POST)
    coaching.check_override(draft=risky, by=coach, reason="A test-range number")
    coaching.draft_submit(draft=risky, by=trainee)
    coaching.review_approve(draft=risky, by=coach)
    approved(trainee, coach, account, "Eight")
    approved(trainee, coach, account, "Nine")
    assert mode_of(trainee) == Mode.FULL  # the override broke it
    approved(trainee, coach, account, "Ten")
    assert mode_of(trainee) == Mode.SPOT_CHECK


def test_with_the_rule_off_nobody_moves(organisation, rubric, trainee, coach, account):
    assert organisation.autonomy_streak == 0
    for n in range(12):
        approved(trainee, coach, account, f"Post {n}")
    assert mode_of(trainee) == Mode.FULL
    assert mode_events(trainee) == []


@pytest.mark.parametrize("decision", ["request_changes", "reject"])
def test_a_coachs_request_for_changes_or_rejection_returns_to_full_review(
    rule, rubric, trainee, coach, account, decision
):
    earn_spot_check(trainee, coach, account)
    passed = [submitted(trainee, account, f"Spot {n}") for n in (1, 2)]
    sampled = submitted(trainee, account, "Spot 3, for a coach")
    assert sampled.status == Draft.Status.SUBMITTED
    decide = getattr(coaching, f"review_{decision}")
    decide(draft=sampled, by=coach, note="Check the date")

    assert mode_of(trainee) == Mode.FULL
    event = mode_events(trainee)[-1]
    assert event.actor == coach
    assert event.detail.startswith("Back to full review: Cora ")
    # Posts passed by spot-check and still waiting go to a coach too.
    for draft in passed:
        draft.refresh_from_db()
        assert draft.status == Draft.Status.SUBMITTED
        assert draft.publications.get().status == Publication.Status.CANCELLED
    # And the streak starts again from zero: one more approval does not bring it back.
    coaching.review_approve(draft=passed[0], by=coach)
    assert mode_of(trainee) == Mode.FULL


def test_an_override_of_a_blocking_finding_returns_to_full_review(
    rule, rubric, trainee, coach, account
):
    earn_spot_check(trainee, coach, account)
    risky = services.draft_create(author=trainee, account=account, text=NHS_NUMBER_POST)
    coaching.check_override(draft=risky, by=coach, reason="A test-range number")
    assert mode_of(trainee) == Mode.FULL
    detail = mode_events(trainee)[-1].detail
    assert "let one of your posts through the risk checks: patient identifier" in detail
    coaching.draft_submit(draft=risky, by=trainee)
    assert risky.status == Draft.Status.SUBMITTED  # to the queue, not passed


def test_a_blocking_finding_in_a_spot_check_submission_returns_to_full_review(
    rule, rubric, trainee, coach, account
):
    earn_spot_check(trainee, coach, account)
    risky = services.draft_create(author=trainee, account=account, text=NHS_NUMBER_POST)
    with pytest.raises(InvalidState, match="patient identifier"):
        coaching.draft_submit(draft=risky, by=trainee)
    assert mode_of(trainee) == Mode.FULL
    event = mode_events(trainee)[-1]
    assert event.actor is None
    assert event.detail == (
        "Back to full review: The risk checks blocked a post you tried to send: patient identifier."
    )


def test_one_in_n_goes_to_the_queue_and_the_rest_are_passed(rule, rubric, trainee, coach, account):
    earn_spot_check(trainee, coach, account)
    statuses = [submitted(trainee, account, f"Spot {n}").status for n in range(1, 7)]
    assert statuses == ["approved", "approved", "submitted", "approved", "approved", "submitted"]
    assert Membership.objects.get(user=trainee).spot_check_count == 6


def test_the_automatic_pass_binds_to_the_exact_revision_and_waits_for_the_delay(
    rule, rubric, trainee, coach, account
):
    earn_spot_check(trainee, coach, account)
    before = timezone.now()
    draft = submitted(trainee, account, "Flu clinic moved to Ward 5")
    review = draft.reviews.get()
    assert review.reviewer is None and review.decision == Review.Decision.APPROVE
    assert review.revision_id == draft.current_revision_id
    assert review.content_hash == draft.current_revision.content_hash
    publication = draft.publications.get()
    assert (publication.approval, publication.revision_id) == (review, review.revision_id)
    assert publication.status == Publication.Status.QUEUED
    delay = dt.timedelta(minutes=60)
    assert before + delay <= publication.publish_at <= timezone.now() + delay
    event = AuditEvent.objects.get(action="spot_check_passed")
    assert event.publication == publication and event.actor is None
    # Not due: the sweep leaves it alone.
    assert coaching.publication_sweep()["enqueued"] == 0

    # An edit during the delay voids the pass; the new text goes to a coach.
    services.draft_edit(draft=draft, by=trainee, text="Flu clinic moved to Ward 6")
    draft.refresh_from_db()
    assert draft.status == Draft.Status.SUBMITTED
    publication.refresh_from_db()
    assert publication.status == Publication.Status.CANCELLED


def test_a_sandbox_only_reply_is_reviewed_as_usual_and_not_counted(
    rule, rubric, trainee, coach, account
):
    earn_spot_check(trainee, coach, account)
    troll = TimelineItem.objects.create(
        owner=trainee, persona="troll", text="Your clinic is a joke", appear_at=timezone.now()
    )
    reply = services.draft_create(author=trainee, account=account, text="Sorry to hear that")
    Draft.objects.filter(pk=reply.pk).update(in_reply_to=troll)
    reply.refresh_from_db()
    coaching.draft_submit(draft=reply, by=trainee)
    assert reply.status == Draft.Status.SUBMITTED
    assert Membership.objects.get(user=trainee).spot_check_count == 0


def test_a_coach_holds_a_passed_post_and_the_trainee_returns_to_full_review(
    rule, rubric, trainee, coach, second_coach, account
):
    from coaching.models import Notification

    earn_spot_check(trainee, coach, account)
    draft = submitted(trainee, account, "Parking is free this week")
    coaching.spot_check_hold(draft=draft, by=second_coach)  # any coach of the organisation
    draft.refresh_from_db()
    assert draft.status == Draft.Status.SUBMITTED
    # Told twice: that it would publish unless held, then that it is in the queue.
    assert Notification.objects.filter(user=coach, draft=draft).count() == 2
    publication = draft.publications.get()
    assert publication.status == Publication.Status.CANCELLED
    assert publication.error == "Held for review by Colin."
    assert mode_of(trainee) == Mode.FULL
    event = mode_events(trainee)[-1]
    assert event.actor == second_coach
    assert event.detail == (
        "Back to full review: Colin held one of your posts for review before it published."
    )
    # Then reviewed like any other post.
    coaching.review_approve(draft=draft, by=coach)
    assert draft.publications.filter(status="queued", publish_at__isnull=True).exists()


def test_holding_too_late_or_twice_is_refused_clearly(rule, rubric, trainee, coach, account):
    earn_spot_check(trainee, coach, account)
    draft = submitted(trainee, account, "Going out now")
    Publication.objects.filter(draft=draft).update(status=Publication.Status.SENDING)
    with pytest.raises(InvalidState, match="Too late to hold this post"):
        coaching.spot_check_hold(draft=draft, by=coach)
    assert mode_of(trainee) == Mode.SPOT_CHECK  # nothing changed
    submitted(trainee, account, "Second, passed")
    coached = approved(trainee, coach, account, "Third, sampled and approved by a coach").draft
    with pytest.raises(InvalidState, match="Only a post passed by spot-check"):
        coaching.spot_check_hold(draft=coached, by=coach)


def test_only_a_coach_of_the_organisation_can_hold(
    rule, rubric, trainee, other_trainee, coach, outside_coach, account
):
    earn_spot_check(trainee, coach, account)
    draft = submitted(trainee, account, "Please hold")
    for who in (outside_coach, other_trainee, trainee):
        with pytest.raises(NotAllowed):
            coaching.spot_check_hold(draft=draft, by=who)
    assert draft.publications.get().status == Publication.Status.QUEUED
    assert mode_of(trainee) == Mode.SPOT_CHECK


def test_a_coach_can_switch_a_trainee_back_by_hand_and_nobody_else_can(
    rule, rubric, trainee, coach, outside_coach, account, organisation
):
    earn_spot_check(trainee, coach, account)
    for who in (trainee, outside_coach):
        with pytest.raises(NotAllowed):
            coaching.review_mode_set_full(
                trainee=trainee, organisation_id=organisation.pk, by=who, reason="Because"
            )
    with pytest.raises(InvalidInput, match="Say why"):
        coaching.review_mode_set_full(
            trainee=trainee, organisation_id=organisation.pk, by=coach, reason="  "
        )
    assert mode_of(trainee) == Mode.SPOT_CHECK
    coaching.review_mode_set_full(
        trainee=trainee, organisation_id=organisation.pk, by=coach, reason="New to the team"
    )
    assert mode_of(trainee) == Mode.FULL
    assert mode_events(trainee)[-1].detail == (
        "Back to full review: Cora switched you back: New to the team"
    )
    with pytest.raises(InvalidState, match="already in full review"):
        coaching.review_mode_set_full(
            trainee=trainee, organisation_id=organisation.pk, by=coach, reason="Again"
        )


def test_turning_the_rule_off_returns_a_trainee_to_full_review_at_their_next_post(
    rule, rubric, trainee, coach, account
):
    earn_spot_check(trainee, coach, account)
    Organisation.objects.filter(pk=rule.pk).update(autonomy_streak=0)
    draft = submitted(trainee, account, "After the change")
    assert draft.status == Draft.Status.SUBMITTED
    assert mode_of(trainee) == Mode.FULL
    assert "turned earned autonomy off" in mode_events(trainee)[-1].detail


# What people are told ----------------------------------------------------------------------


def test_the_trainee_is_told_of_each_change_of_mode(rule, rubric, trainee, coach, account):
    from coaching.models import Notification

    earn_spot_check(trainee, coach, account)
    [notice] = Notification.objects.filter(user=trainee, kind="mode_changed")
    assert notice.message.startswith("Moved to spot-check: 3 first-pass approvals in a row")

    coaching.review_mode_set_full(
        trainee=trainee, organisation_id=rule.pk, by=coach, reason="Refresher"
    )
    latest = Notification.objects.filter(user=trainee, kind="mode_changed").first()
    assert latest is not None and latest.message.startswith("Back to full review")


def test_coaches_are_told_a_spot_check_pass_publishes_unless_they_hold_it(
    rule, rubric, trainee, coach, account
):
    from coaching.models import Notification

    earn_spot_check(trainee, coach, account)
    passed = submitted(trainee, account, "Flu clinic on Friday")
    assert passed.status == Draft.Status.APPROVED
    notice = Notification.objects.filter(user=coach, draft=passed).get()
    assert "passed by spot-check and publishes after the delay unless you hold it" in notice.message


def test_practice_responses_never_earn_spot_check(rule, rubric, trainee, coach, account):
    troll = TimelineItem.objects.create(
        owner=trainee, persona="troll", text="Your clinic is a joke", appear_at=timezone.now()
    )
    for n in range(4):
        reply = services.draft_create(
            author=trainee, account=account, text=f"Sorry to hear that ({n})", in_reply_to=troll
        )
        coaching.draft_submit(draft=reply, by=trainee)
        coaching.review_approve(draft=reply, by=coach, scores=GOOD_SCORES)
    assert mode_of(trainee) == Mode.FULL
    # Real posts still count from zero: the practice approvals did not start a streak.
    approved(trainee, coach, account, "Clinic open")
    approved(trainee, coach, account, "Clinic open again")
    assert mode_of(trainee) == Mode.FULL
    approved(trainee, coach, account, "Clinic open once more")
    assert mode_of(trainee) == Mode.SPOT_CHECK
