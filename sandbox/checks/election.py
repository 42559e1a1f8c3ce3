"""Pre-election period: public bodies must stay politically neutral before polling day."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date, datetime

from sandbox.checks.base import CheckContext, Hit, Post

_POLITICAL_WORDS = re.compile(
    r"\b(?:vot(?:e|es|ed|ers?|ing)|elections?|by-elections?|electoral|candidates?|manifestos?"
    r"|councillors?|cllrs?|ballots?|polling\s+(?:day|stations?|cards?)|hustings|referendum"
    r"|canvass(?:ing|ers?)?|politic(?:s|al|ian|ians)|prime\s+minister|first\s+minister)\b",
    re.IGNORECASE,
)
# Case matters here: "labour ward" and "the greens" of a park are not parties, and MP3 or ms are
# not members of a parliament. A capital starts a sentence too, hence the clinical exceptions.
_PARTIES_AND_MEMBERS = re.compile(
    r"\b(?:Labour(?!\s+(?:[Ww]ards?|[Ss]uites?|[Uu]nits?|[Mm]arket))"
    r"|Conservatives?(?!\s+(?:treatment|management|care|therapy|surgery|approach))|Tory|Tories"
    r"|Lib\s?Dems?|Liberal\s+Democrats?|SNP|Plaid\s+Cymru|Green\s+Party|Greens|Reform\s+UK|UKIP"
    r"|Alba\s+Party|Sinn\s+F[eé]in|DUP|SDLP|UUP|Alliance\s+Party|MPs?|MSPs?|MEPs?|MLAs?)\b"
)


def pre_election_period(post: Post, context: CheckContext) -> Iterator[Hit]:
    period = _current_period(context)
    if period is None:
        return
    start, end = period
    message = (
        f"We are in a pre-election period ({_uk_date(start)} to {_uk_date(end)}). Public "
        "bodies must stay politically neutral until the result: don't mention parties, "
        "candidates or how to vote, or share anything that could look like support for one "
        "side. Check with your communications team before posting."
    )
    for pattern in (_POLITICAL_WORDS, _PARTIES_AND_MEMBERS):
        for m in pattern.finditer(post.text):
            yield Hit(m.start(), m.end(), message)


def _current_period(context: CheckContext) -> tuple[date, date] | None:
    today = context.today
    if today is None:
        return None
    # A datetime will not compare with a date, and a timestamp is an easy thing to pass in.
    if isinstance(today, datetime):
        today = today.date()
    for start, end in context.pre_election_periods:
        if start <= today <= end:
            return start, end
    return None


def _uk_date(day: date) -> str:
    return f"{day.day} {day:%B %Y}"
