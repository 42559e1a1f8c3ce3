"""coaching/views/answers.py: the composer for a reply to or a quote of an inbox item, and
what the draft page, the queue and the review page say about an answer."""

import pytest
from django.db import connection
from django.template.loader import render_to_string
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from coaching.models import Answer
from sandbox.models import Draft
from tests.builders import answer
from tests.factories import NHS_NUMBER_POST, inbox_item

pytestmark = pytest.mark.django_db

# A trainee answers what is given to them in the inbox (coaching.selectors.inbox), so the
# items the trainee answers here are given to them.

QUESTION = "Is the walk-in centre open on Sunday?"
REPLY = "Yes: 9 to 5 on Sunday."


def test_the_reply_composer_shows_the_post_being_answered(as_trainee, trainee, account):
    item = inbox_item(account, assigned_to=trainee, text=QUESTION, author_handle="amara_okafor")
    response = as_trainee.get(reverse("answer_reply", args=[item.pk]))
    assert response.status_code == 200
    page = response.content.decode()
    assert "Reply to @amara_okafor" in page
    assert QUESTION in page
    assert 'name="text"' in page and "Send for review" in page
    assert "published on @" in page  # it says the answer is a real, public post


def test_sending_a_reply_for_review_makes_the_draft_and_its_answer(as_trainee, trainee, account):
    item = inbox_item(account, assigned_to=trainee)
    response = as_trainee.post(
        reverse("answer_reply", args=[item.pk]), {"text": REPLY, "submit": "1"}
    )
    draft = Draft.objects.get(author=trainee)
    assert response.status_code == 302 and response["Location"] == draft.get_absolute_url()
    assert draft.status == Draft.Status.SUBMITTED
    assert draft.answer.item == item and draft.answer.kind == Answer.Kind.REPLY


def test_saving_a_quote_as_a_draft(as_trainee, trainee, account):
    item = inbox_item(account, assigned_to=trainee)
    as_trainee.post(reverse("answer_quote", args=[item.pk]), {"text": "Worth knowing", "save": "1"})
    draft = Draft.objects.get(author=trainee)
    assert draft.status == Draft.Status.DRAFT and draft.answer.kind == Answer.Kind.QUOTE


def test_an_empty_answer_is_refused_and_the_form_kept(as_trainee, trainee, account):
    item = inbox_item(account, assigned_to=trainee)
    response = as_trainee.post(reverse("answer_reply", args=[item.pk]), {"text": " ", "save": "1"})
    assert response.status_code == 422
    assert "There is a problem" in response.content.decode()
    assert not Draft.objects.exists()


def test_a_post_with_a_patients_details_warns_on_a_reply_and_refuses_a_quote(
    as_trainee, trainee, account
):
    item = inbox_item(account, assigned_to=trainee, text=NHS_NUMBER_POST)
    reply = as_trainee.get(reverse("answer_reply", args=[item.pk])).content.decode()
    assert "This post contains a patient's details. Do not repeat them" in reply
    assert 'name="text"' in reply
    quote = as_trainee.get(reverse("answer_quote", args=[item.pk])).content.decode()
    assert "cannot be quoted" in quote
    assert 'name="text"' not in quote  # no composer for it
    assert reverse("answer_reply", args=[item.pk]) in quote  # a reply is offered instead
    # Posting anyway (a stale form, a crafted request) is refused by the service.
    response = as_trainee.post(
        reverse("answer_quote", args=[item.pk]), {"text": "Lovely", "save": "1"}
    )
    assert response.status_code == 422  # the page again, with the service's message
    assert "cannot be quoted" in response.content.decode()
    assert not Draft.objects.exists()


def test_a_deleted_post_offers_no_composer(as_trainee, trainee, account):
    item = inbox_item(account, assigned_to=trainee, gone_at=timezone.now())
    page = as_trainee.get(reverse("answer_reply", args=[item.pk])).content.decode()
    assert "can no longer be answered" in page
    assert 'name="text"' not in page


def test_an_unknown_item_is_not_found(as_trainee):
    assert as_trainee.get(reverse("answer_reply", args=[999999])).status_code == 404


def test_the_answer_actions_offer_reply_and_quote_unless_unsafe_or_gone(account):
    item = inbox_item(account, author_handle="amara_okafor")
    actions = render_to_string("coaching/_answer_actions.html", {"item": item})
    assert reverse("answer_reply", args=[item.pk]) in actions
    assert reverse("answer_quote", args=[item.pk]) in actions
    risky = inbox_item(account, risks=[{"code": "patient-details", "message": "A name"}])
    actions = render_to_string("coaching/_answer_actions.html", {"item": risky})
    assert reverse("answer_reply", args=[risky.pk]) in actions
    assert reverse("answer_quote", args=[risky.pk]) not in actions
    gone = inbox_item(account, gone_at=timezone.now())
    actions = render_to_string("coaching/_answer_actions.html", {"item": gone})
    assert "answer_reply" not in actions and reverse("answer_reply", args=[gone.pk]) not in actions


