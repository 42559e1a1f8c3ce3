"""Emoji and links."""

from __future__ import annotations

import pytest

from tests.sandbox.checks.helpers import codes, findings, spans


@pytest.mark.parametrize(
    ("text", "span"),
    [
        ("Great day 🎉🎉🎉🎉🎉 at the open day", "🎉🎉🎉🎉🎉"),
        ("Well done 🎉 👏 💙 🌟 team", "🎉 👏 💙 🌟"),
        ("Yes 🎉🎉", "🎉🎉"),
        ("Yes 🎉 🎉 indeed", "🎉 🎉"),
    ],
)
def test_too_many_or_repeated_emoji(text: str, span: str) -> None:
    found = findings(text, "emoji-overuse")
    assert [text[f.start : f.end] for f in found] == [span]
    assert found[0].severity == "warn"


@pytest.mark.parametrize(
    "text",
    [
        "Great day 🎉 at the open day",
        "Well done 🎉 👏 💙 team",
        "🎉 opening day, see you there 🎉",
        "Our family 👨‍👩‍👧‍👦 and flag 🇬🇧 and 👍🏽",  # sequences count as one each
        "Plain text only",
    ],
)
def test_a_few_different_emoji_pass(text: str) -> None:
    assert "emoji-overuse" not in codes(text)


def test_more_than_one_link_is_a_tip() -> None:
    text = "See https://nhs.uk and https://gov.scot or www.example.com"
    found = findings(text, "link-count")
    assert [text[f.start : f.end] for f in found] == ["https://gov.scot or www.example.com"]
    assert found[0].severity == "tip"
    assert "3 links" in found[0].message


def test_one_link_is_fine() -> None:
    assert spans("Details at https://www.nhsinform.scot/flu today.", "link-count") == []
