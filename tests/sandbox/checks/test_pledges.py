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


@pytest.mark.parametrize(
    "text",
    [
        # The examples: an instruction, thresholds and equations.
        "Share this and we'll give £3 to the hospice",
        "20 reposts and I'll wear my Christmas jumper to clinic",
        "Reach 300 likes and our chief executive does a sponsored swim",
        "Each repost of this tweet = 25p for the baby unit",
        "Every follow this week means a book for the children's ward",
        # More of the grammar: other acts, other rewards, other word orders.
        "Get us to 2,000 followers and the estates team will wear fancy dress",
        "Retweet this and our matron will dye her hair pink",
        "Like and share to win a hamper from the hospital shop",
        "Repost this and you could win two panto tickets",
        "Quote this post and we'll add £1 to the appeal",
        "Comment with your nurse's name and we'll send a cake to their ward",
        "We'll give 50p to the hospice every time someone shares this",
        "1 RT = £1 for the air ambulance",
        "Every like on this post is 5p for the food bank",
        "A quid for every retweet to the children's charity",
        "500 likes and Dr Shah shaves off his beard",
        "Big news: share this and we'll donate £1",
    ],
)
def test_pledges_in_every_shape_are_found(text: str) -> None:
    assert [f.severity for f in findings(text, "engagement-pledge")] == ["block"]


@pytest.mark.parametrize(
    "text",
    [
        # The negatives.
        "Please share so more people know about the blood drive",
        "Thank you for all the shares",
        "Our post was shared 2,000 times last week, which is amazing",
        "10p from every cake sold at the stall goes to the hospice",
        "For every 10 people screened, one cancer is found early",
        # Near misses: service promises, past counts, other senses of the words.
        "Follow us and we'll keep you up to date with clinic times",
        "Comment below and our pharmacist will answer your questions live",
        "Share this and help us spread the word about free eye tests",
        "When our page hit 1,000 likes last year, we were amazed",
        "We reached 10,000 followers yesterday. We'll keep posting tips.",
        "Every share helps us reach more families",
        "Every comment is read by our patient experience team",
        "Like many hospitals, we're short of beds this winter",
        "Follow the signs to the new car park and pay at the machine",
        "A follow-up appointment will be sent to you by letter",
        "For every £1 you donate, the Big Give will double it",
        "Our fair share of the funding means 40 more nurses",
    ],
)
def test_plain_calls_thanks_counts_and_other_donations_are_not_pledges(text: str) -> None:
    assert "engagement-pledge" not in codes(text)


def test_a_pledge_is_found_in_an_image_description() -> None:
    from sandbox.checks import MediaInfo

    alt = "A poster: every retweet = £1 for the hospice"
    found = findings("Our appeal poster", "engagement-pledge", media=(MediaInfo(alt),))
    assert [(f.media_index, alt[f.start : f.end]) for f in found] == [(0, "every retweet = £1")]


def test_a_target_and_its_consequence_in_the_next_sentence_are_a_pledge() -> None:
    text = "Retweet to help us reach 2k. When we do, Tesco will donate a hamper to every ward!"
    assert "engagement-pledge" in codes(text)


@pytest.mark.parametrize(
    "text",
    [
        "Help us reach 1,000 followers. When we do, we'll let you know.",
        "We hit 1,000 likes last year. When we do it again we will celebrate.",
    ],
)
def test_a_next_sentence_that_promises_nothing_or_a_past_count_is_no_pledge(text: str) -> None:
    assert "engagement-pledge" not in codes(text)
