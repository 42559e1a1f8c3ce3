"""Engagement pledges: promises paid for in likes, reposts and shares."""

from __future__ import annotations

import pytest

from tests.sandbox.checks.helpers import codes, findings


@pytest.mark.parametrize(
    "text",
    [
        "I'll donate £1 to Comic Relief for every retweet this gets!",
        "For every RT we will give 50p to the hospital charity",
        "If this gets 1,000 likes the CEO will run the marathon in scrubs",
        "for every share we donate a book to the children's ward",
        "We'll plant a tree for each repost",
        "£1 per retweet to the hospital charity",
        "10p a like, all week!",
        "Every retweet = £1 for the hospice",
        "Each share raises 10p",
        "When we reach 500 followers we'll publish the results",
        "Once this hits 1k RTs the chief nurse will shave her head",
        "If this post gets a thousand shares we will open on Sunday",
    ],
)
def test_pledges_are_found(text: str) -> None:
    found = findings(text, "engagement-pledge")
    assert len(found) == 1
    assert found[0].severity == "block"


@pytest.mark.parametrize(
    "text",
    [
        "Thank you for every retweet of our flu campaign, you are stars",
        "Thanks so much to all of you for every share and like",
        "Grateful for every share, it helps people find us",
        "Thanks for sharing!",
        "We raised £5,000 for the children's ward this year - thank you",
        "Please share this with anyone who might need it",
        "If you like this, share it with a friend",
        "A like-minded team for every patient we see",
        "For every patient, a named nurse",
        "If 2 people share a room, bring two forms",
    ],
)
def test_thanks_and_requests_are_not_pledges(text: str) -> None:
    assert "engagement-pledge" not in codes(text)


def test_thanks_in_an_earlier_sentence_do_not_excuse_a_pledge() -> None:
    text = "Thank you all. For every share we donate £1 to the hospice."
    assert "engagement-pledge" in codes(text)


def test_one_pledge_matched_two_ways_is_reported_once() -> None:
    assert len(findings("£1 for every retweet", "engagement-pledge")) == 1
