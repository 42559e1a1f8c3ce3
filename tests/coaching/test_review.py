"""The structured review: rubric, tags, anchored notes, suggestions, audit, and claims
(with two coaches at once on the real PostgreSQL)."""

import datetime as dt
import threading

import pytest
from django.db import connection
from django.utils import timezone

from coaching import services as coaching
from coaching.models import AuditEvent, FeedbackNote, Review
from coaching.services import AnchoredNote
from sandbox import services
from sandbox.errors import InvalidInput, InvalidState, NotAllowed
from sandbox.models import Draft
from tests.factories import SCORES, make_post_image

pytestmark = pytest.mark.django_db

TEXT = "Flu clinic opens Monday at Ward 4. Bring your card."


@pytest.fixture
def post_text() -> str:
    return TEXT


def go_stale(draft: Draft) -> None:
    Draft.objects.filter(pk=draft.pk).update(claimed_at=timezone.now() - dt.timedelta(minutes=16))


# The rubric and tags ---------------------------------------------------------------------


def test_a_decision_stores_its_scores_and_tags_in_a_stable_order(submitted, coach):
    review = coaching.review_request_changes(
        draft=submitted,
        by=coach,
        note="Say which ward.",
        scores={"safe": 4, "person_centred": "2", "effective": 3},
        tags=["timing", "tone", "tone"],
    )
    review.refresh_from_db()
    assert (review.safe, review.person_centred, review.effective) == (4, 2, 3)
    assert review.tags == ["tone", "timing"]


@pytest.mark.parametrize("bad", ["0", "5", "three", "-1", "3.5"])
def test_a_score_out_of_range_gets_a_clear_message(submitted, coach, bad):
    with pytest.raises(InvalidInput) as refused:
        coaching.review_approve(draft=submitted, by=coach, scores={**SCORES, "effective": bad})
    assert "Score effective from 1 to 4" in refused.value.message
    assert refused.value.field == "effective"
    submitted.refresh_from_db()
    assert submitted.status == Draft.Status.SUBMITTED and not Review.objects.exists()


def test_missing_scores_are_named_together(submitted, coach):
    with pytest.raises(InvalidInput) as refused:
        coaching.review_approve(draft=submitted, by=coach, scores={"safe": "", "effective": "2"})
    assert refused.value.message == (
        "Score the post for safe and person-centred (1 to 4) before you decide."
    )
    assert refused.value.field == "safe"


def test_a_decision_from_outside_the_review_page_may_be_unscored(submitted, coach):
    review = coaching.review_approve(draft=submitted, by=coach)
    assert review.scores == {"safe": None, "person_centred": None, "effective": None}


def test_an_unknown_tag_is_refused(submitted, coach):
    with pytest.raises(InvalidInput) as refused:
        coaching.review_approve(draft=submitted, by=coach, scores=SCORES, tags=["spelling"])
    assert "“spelling” is not a tag" in refused.value.message
    assert "plain english" in refused.value.message


# Notes anchored to words -------------------------------------------------------------------


def test_a_note_anchored_by_offsets_keeps_the_words(submitted, coach):
    start = TEXT.index("Ward 4")
    review = coaching.review_request_changes(
        draft=submitted,
        by=coach,
        note="",
        scores=SCORES,
        anchored_notes=[
            AnchoredNote(body="Which hospital?", post_index=0, start=start, end=start + 6)
        ],
    )
    [note] = review.notes.all()
    assert (note.post_index, note.anchor_start, note.anchor_end) == (0, start, start + 6)
    assert note.quote == "Ward 4"


def test_without_javascript_the_quoted_words_are_found_in_the_post(submitted, coach):
    review = coaching.review_approve(
        draft=submitted,
        by=coach,
        scores=SCORES,
        anchored_notes=[AnchoredNote(body="Good, plain.", quote=" Bring your card ")],
    )
    [note] = review.notes.all()
    assert note.quote == "Bring your card"
    assert TEXT[note.anchor_start : note.anchor_end] == "Bring your card"


def test_offsets_count_code_points_and_the_text_as_the_browser_shows_it(trainee, account, coach):
    text = "Vaccines 💉 here\r\nWard 4 today"
    draft = services.draft_create(author=trainee, account=account, text=text)
    coaching.draft_submit(draft=draft, by=trainee)
    shown = text.replace("\r\n", "\n")  # what the page's selection counts
    start = shown.index("Ward 4")
    review = coaching.review_approve(
        draft=draft,
        by=coach,
        scores=SCORES,
        anchored_notes=[
            AnchoredNote(body="Which?", quote="Ward 4", post_index=0, start=start, end=start + 6),
            AnchoredNote(body="Two lines", quote="here\nWard"),
        ],
    )
    first, second = review.notes.order_by("pk")
    assert first.quote == "Ward 4"
    assert second.quote == "here\r\nWard"


