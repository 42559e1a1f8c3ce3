"""coaching/services/reviews.py: the structured review (rubric, tags, anchored notes,
suggested rewrites, audit), a coach's override of a blocking finding, and the approval of
answers to practice posts, which go to the practice timeline only."""

import datetime as dt

import pytest
from django.db.models import RestrictedError
from django.urls import reverse
from django.utils import timezone

from coaching import services as coaching
from coaching.models import AuditEvent, CheckOverride, FeedbackNote, Publication, Review
from coaching.services import AnchoredNote
from coaching.services import reviews as coaching_reviews
from sandbox import services
from sandbox.errors import InvalidInput, InvalidState, NotAllowed
from sandbox.models import (
    CheckSeverity,
    Draft,
    LocalWord,
    TimelineItem,
)
from tests import builders, factories
from tests.builders import ANSWER, submitted_response
from tests.factories import (
    NHS_NUMBER_POST,
    SCENARIO_SCRIPT,
    SCORES,
    make_post_image,
    signed_in,
    wait_for,
)

pytestmark = pytest.mark.django_db

TEXT = "Flu clinic opens Monday at Ward 4. Bring your card."


@pytest.fixture
def post_text() -> str:
    return TEXT


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


def test_every_problem_of_a_review_is_reported_together(submitted, coach):
    with pytest.raises(InvalidInput) as refused:
        coaching.review_request_changes(
            draft=submitted,
            by=coach,
            note="",
            scores={"safe": "9", "person_centred": "", "effective": ""},
            tags=["spelling"],
            anchored_notes=[AnchoredNote(body="", quote="Clinic")],
        )
    problems = [(problem.field, problem.message[:30]) for problem in refused.value]
    assert problems == [
        (None, "Note 1 on particular words: wr"),
        ("safe", "Score safe from 1 to 4: “9” is"),
        ("person_centred", "Score the post for person-cent"),
        ("tags", "“spelling” is not a tag. Choos"),
    ]
    submitted.refresh_from_db()
    assert submitted.status == Draft.Status.SUBMITTED and not Review.objects.exists()


def test_no_note_and_no_scores_are_reported_together(submitted, coach):
    with pytest.raises(InvalidInput) as refused:
        coaching.review_reject(draft=submitted, by=coach, note="", scores={})
    assert [problem.field for problem in refused.value] == ["note", "safe"]
    # One line for pages that show a single message.
    assert refused.value.message.startswith("Write a note")
    assert "Score the post for safe, person-centred and effective" in refused.value.message


def test_an_approval_reports_its_schedule_and_its_scores_together(submitted, coach):
    with pytest.raises(InvalidInput) as refused:
        coaching.review_approve(
            draft=submitted,
            by=coach,
            scores={},
            publish_at=timezone.now() - dt.timedelta(hours=1),
        )
    assert [problem.field for problem in refused.value] == ["safe", "publish_at"]


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


# A coach's override of a blocking finding -------------------------------------------------


def test_a_coach_can_let_it_through_with_a_reason_and_it_is_audited(risky, trainee, coach):
    with pytest.raises(InvalidInput, match="Say why"):
        coaching.check_override(draft=risky, by=coach, reason="")
    coaching.check_override(draft=risky, by=coach, reason="Test-range number in a training post")
    coaching.draft_submit(draft=risky, by=trainee)
    assert risky.status == Draft.Status.SUBMITTED
    event = AuditEvent.objects.get(action="check_overridden")
    assert (event.actor, event.revision_id) == (coach, risky.current_revision_id)


def test_a_trainee_cannot_override(risky, trainee):
    with pytest.raises(NotAllowed):
        coaching.check_override(draft=risky, by=trainee, reason="It's fine")


def test_an_override_covers_only_that_revision(risky, trainee, coach):
    coaching.check_override(draft=risky, by=coach, reason="OK")
    services.draft_edit(draft=risky, by=trainee, text=NHS_NUMBER_POST + " Well done!")
    with pytest.raises(InvalidState, match="patient identifier"):
        coaching.draft_submit(draft=risky, by=trainee)


