"""The comment thread on the draft page and the review page: with htmx and without."""

import pytest
from django.urls import reverse

from coaching.models import DraftComment
from tests.factories import signed_in

pytestmark = pytest.mark.django_db


def test_the_thread_is_on_the_draft_page_and_the_review_page(client, trainee, coach, submitted):
    DraftComment.objects.create(draft=submitted, author=trainee, body="Is the time right?")
    for user, page in ((trainee, "draft_detail"), (coach, "review")):
        body = signed_in(client, user).get(reverse(page, args=[submitted.pk])).content.decode()
        assert 'id="comments"' in body
        assert "Is the time right?" in body
        assert f'action="{reverse("draft_comment", args=[submitted.pk])}"' in body


def test_without_javascript_a_comment_goes_back_to_the_page_it_came_from(
    client, trainee, coach, submitted
):
    url = reverse("draft_comment", args=[submitted.pk])
    response = signed_in(client, trainee).post(url, {"body": "A question"})
    assert response["Location"] == f"/drafts/{submitted.pk}/#comments"
    response = signed_in(client, coach).post(url, {"body": "An answer"})
    assert response["Location"] == f"/review/{submitted.pk}/#comments"
    assert list(DraftComment.objects.values_list("body", flat=True)) == ["A question", "An answer"]


def test_with_htmx_the_thread_comes_back_to_be_swapped_in(client, trainee, submitted):
    response = signed_in(client, trainee).post(
        reverse("draft_comment", args=[submitted.pk]),
        {"body": "A <b>question</b>"},
        headers={"HX-Request": "true"},
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert body.lstrip().startswith('<section id="comments"') or 'id="comments"' in body
    assert "<html" not in body
    assert "A &lt;b&gt;question&lt;/b&gt;" in body  # escaped, never markup


@pytest.mark.parametrize("htmx", [False, True])
def test_a_refused_comment_keeps_what_was_typed(client, trainee, submitted, htmx):
    typed = "word " * 450
    response = signed_in(client, trainee).post(
        reverse("draft_comment", args=[submitted.pk]),
        {"body": typed},
        headers={"HX-Request": "true"} if htmx else {},
    )
    body = response.content.decode()
    assert response.status_code == 422
    assert "A comment can be up to 2000 characters" in body
    assert typed.strip() in body
    assert 'aria-invalid="true"' in body
    assert not DraftComment.objects.exists()