def test_a_thread_note_finds_the_right_post(trainee, account, coach):
    draft = services.draft_create(
        author=trainee, account=account, text="Clinic news", thread=["Call 0300 123 4567"]
    )
    coaching.draft_submit(draft=draft, by=trainee)
    review = coaching.review_approve(
        draft=draft, by=coach, scores=SCORES, anchored_notes=[AnchoredNote(body="ok", quote="0300")]
    )
    assert review.notes.get().post_index == 1


@pytest.mark.parametrize(
    ("note", "message"),
    [
        (AnchoredNote(body="Hm", post_index=0, start=40, end=400), "not in the text you are"),
        (AnchoredNote(body="Hm", post_index=0, start=5, end=5), "not in the text you are"),
        (AnchoredNote(body="Hm", quote="Ward 9"), "“Ward 9” is not in the post"),
        (AnchoredNote(body="Hm", post_index=3, quote="Ward 4"), "has no post 4"),
        (AnchoredNote(body="", quote="Ward 4"), "write what you want to say"),
        (AnchoredNote(body="Hm"), "say which words it is about"),
        (AnchoredNote(body="x" * 2001, quote="Ward 4"), "can be up to 2000 characters"),
    ],
)
def test_bad_anchors_get_a_clear_message_and_change_nothing(submitted, coach, note, message):
    with pytest.raises(InvalidInput) as refused:
        coaching.review_request_changes(
            draft=submitted, by=coach, note="Main note", scores=SCORES, anchored_notes=[note]
        )
    assert refused.value.message.startswith("Note 1 on particular words")
    assert message in refused.value.message
    assert not FeedbackNote.objects.exists()


def test_empty_note_boxes_are_ignored_and_an_anchored_note_is_enough_feedback(submitted, coach):
    review = coaching.review_request_changes(
        draft=submitted,
        by=coach,
        note="",
        scores=SCORES,
        anchored_notes=[AnchoredNote(body=""), AnchoredNote(body="Which?", quote="Ward 4")],
    )
    assert review.notes.count() == 1


def test_request_changes_still_needs_some_note(submitted, coach):
    with pytest.raises(InvalidInput, match="Write a note"):
        coaching.review_request_changes(draft=submitted, by=coach, note=" ", scores=SCORES)


# Suggested rewrites --------------------------------------------------------------------------


def test_a_suggestion_is_kept_only_if_it_changes_the_text(submitted, coach, second_coach):
    same = coaching.review_request_changes(
        draft=submitted, by=coach, note="n", scores=SCORES, suggestion=[TEXT.replace(" ", " ")]
    )
    assert same.suggestion == []


def test_a_suggestion_differing_only_in_line_endings_is_no_suggestion(trainee, account, coach):
    draft = services.draft_create(author=trainee, account=account, text="One\nTwo")
    coaching.draft_submit(draft=draft, by=trainee)
    review = coaching.review_request_changes(
        draft=draft, by=coach, note="n", scores=SCORES, suggestion=["One\r\nTwo"]
    )
    assert review.suggestion == []


def test_a_suggestion_follows_the_same_rules_as_a_draft(submitted, coach):
    with pytest.raises(InvalidInput) as refused:
        coaching.review_request_changes(
            draft=submitted, by=coach, note="n", scores=SCORES, suggestion=["x" * 290]
        )
    assert refused.value.message.startswith("Your suggested rewrite: The post is 10 characters")
    assert refused.value.field == "suggestion"


def test_a_rejection_cannot_carry_a_rewrite(submitted, coach):
    with pytest.raises(InvalidInput, match="rejected post cannot be revised"):
        coaching.review_reject(
            draft=submitted, by=coach, note="No", scores=SCORES, suggestion=["Other"]
        )


def test_using_a_suggestion_makes_the_next_revision_and_the_flow_carries_on(
    submitted, trainee, coach
):
    rewrite = "Flu clinic opens Monday on Ward 4, Victoria Hospital. Bring your card."
    review = coaching.review_request_changes(
        draft=submitted, by=coach, note="Say which hospital.", scores=SCORES, suggestion=[rewrite]
    )
    draft = coaching.review_suggestion_accept(review=review, by=trainee)
    assert draft.current_revision.number == 2
    assert draft.current_revision.posts == [rewrite]
    assert draft.status == Draft.Status.DRAFT
    review.refresh_from_db()
    assert review.suggestion_accepted_at is not None
    coaching.draft_submit(draft=draft, by=trainee)
    approval = coaching.review_approve(draft=draft, by=coach, scores=SCORES)
    assert approval.revision.number == 2
    with pytest.raises(InvalidState, match="already used this suggestion"):
        coaching.review_suggestion_accept(review=review, by=trainee)