def test_approving_a_blocked_revision_needs_the_coachs_reason(trainee, coach, account):
    draft = services.draft_create(author=trainee, account=account, text="Clinic open 9-5")
    coaching.draft_submit(draft=draft, by=trainee)
    # The organisation switches a new rule on while the post waits in the queue.
    LocalWord.objects.create(organisation=account.organisation, word="clinic")
    CheckSeverity.objects.create(
        organisation=account.organisation, code="profanity", severity="block"
    )
    with pytest.raises(InvalidInput, match="Reason for overriding"):
        coaching.review_approve(draft=draft, by=coach)
    coaching.review_approve(draft=draft, by=coach, override_reason="Not rude in context")
    assert Publication.objects.filter(draft=draft).exists()
    assert CheckOverride.objects.get().codes == ["profanity"]


# Approval of a response: the practice timeline only ---------------------------------------


def test_approving_a_response_posts_it_in_the_practice_timeline_and_publishes_nothing(
    client, trainee, coach, account, inject
):
    draft = submitted_response(trainee, account, inject)
    url = reverse("review_decide", args=[draft.pk])
    response = signed_in(client, coach).post(
        url,
        {"decision": "approve", "revision": draft.current_revision_id, "note": "Good.", **SCORES},
    )
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.status == Draft.Status.APPROVED
    assert draft.reviews.get().decision == "approve"
    assert not Publication.objects.exists()
    posted = TimelineItem.objects.get(draft=draft)
    assert (posted.owner, posted.kind, posted.parent, posted.text) == (
        trainee,
        "reply",
        inject,
        ANSWER,
    )
    assert (
        "practice timeline only" in client.get(reverse("review", args=[draft.pk])).content.decode()
    )

    page = signed_in(client, trainee).get(draft.get_absolute_url()).content.decode()
    assert "Approved — posted in your practice timeline only" in page
    assert reverse("timeline_item", args=[inject.pk]) in page  # the reply, in its conversation
    assert "Edit your post" not in page  # posted, so final
    timeline = client.get(reverse("timeline")).content.decode()
    assert "Approved, practice only" in timeline