def test_the_draft_page_says_what_it_replies_to(as_trainee, trainee, account):
    draft = answer(
        trainee,
        inbox_item(account, assigned_to=trainee, text=QUESTION, author_handle="amara_okafor"),
        REPLY,
    )
    page = as_trainee.get(draft.get_absolute_url()).content.decode()
    assert "Reply to @amara_okafor" in page and QUESTION in page
    # A real post: the preview of it on the account is shown, not "practice only".
    assert "Practice only" not in page


def test_the_review_page_and_the_queue_say_what_it_quotes(as_coach, trainee, account):
    draft = answer(
        trainee,
        inbox_item(account, text=QUESTION, author_handle="amara_okafor"),
        "Worth knowing",
        kind="quote",
    )
    review = as_coach.get(reverse("review", args=[draft.pk])).content.decode()
    assert "Quote of @amara_okafor" in review and QUESTION in review
    queue = as_coach.get(reverse("queue")).content.decode()
    assert "Quote of @amara_okafor" in queue and QUESTION in queue


def queries(client, url) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def test_the_queue_reads_answers_in_its_one_query(as_coach, trainee, account):
    answer(trainee, inbox_item(account), "Answer 0")
    few = queries(as_coach, reverse("queue"))
    for n in range(1, 8):
        answer(trainee, inbox_item(account), f"Answer {n}")
    assert queries(as_coach, reverse("queue")) == few


def test_the_composer_reads_a_constant_number_of_queries(as_trainee, trainee, account):
    item = inbox_item(account, assigned_to=trainee)
    few = queries(as_trainee, reverse("answer_reply", args=[item.pk]))
    for _ in range(5):
        inbox_item(account, assigned_to=trainee)
    assert queries(as_trainee, reverse("answer_reply", args=[item.pk])) == few


def test_the_composer_lists_the_persons_own_answers_to_the_post(
    as_trainee, trainee, coach, account
):
    item = inbox_item(account, assigned_to=trainee)
    mine = answer(trainee, item, "My earlier reply")
    answer(coach, item, "Someone else's reply")
    page = as_trainee.get(reverse("answer_reply", args=[item.pk])).content.decode()
    assert "You have answered this post already" in page
    assert mine.get_absolute_url() in page and "My earlier reply" in page
    assert "Someone else" not in page
    few = queries(as_trainee, reverse("answer_reply", args=[item.pk]))
    for n in range(4):
        answer(trainee, item, f"Another reply {n}")
    assert queries(as_trainee, reverse("answer_reply", args=[item.pk])) == few


def test_approving_an_answer_to_a_post_deleted_since_says_why_on_the_review_page(
    as_coach, trainee, account
):
    from coaching.models import InboxItem, Publication
    from coaching.services.answers import GONE
    from tests.factories import SCORES

    item = inbox_item(account)
    draft = answer(trainee, item, REPLY)
    InboxItem.objects.filter(pk=item.pk).update(gone_at=timezone.now())
    response = as_coach.post(
        reverse("review_decide", args=[draft.pk]),
        {"decision": "approve", "note": "", "revision": draft.current_revision_id, **SCORES},
    )
    assert response.status_code == 422
    assert "can no longer be answered" in response.content.decode()
    assert GONE.startswith("This post has been deleted")
    assert not Publication.objects.filter(draft=draft).exists()


def test_a_post_deleted_while_the_answer_was_written_keeps_what_was_typed(
    as_trainee, trainee, account, monkeypatch
):
    from coaching.services import answers as answer_services
    from sandbox.errors import InvalidState

    item = inbox_item(account, assigned_to=trainee)

    def deleted_meanwhile(**kwargs):
        raise InvalidState(answer_services.GONE)

    monkeypatch.setattr(answer_services, "answer_start", deleted_meanwhile)
    response = as_trainee.post(
        reverse("answer_reply", args=[item.pk]), {"text": "Yes, 9 to 5.", "submit": "1"}
    )
    assert response.status_code == 422
    page = response.content.decode()
    assert "Yes, 9 to 5." in page and answer_services.GONE.split(".")[0] in page
    assert not Answer.objects.exists()