def test_using_a_suggestion_keeps_each_posts_images_and_alt_text(
    trainee, account, coach, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    draft = services.draft_create(author=trainee, account=account, text="Ward 4", thread=["More"])
    photo = make_post_image(draft)
    images = [[], [{"id": photo.pk, "alt": "The new ward garden"}]]
    services.draft_edit(draft=draft, by=trainee, text="Ward 4", thread=["More"], images=images)
    coaching.draft_submit(draft=draft, by=trainee)
    review = coaching.review_request_changes(
        draft=draft,
        by=coach,
        note="Name the hospital.",
        scores=SCORES,
        suggestion=["Ward 4, Victoria Hospital", "More"],
    )
    draft = coaching.review_suggestion_accept(review=review, by=trainee)
    assert draft.current_revision.images_by_post == images


def test_a_suggestion_that_leaves_out_a_post_with_images_is_refused(
    trainee, account, coach, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    draft = services.draft_create(author=trainee, account=account, text="Ward 4", thread=["More"])
    photo = make_post_image(draft)
    services.draft_edit(
        draft=draft,
        by=trainee,
        text="Ward 4",
        thread=["More"],
        images=[[], [{"id": photo.pk, "alt": "The new ward garden"}]],
    )
    coaching.draft_submit(draft=draft, by=trainee)
    review = coaching.review_request_changes(
        draft=draft, by=coach, note="One post is enough.", scores=SCORES, suggestion=["Ward 4"]
    )
    with pytest.raises(InvalidState, match="leaves out post 2, which has images"):
        coaching.review_suggestion_accept(review=review, by=trainee)
    assert draft.revisions.count() == 2


def test_a_suggestion_for_an_older_revision_is_refused(submitted, trainee, coach):
    review = coaching.review_request_changes(
        draft=submitted, by=coach, note="n", scores=SCORES, suggestion=["Shorter"]
    )
    services.draft_edit(draft=submitted, by=trainee, text="My own fix")
    with pytest.raises(InvalidState, match="changed the post since"):
        coaching.review_suggestion_accept(review=review, by=trainee)
    assert Draft.objects.get(pk=submitted.pk).current_revision.text == "My own fix"


def test_a_suggestion_on_a_finished_draft_is_refused(submitted, trainee, coach):
    review = coaching.review_request_changes(
        draft=submitted, by=coach, note="n", scores=SCORES, suggestion=["Shorter"]
    )
    coaching.draft_withdraw(draft=submitted, by=trainee)
    with pytest.raises(InvalidState, match="withdrawn and can no longer be changed"):
        coaching.review_suggestion_accept(review=review, by=trainee)
    review.refresh_from_db()
    assert review.suggestion_accepted_at is None


def test_only_the_author_can_use_a_suggestion(submitted, other_trainee, coach):
    review = coaching.review_request_changes(
        draft=submitted, by=coach, note="n", scores=SCORES, suggestion=["Shorter"]
    )
    with pytest.raises(NotAllowed):
        coaching.review_suggestion_accept(review=review, by=other_trainee)


# Audit -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("decide", "action"),
    [
        (coaching.review_approve, AuditEvent.Action.REVIEW_APPROVED),
        (coaching.review_request_changes, AuditEvent.Action.REVIEW_CHANGES_REQUESTED),
        (coaching.review_reject, AuditEvent.Action.REVIEW_REJECTED),
    ],
)
def test_every_decision_is_audited_with_its_revision(submitted, coach, decide, action):
    decide(draft=submitted, by=coach, note="n", scores=SCORES, tags=["tone"])
    event = AuditEvent.objects.get(action=action)
    assert event.actor == coach
    assert event.revision_id == submitted.current_revision_id
    assert event.draft_id == submitted.pk
    assert "safe 3" in event.detail and "tone" in event.detail


# Claims ------------------------------------------------------------------------------------------


def test_a_live_claim_keeps_other_coaches_out(submitted, coach, second_coach):
    coaching.review_claim(draft=submitted, by=coach)
    with pytest.raises(InvalidState) as refused:
        coaching.review_claim(draft=submitted, by=second_coach)
    assert "Cora is reviewing this post (last active at" in refused.value.message
    with pytest.raises(InvalidState) as refused:
        coaching.review_approve(draft=submitted, by=second_coach, scores=SCORES)
    assert "Your decision was not recorded" in refused.value.message
    assert not Review.objects.exists()


def test_a_stale_claim_can_be_taken_over_and_the_old_holder_is_told(submitted, coach, second_coach):
    coaching.review_claim(draft=submitted, by=coach)
    go_stale(submitted)
    coaching.review_claim(draft=submitted, by=second_coach)
    submitted.refresh_from_db()
    assert submitted.claimed_by == second_coach
    event = AuditEvent.objects.get(action=AuditEvent.Action.CLAIM_TAKEN_OVER)
    assert event.actor == second_coach and "From Cora" in event.detail
    with pytest.raises(InvalidState, match="Colin took over this review at"):
        coaching.review_claim_renew(draft=submitted, by=coach)
    with pytest.raises(InvalidState, match="Colin took over this review at") as refused:
        coaching.review_request_changes(draft=submitted, by=coach, note="Mine", scores=SCORES)
    assert "Your decision was not recorded" in refused.value.message


def test_renewing_keeps_a_claim_live(submitted, coach, second_coach):
    coaching.review_claim(draft=submitted, by=coach)
    go_stale(submitted)
    coaching.review_claim_renew(draft=submitted, by=coach)
    with pytest.raises(InvalidState, match="Cora is reviewing"):
        coaching.review_claim(draft=submitted, by=second_coach)


def test_a_stale_claim_does_not_block_a_decision(submitted, coach, second_coach):
    coaching.review_claim(draft=submitted, by=coach)
    go_stale(submitted)
    review = coaching.review_approve(draft=submitted, by=second_coach, scores=SCORES)
    assert review.reviewer == second_coach
    submitted.refresh_from_db()
    assert submitted.claimed_by is None


def test_renewing_an_unclaimed_draft_says_so(submitted, coach):
    with pytest.raises(InvalidState, match="Nobody is reviewing this post now"):
        coaching.review_claim_renew(draft=submitted, by=coach)


def test_claiming_a_decided_draft_is_refused(submitted, coach):
    coaching.review_approve(draft=submitted, by=coach, scores=SCORES)
    with pytest.raises(InvalidState, match="cannot be picked up for review: it is approved"):
        coaching.review_claim(draft=submitted, by=coach)


# Races: two coaches at once, on PostgreSQL ---------------------------------------------------


def at_once(*actions):  # type: ignore[no-untyped-def]
    """Run each action in its own thread and connection, released together."""
    barrier = threading.Barrier(len(actions))
    outcomes: list[str] = [""] * len(actions)

    def run(index, action):  # type: ignore[no-untyped-def]
        try:
            barrier.wait()
            action()
            outcomes[index] = "done"
        except InvalidState as error:
            outcomes[index] = error.message
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=pair) for pair in enumerate(actions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("attempt", range(3))
def test_two_coaches_claiming_at_once_leave_one_holder(submitted, coach, second_coach, attempt):
    outcomes = at_once(
        lambda: coaching.review_claim(draft=Draft.objects.get(pk=submitted.pk), by=coach),
        lambda: coaching.review_claim(draft=Draft.objects.get(pk=submitted.pk), by=second_coach),
    )
    assert sorted(outcome == "done" for outcome in outcomes) == [False, True]
    refused = next(outcome for outcome in outcomes if outcome != "done")
    assert "is reviewing this post" in refused
    submitted.refresh_from_db()
    winner = coach if outcomes[0] == "done" else second_coach
    assert submitted.claimed_by == winner


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("attempt", range(3))
def test_two_coaches_taking_over_at_once_leave_one_holder_and_one_audit(
    submitted, trainee, coach, second_coach, organisation, attempt
):
    from tests.factories import member

    third = member(organisation, "coach", username="cath")
    coaching.review_claim(draft=submitted, by=coach)
    go_stale(submitted)
    outcomes = at_once(
        lambda: coaching.review_claim(draft=Draft.objects.get(pk=submitted.pk), by=second_coach),
        lambda: coaching.review_claim(draft=Draft.objects.get(pk=submitted.pk), by=third),
    )
    assert sorted(outcome == "done" for outcome in outcomes) == [False, True]
    assert AuditEvent.objects.filter(action=AuditEvent.Action.CLAIM_TAKEN_OVER).count() == 1
    submitted.refresh_from_db()
    assert submitted.claimed_by == (second_coach if outcomes[0] == "done" else third)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("attempt", range(3))
def test_a_takeover_racing_the_old_holders_decision_lets_exactly_one_through(
    submitted, coach, second_coach, attempt
):
    coaching.review_claim(draft=submitted, by=coach)
    go_stale(submitted)
    outcomes = at_once(
        lambda: coaching.review_request_changes(
            draft=Draft.objects.get(pk=submitted.pk), by=coach, note="Mine", scores=SCORES
        ),
        lambda: coaching.review_claim(draft=Draft.objects.get(pk=submitted.pk), by=second_coach),
    )
    submitted.refresh_from_db()
    decided, taken = outcomes
    if decided == "done":
        assert taken != "done"
        assert submitted.status == Draft.Status.CHANGES_REQUESTED
        assert not AuditEvent.objects.filter(action=AuditEvent.Action.CLAIM_TAKEN_OVER).exists()
    else:
        assert taken == "done" and "took over this review" in decided
        assert submitted.status == Draft.Status.IN_REVIEW
        assert submitted.claimed_by == second_coach
        assert not Review.objects.exists()
