"""Engagement pledges: promises triggered by likes, reposts or shares."""

from __future__ import annotations

import re
from collections.abc import Iterator

from sandbox.checks.base import CheckContext, Hit, Post

# (?![\w-]) rather than \b, so "like-minded" and "share-holders" are not engagement.
_ENGAGEMENT = (
    r"(?:re-?tweets?|rts?|re-?posts?|shares?|likes?|favs?|favou?rites?|(?:new\s+)?followers?"
    r"|repl(?:y|ies)|comments?|quote\s+(?:tweets?|posts?)|views?)(?![\w-])"
)
_AMOUNT = r"(?:[£$€]\s?[0-9][0-9,.]*(?:\s?k\b)?|(?<![0-9])[0-9]+\s?p\b)"
_NUMBER = r"(?:[0-9][0-9,.]*k?|(?:a|one|two|five|ten)\s+(?:hundred|thousand|million))"

_PLEDGES = [
    # "£1 for every retweet", "for every RT we will give 50p", "for each share we donate"
    re.compile(rf"\b(?:for|per)\s+(?:every|each)\s+(?:single\s+)?{_ENGAGEMENT}", re.IGNORECASE),
    # "50p per share", "£1 a like"
    re.compile(rf"{_AMOUNT}\s+(?:per|a|an)\s+{_ENGAGEMENT}", re.IGNORECASE),
    # "every retweet = £1", "each share raises 10p"
    re.compile(
        rf"\b(?:every|each)\s+(?:single\s+)?{_ENGAGEMENT}\s*"
        r"(?:=|equals\b|means\b|raises\b|gives\b|donates\b|plants\b|earns\b|adds\b)",
        re.IGNORECASE,
    ),
    # "if this gets 1,000 likes", "when we reach 500 followers", "once this hits 1k RTs"
    re.compile(
        rf"\b(?:if|when|once)\s+(?:[^\s.!?]+\s+){{0,5}}?{_NUMBER}\s+{_ENGAGEMENT}",
        re.IGNORECASE,
    ),
]
# "Thank you for every retweet" is gratitude, not a promise: thanks earlier in the same sentence.
_THANKS = re.compile(r"\b(?:thank|thanks|thankful|grateful|appreciat\w*)\b", re.IGNORECASE)
_SENTENCE_END = re.compile(r"[.!?\n]")

_MESSAGE = (
    "This promises something in return for likes, reposts or shares. Pledges like this can go "
    "viral and commit your organisation to money or actions it never planned, and X treats them "
    "as engagement bait. Ask people to donate, sign up or share the message directly instead."
)


def engagement_pledges(post: Post, context: CheckContext) -> Iterator[Hit]:
    text = post.text
    spans = sorted(
        (m.start(), m.end())
        for pattern in _PLEDGES
        for m in pattern.finditer(text)
        if not _thanked(text, m.start())
    )
    # One promise often matches two patterns ("£1 for every retweet"): report it once.
    merged: list[tuple[int, int]] = []
    for start, end in spans:
        if merged and start < merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    for start, end in merged:
        yield Hit(start, end, _MESSAGE)


def _thanked(text: str, start: int) -> bool:
    sentence_start = 0
    # Look back a short way only: enough for "Thanks so much to all of you for every share".
    window_start = max(0, start - 80)
    for end in _SENTENCE_END.finditer(text, window_start, start):
        sentence_start = end.end()
    return _THANKS.search(text, max(window_start, sentence_start), start) is not None
