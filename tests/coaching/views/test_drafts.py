"""The trainee's draft page (coaching/views/drafts.py): editing and sending it, the
feedback, suggestions and publication shown against each revision, images, and what is
kept when something is refused."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from coaching import services as coaching
from coaching.models import FeedbackNote, Publication, Review
from coaching.services import AnchoredNote
from sandbox import services
from sandbox.models import Draft, PostImage
from tests import builders
from tests.builders import submitted_response
from tests.factories import SCORES, signed_in
from tests.sandbox.test_media import photo

pytestmark = pytest.mark.django_db

TEXT = "Flu clinic opens Monday at Ward 4. Bring your card."
PEOPLE = ["anonymous", "trainee", "other_trainee", "coach", "outside_coach", "admin"]


# Editing and sending from the page --------------------------------------------------------


def test_an_edit_that_is_refused_keeps_the_typed_text(as_trainee, submitted, coach):
    coaching.review_reject(draft=submitted, by=coach, note="No")
    response = as_trainee.post(
        reverse("draft_edit", args=[submitted.pk]), {"text": "My careful rewrite"}
    )
    assert response.status_code == 422
    body = response.content.decode()
    assert "can no longer be edited" in body
    assert "My careful rewrite" in body  # shown back so it can be copied to a new draft
    submitted.refresh_from_db()
    assert submitted.text == "Clinic open 9-5"


def test_submitting_in_the_wrong_state_explains_why(as_trainee, submitted):
    response = as_trainee.post(reverse("draft_submit", args=[submitted.pk]), follow=True)
    assert "cannot be submitted: it is waiting for review" in response.content.decode()


def test_the_draft_page_shows_feedback_against_its_revision(as_trainee, submitted, coach, trainee):
    coaching.review_request_changes(draft=submitted, by=coach, note="Add the clinic address.")
    services.draft_edit(draft=submitted, by=trainee, text="Clinic at 1 High St open 9-5")
    body = as_trainee.get(reverse("draft_detail", args=[submitted.pk])).content.decode()
    first, second = body.index("Revision 2"), body.index("Revision 1")
    assert first < second < body.index("Add the clinic address.")


def test_a_draft_sent_back_is_revised_and_sent_in_one_action(as_trainee, submitted, coach):
    coaching.review_request_changes(draft=submitted, by=coach, note="Say which ward.")
    page = as_trainee.get(reverse("draft_detail", args=[submitted.pk])).content.decode()
    # The feedback leads; the one action is offered at once, not only after saving.
    assert page.index("Say which ward.") < page.index("Save and send to my coach")
    response = as_trainee.post(
        reverse("draft_edit", args=[submitted.pk]),
        {"text": "Clinic on Ward 4 open 9-5", "send": "1"},
        follow=True,
    )
    assert "Sent to your coach for review." in response.content.decode()
    submitted.refresh_from_db()
    assert submitted.status == Draft.Status.SUBMITTED
    assert (submitted.current_revision.number, submitted.text) == (2, "Clinic on Ward 4 open 9-5")


def test_sending_back_the_text_the_coach_returned_is_refused(as_trainee, submitted, coach):
    coaching.review_request_changes(draft=submitted, by=coach, note="Say which ward.")
    response = as_trainee.post(
        reverse("draft_edit", args=[submitted.pk]),
        {"text": submitted.text, "send": "1"},
        follow=True,
    )
    assert "Your coach asked for changes to this post." in response.content.decode()
    submitted.refresh_from_db()
    assert submitted.status == Draft.Status.CHANGES_REQUESTED


def test_save_and_send_saves_even_when_the_send_is_refused(as_trainee, submitted, coach):
    coaching.review_request_changes(draft=submitted, by=coach, note="Say which ward.")
    response = as_trainee.post(
        reverse("draft_edit", args=[submitted.pk]),
        {"text": "Clinic open 9-5. Call Jane Smith on 07700 900123", "send": "1"},
        follow=True,
    )
    body = response.content.decode()
    assert "Saved as a draft, but not sent." in body
    submitted.refresh_from_db()
    assert (submitted.status, submitted.current_revision.number) == (Draft.Status.DRAFT, 2)


def test_a_plain_save_does_not_send(as_trainee, draft):
    as_trainee.post(reverse("draft_edit", args=[draft.pk]), {"text": "Clinic open 9-6"})
    draft.refresh_from_db()
    assert (draft.status, draft.text) == (Draft.Status.DRAFT, "Clinic open 9-6")


def test_the_publication_panel_is_its_own_htmx_fragment(as_trainee, submitted, coach):
    coaching.review_approve(draft=submitted, by=coach)
    response = as_trainee.get(
        reverse("draft_detail", args=[submitted.pk]), headers={"HX-Request": "true"}
    )
    body = response.content.decode()
    assert body.lstrip().startswith('<div id="publication"')
    assert "sp-post" not in body  # the post is shown once, in the preview outside it
    assert "Approved, queued" in body
    assert 'hx-trigger="every 2s"' in body  # keeps polling while in flight


def test_a_live_post_shows_its_link_and_stops_polling(as_trainee, submitted, coach):
    coaching.review_approve(draft=submitted, by=coach)
    Publication.objects.filter(draft=submitted).update(
        status="published", remote_url="http://127.0.0.1:8025/TestBoard/status/1"
    )
    body = as_trainee.get(
        reverse("draft_detail", args=[submitted.pk]), headers={"HX-Request": "true"}
    ).content.decode()
    assert "http://127.0.0.1:8025/TestBoard/status/1" in body
    assert "hx-trigger" not in body


def test_a_button_address_opened_on_its_own_explains_itself(client, trainee, account):
    draft = services.draft_create(author=trainee, account=account, text="Flu clinic today")
    client.force_login(trainee)
    response = client.get(reverse("draft_submit", args=[draft.pk]))
    assert response.status_code == 405
    assert response["Allow"] == "POST"
    assert "This address is for a button" in response.content.decode()


# Images on the draft page -----------------------------------------------------------------


@pytest.mark.usefixtures("private_media")
def test_editing_a_draft_changes_only_the_alt_text(as_trainee, trainee, account):
    image = services.post_image_add(by=trainee, draft=None, upload=photo())
    draft = services.draft_create(
        author=trainee, account=account, text="Hi", images=[[{"id": image.pk, "alt": "Old"}]]
    )
    page = as_trainee.get(reverse("draft_detail", args=[draft.pk])).content.decode()
    assert 'enctype="multipart/form-data"' in page and ">Old</textarea>" in page
    response = as_trainee.post(
        reverse("draft_edit", args=[draft.pk]),
        {"text": "Hi", "image-0": image.pk, f"alt-0-{image.pk}": "New"},
    )
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.current_revision.number == 2
    assert draft.current_revision.images == [[{"id": image.pk, "alt": "New"}]]


@pytest.mark.usefixtures("private_media")
def test_an_upload_on_the_draft_page_belongs_to_the_draft(as_trainee, trainee, account):
    draft = services.draft_create(author=trainee, account=account, text="Hi")
    as_trainee.post(
        reverse("draft_edit", args=[draft.pk]),
        {"text": "Hi", "upload-0": photo(), "upload-alt-0": "The desk"},
    )
    image = PostImage.objects.get()
    assert image.draft == draft
    draft.refresh_from_db()
    assert draft.current_revision.images == [[{"id": image.pk, "alt": "The desk"}]]


@pytest.mark.usefixtures("private_media")
def test_the_draft_page_previews_the_thread_as_on_the_account(as_trainee, trainee, account):
    image = services.post_image_add(by=trainee, draft=None, upload=photo())
    draft = services.draft_create(
        author=trainee,
        account=account,
        text="Visit #NHS",
        thread=["Second"],
        images=[[], [{"id": image.pk, "alt": "The desk"}]],
    )
    page = as_trainee.get(reverse("draft_detail", args=[draft.pk])).content.decode()
    preview = page[page.index('id="preview-title"') :]
    assert f"how it will look on @{account.handle}" in preview
    assert account.display_name in preview and "sp-entity--hashtag" in preview
    assert "Thread of 2 posts" in preview and "10 of 280 characters" in preview
    assert 'alt="The desk"' in preview
    assert "Image 1, described as: “The desk”" in page  # in the revision history


# The trainee's view -----------------------------------------------------------------------


@pytest.fixture
def reviewed(trainee, account, coach):
    submitted = builders.submitted(trainee, account, TEXT)
    return coaching.review_request_changes(
        draft=submitted,
        by=coach,
        note="Nearly there.",
        scores={"safe": 4, "person_centred": 2, "effective": 3},
        tags=["plain_english"],
        anchored_notes=[AnchoredNote(body="Which hospital?", quote="Ward 4")],
        suggestion=["Flu clinic opens Monday on Ward 4, Victoria Hospital. Bring your card."],
    )


def test_the_trainee_sees_scores_tags_and_notes_marked_in_their_text(client, trainee, reviewed):
    body = signed_in(client, trainee).get(reverse("draft_detail", args=[reviewed.draft_id]))
    body = body.content.decode()
    note = FeedbackNote.objects.get(quote="Ward 4")
    assert "<dt>Person-centred</dt><dd><strong>2 of 4</strong>: Written for the service" in body
    assert '<strong class="nhsuk-tag nhsuk-tag--grey">Plain English</strong>' in body
    assert '<mark class="sp-anchor">Ward 4</mark>' in body
    assert f'href="#note-{note.pk}"' in body and f'id="note-{note.pk}"' in body
    assert "(see note 1)" in body and "<strong>Note 1</strong> on “Ward 4”: Which hospital?" in body
    assert "Use this rewrite" in body
    assert "<ins>" in body  # the rewrite shows what it changes


def test_a_spot_check_pass_shows_as_spot_check(client, trainee, submitted):
    Review.objects.create(
        draft=submitted,
        revision=submitted.current_revision,
        decision="approve",
        content_hash=submitted.current_revision.content_hash,
    )
    body = signed_in(client, trainee).get(reverse("draft_detail", args=[submitted.pk]))
    assert "<strong>Passed by spot-check</strong> (no coach read it)" in body.content.decode()


def test_using_the_rewrite_makes_a_new_revision(client, trainee, reviewed):
    url = reverse("suggestion_accept", args=[reviewed.draft_id, reviewed.pk])
    response = signed_in(client, trainee).post(url, follow=True)
    body = response.content.decode()
    assert "Your coach&#x27;s rewrite is now your latest revision." in body
    assert "Revision 2 (current)" in body
    draft = Draft.objects.get(pk=reviewed.draft_id)
    assert draft.current_revision.text.endswith("Victoria Hospital. Bring your card.")
    assert "Use this rewrite" not in body and "Used as a new revision" in body


def test_using_a_rewrite_after_moving_on_is_refused_with_a_message(client, trainee, reviewed):
    draft = Draft.objects.get(pk=reviewed.draft_id)
    services.draft_edit(draft=draft, by=trainee, text="My own fix")
    url = reverse("suggestion_accept", args=[reviewed.draft_id, reviewed.pk])
    response = signed_in(client, trainee).post(url, follow=True)
    assert "changed the post since your coach suggested" in response.content.decode()
    assert Draft.objects.get(pk=draft.pk).current_revision.text == "My own fix"


@pytest.mark.parametrize("who", PEOPLE)
def test_only_the_author_can_use_a_rewrite(request, client, reviewed, who):
    if who != "anonymous":
        signed_in(client, request.getfixturevalue(who))
    url = reverse("suggestion_accept", args=[reviewed.draft_id, reviewed.pk])
    response = client.post(url)
    expected = {"anonymous": 302, "trainee": 302}.get(who, 404)
    assert response.status_code == expected
    made = Draft.objects.get(pk=reviewed.draft_id).revisions.count()
    assert made == (2 if who == "trainee" else 1)


def test_a_review_of_another_draft_is_not_found(client, trainee, account, reviewed):
    mine = services.draft_create(author=trainee, account=account, text="Other")
    url = reverse("suggestion_accept", args=[mine.pk, reviewed.pk])
    assert signed_in(client, trainee).post(url).status_code == 404


@pytest.mark.parametrize("url_name", ["suggestion_accept", "review_claim_renew"])
def test_new_actions_refuse_get(client, coach, trainee, reviewed, url_name):
    args = (
        [reviewed.draft_id, reviewed.pk] if url_name == "suggestion_accept" else [reviewed.draft_id]
    )
    signed_in(client, trainee if url_name == "suggestion_accept" else coach)
    assert client.get(reverse(url_name, args=args)).status_code == 405


def test_the_draft_page_queries_do_not_grow_with_reviews_and_notes(client, trainee, coach, account):
    draft = services.draft_create(author=trainee, account=account, text=TEXT)
    client = signed_in(client, trainee)

    def review_round(n: int) -> None:
        coaching.draft_submit(draft=draft, by=trainee)
        coaching.review_request_changes(
            draft=draft,
            by=coach,
            note=f"Round {n}",
            scores=SCORES,
            tags=["tone"],
            anchored_notes=[
                AnchoredNote(body="a", quote="Ward"),
                AnchoredNote(body="b", quote="card"),
            ],
            suggestion=[f"{TEXT} {n}"],
        )
        services.draft_edit(draft=draft, by=trainee, text=f"{TEXT} (take {n})")

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(reverse("draft_detail", args=[draft.pk])).status_code == 200
        return len(captured)

    review_round(1)
    few = queries()
    for n in range(2, 6):
        review_round(n)
    assert queries() == few


def test_a_practice_response_shows_no_preview_of_the_real_account(
    client, trainee, coach, account, inject
):
    draft = submitted_response(trainee, account, inject)
    for who, url in ((trainee, "draft_detail"), (coach, "review")):
        client.force_login(who)
        body = client.get(reverse(url, args=[draft.pk])).content.decode()
        assert "how it will look on @" not in body.lower()
