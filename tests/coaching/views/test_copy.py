"""Words that depend on a number or on who reads them (issue 17's copy slips)."""

import pytest
from django.template.loader import render_to_string
from django.urls import reverse

from sandbox import audience
from tests.factories import signed_in

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(("number", "words"), [(1, ["reply", "repost", "like"]), (2, ["replies"])])
def test_the_replays_counts_agree_with_their_numbers(
    client, coach, submitted, monkeypatch, number, words
):
    keys = ("replies", "reposts", "quotes", "likes", "views")
    monkeypatch.setattr(audience, "counts_at", lambda plan, seconds: dict.fromkeys(keys, number))
    page = signed_in(client, coach).get(reverse("replay", args=[submitted.pk])).content.decode()
    for word in words:
        assert f"{number}</span> {word}</li>" in page
    if number == 1:
        assert "1</span> replies" not in page and "1</span> likes" not in page


def test_no_risks_found_speaks_to_whoever_reads_it():
    trainee = render_to_string("sandbox/_findings.html", {"text": "Clinic open", "findings": []})
    coach = render_to_string(
        "sandbox/_findings.html", {"text": "Clinic open", "findings": [], "for_coach": True}
    )
    assert "Your coach will still read it." in trainee
    assert "Your coach" not in coach and "No risks found." in coach


def test_the_review_page_tells_the_coach_no_risks_in_a_coachs_words(client, coach, submitted):
    page = signed_in(client, coach).get(reverse("review", args=[submitted.pk])).content.decode()
    assert "No risks found." in page
    assert "Your coach will still read it." not in page


def test_a_blocked_post_names_its_check_without_a_wrong_article(client, trainee, account):
    from coaching import services as coaching
    from sandbox import services
    from sandbox.errors import InvalidState

    draft = services.draft_create(author=trainee, account=account, text="£1 for every retweet!")
    with pytest.raises(InvalidState) as refused:
        coaching.draft_submit(draft=draft, by=trainee)
    assert "The risk checks blocked it: engagement pledge." in refused.value.message
    assert "a engagement" not in refused.value.message