def test_a_response_cannot_be_scheduled_and_the_note_is_kept(
    client, trainee, coach, account, inject
):
    draft = submitted_response(trainee, account, inject)
    later = (timezone.localtime() + dt.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    response = signed_in(client, coach).post(
        reverse("review_decide", args=[draft.pk]),
        {
            "decision": "approve",
            "revision": draft.current_revision_id,
            "note": "Nice and calm.",
            "publish_at": later,
            **SCORES,
        },
    )
    assert response.status_code == 422
    body = response.content.decode()
    assert "cannot be scheduled" in body and "Nice and calm." in body
    draft.refresh_from_db()
    assert draft.status == Draft.Status.SUBMITTED and not TimelineItem.objects.filter(draft=draft)


def test_an_approved_quote_response_becomes_a_quote_post(trainee, coach, account, inject):
    draft = submitted_response(trainee, account, inject, quote_of=inject)
    coaching.review_approve(draft=draft, by=coach)
    posted = TimelineItem.objects.get(draft=draft)
    assert (posted.kind, posted.parent, posted.quote_of) == ("quote", None, inject)
    assert not Publication.objects.exists()


def test_a_response_goes_round_the_normal_review_loop(trainee, coach, account, inject):
    draft = submitted_response(trainee, account, inject)
    coaching.review_claim(draft=draft, by=coach)
    coaching.review_request_changes(draft=draft, by=coach, note="Link to the clinic page.")
    services.draft_edit(draft=draft, by=trainee, text=ANSWER + " More at nhs.uk/kelderby")
    coaching.draft_submit(draft=draft, by=trainee)
    coaching.review_approve(draft=draft, by=coach)
    assert TimelineItem.objects.get(draft=draft).text.endswith("nhs.uk/kelderby")
    assert draft.reviews.count() == 2 and not Publication.objects.exists()


def test_an_approved_response_cannot_be_edited_or_approved_twice(trainee, coach, account, inject):
    draft = submitted_response(trainee, account, inject)
    coaching.review_approve(draft=draft, by=coach)
    draft.refresh_from_db()
    assert not draft.is_editable
    with pytest.raises(InvalidState, match="already posted in your practice timeline"):
        services.draft_edit(draft=draft, by=trainee, text="Changed my mind")
    with pytest.raises(InvalidState):
        coaching.review_approve(draft=draft, by=coach)
    assert TimelineItem.objects.filter(draft=draft).count() == 1


def test_a_publication_for_a_response_is_stopped_at_the_gate(
    x_double, trainee, coach, account, inject
):
    """Approval never makes one; if any other path ever did, the publisher refuses it."""
    draft = submitted_response(trainee, account, inject)
    review = coaching.review_approve(draft=draft, by=coach)
    publication = Publication.objects.create(
        draft=draft,
        revision=review.revision,
        approval=review,
        account=account,
        text=ANSWER,
        parts=[{"text": ANSWER, "remote_id": "", "remote_url": ""}],
        content_hash=review.content_hash,
    )
    coaching.publication_send(publication_id=publication.pk)
    publication.refresh_from_db()
    assert publication.status == Publication.Status.CANCELLED
    assert "never goes to the real account" in publication.error
    assert x_double.posts_for(account.handle) == []


def test_a_scenario_with_responses_cannot_be_deleted_from_under_them(
    trainee, account, inject, scenario
):
    """Losing the link would turn the response into an ordinary draft that an approval
    publishes, so the database refuses."""
    draft = submitted_response(trainee, account, inject)
    with pytest.raises(RestrictedError):
        scenario.delete()
    draft.refresh_from_db()
    assert draft.is_sandbox_only


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_through_the_worker_only_the_ordinary_post_reaches_the_x_double(
    monkeypatch, celery_worker, x_double, trainee, coach, account, organisation
):
    """The real path: approvals commit, the worker runs. A response approved alongside an
    ordinary post never reaches the X API; the ordinary one shows the double is watched."""
    requests: list[str] = []
    handle = x_double.handle

    def watched(request):
        requests.append(f"{request.method} {request.path} {request.body.decode(errors='replace')}")
        return handle(request)

    monkeypatch.setattr(x_double, "handle", watched)
    scenario = services.scenario_save(
        by=coach,
        organisation_id=organisation.pk,
        title="Rumour",
        description="",
        items=services.parse_scenario_script(SCENARIO_SCRIPT),
    )
    run = services.scenario_start(scenario=scenario, trainee=trainee, by=coach)
    inject = run.items.get(appear_at=run.started_at)
    response = submitted_response(trainee, account, inject)
    ordinary = services.draft_create(author=trainee, account=account, text="Clinic open 9-5")
    coaching.draft_submit(draft=ordinary, by=trainee)

    coaching.review_approve(draft=response, by=coach)
    coaching.review_approve(draft=ordinary, by=coach)

    wait_for(lambda: Publication.objects.filter(status=Publication.Status.PUBLISHED).exists())
    posted = TimelineItem.objects.get(draft=response)
    # The simulated audience, enqueued on commit, reacts to the practice reply.
    wait_for(lambda: TimelineItem.objects.filter(pk=posted.pk, audience__isnull=False).exists())
    assert Publication.objects.filter(draft=response).count() == 0
    assert [p.text for p in x_double.posts_for(account.handle)] == ["Clinic open 9-5"]
    assert requests and not any("vaccines are in date" in r for r in requests)


# Approving several clean posts from the queue (review_approve_clean) ----------------------


def _pair(draft: Draft) -> tuple[int, int]:
    return (draft.pk, draft.current_revision_id)


def test_clean_posts_approved_together_are_each_a_decision_of_their_own(
    trainee, other_trainee, coach, account
):
    first = builders.submitted(trainee, account, "Flu clinic opens Monday.")
    second = builders.submitted(other_trainee, account, "Ward 4 is open to visitors again.")
    outcomes = coaching.review_approve_clean(
        by=coach, chosen=[_pair(first), _pair(second)], scores=SCORES
    )
    assert [(o.draft_id, o.approved) for o in outcomes] == [(first.pk, True), (second.pk, True)]
    assert outcomes[0].message == "Approved: it is queued for publication."
    for draft in (first, second):
        review = Review.objects.get(draft=draft)
        assert review.revision_id == draft.current_revision_id
        assert (review.decision, review.safe, review.person_centred, review.effective) == (
            Review.Decision.APPROVE,
            3,
            3,
            3,
        )
        publication = Publication.objects.get(draft=draft)
        assert publication.revision_id == draft.current_revision_id
    events = AuditEvent.objects.filter(action=AuditEvent.Action.REVIEW_APPROVED).order_by("pk")
    assert [event.draft_id for event in events] == [first.pk, second.pk]
    assert all(
        "Approved from the queue together with 1 other post, with the same scores." in event.detail
        and event.actor == coach
        for event in events
    )


def test_a_post_revised_since_it_was_ticked_is_refused_and_the_others_still_go(
    trainee, other_trainee, coach, account
):
    revised = builders.submitted(trainee, account, "Flu clinic opens Monday.")
    ticked = _pair(revised)
    services.draft_edit(draft=revised, by=trainee, text="Flu clinic opens Tuesday.")
    other = builders.submitted(other_trainee, account, "Ward 4 is open to visitors again.")
    outcomes = coaching.review_approve_clean(by=coach, chosen=[ticked, _pair(other)], scores=SCORES)
    assert [o.approved for o in outcomes] == [False, True]
    assert "changed this draft" in outcomes[0].message
    revised.refresh_from_db()
    assert revised.status == Draft.Status.SUBMITTED
    assert not Review.objects.filter(draft=revised).exists()
    assert Review.objects.filter(draft=other, decision=Review.Decision.APPROVE).exists()


def test_a_post_with_any_finding_is_refused_even_if_sent_by_hand(trainee, coach, account):
    warned = builders.submitted(trainee, account, "Damn, the clinic is shut today.")
    [outcome] = coaching.review_approve_clean(by=coach, chosen=[_pair(warned)], scores=SCORES)
    assert not outcome.approved and outcome.message == coaching_reviews.NOT_CLEAN
    assert not Review.objects.filter(draft=warned).exists()


def test_the_scores_are_required_before_anything_is_approved(trainee, coach, account):
    draft = builders.submitted(trainee, account, "Flu clinic opens Monday.")
    with pytest.raises(InvalidInput, match="Score the post for safe"):
        coaching.review_approve_clean(
            by=coach, chosen=[_pair(draft)], scores={"safe": "", "person_centred": "3"}
        )
    with pytest.raises(InvalidInput, match="Tick the posts"):
        coaching.review_approve_clean(by=coach, chosen=[], scores=SCORES)
    assert not Review.objects.exists()


def test_another_organisations_post_its_own_post_and_a_claimed_post_are_refused(
    trainee, coach, second_coach, other_organisation, other_account, account, organisation
):
    outside_trainee = factories.member(other_organisation, "trainee", username="oona")
    elsewhere = builders.submitted(outside_trainee, other_account, "Elsewhere clinic opens.")
    own = builders.submitted(coach, account, "My own clean post.")
    claimed = builders.submitted(trainee, account, "Flu clinic opens Monday.")
    coaching.review_claim(draft=claimed, by=second_coach)
    outcomes = coaching.review_approve_clean(
        by=coach,
        chosen=[
            _pair(elsewhere),
            _pair(own),
            _pair(claimed),
            (claimed.pk, elsewhere.current_revision_id),
        ],
        scores=SCORES,
    )
    assert [o.approved for o in outcomes] == [False] * 4
    assert outcomes[0].message == coaching_reviews.NOT_IN_QUEUE and outcomes[0].text == ""
    assert "own draft" in outcomes[1].message
    assert "Colin" in outcomes[2].message and "is reviewing" in outcomes[2].message
    assert outcomes[3].message == "That revision is not part of this post."
    assert not Review.objects.exists()


def test_a_trainee_cannot_approve_from_the_queue(trainee, other_trainee, account):
    draft = builders.submitted(other_trainee, account, "Flu clinic opens Monday.")
    [outcome] = coaching.review_approve_clean(by=trainee, chosen=[_pair(draft)], scores=SCORES)
    assert not outcome.approved and outcome.message == coaching_reviews.NOT_IN_QUEUE
