"""Swearing, without the Scunthorpe problem.

Whole words only, so Scunthorpe, Cockermouth, Penistone, Essex, "assessment", "therapist" and
"grape" pass. Words with everyday NHS or council meanings are left out on purpose: "prick"
(finger-prick test), "cock" (stopcock), "tit" (blue tit), "sod" (turf), "knob" (door knob).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import lru_cache

from sandbox.checks.base import CheckContext, Hit, Post, Severity

# Ofcom's research on offensive language (2021) ranks these strongest to medium: block them.
_STRONG_WORDS = """
    fuck fucks fucked fucker fuckers fucking fuckin fuckwit fuckwits fuckface motherfucker
    motherfuckers motherfucking cunt cunts twat twats wanker wankers wank wanking wanked
    bastard bastards shit shits shite shitty shitting shithead shitheads shithole bullshit
    bollocks bollox arsehole arseholes asshole assholes dickhead dickheads bellend bellends
    knobhead knobheads tosser tossers bitch bitches bitching whore whores
    retard retards retarded spaz
"""
# Mild words: a coach should see them, but they need not stop the post.
_MILD_WORDS = """
    bloody bugger buggered buggering crap crappy damn damned dammit goddamn arse arsed
    piss pissed pissing sodding feck feckin frigging effing pillock
"""

_SEVERITY: dict[str, Severity] = {
    **{w: "warn" for w in _MILD_WORDS.split()},
    **{w: "block" for w in _STRONG_WORDS.split()},
}
_LONGEST = max(map(len, _SEVERITY))
# A whole word is a run of \w, so "Scunthorpe" is one word and never "cunt".
_WORD = re.compile(r"\w+")
# "sod" alone is turf (a new hospital's first sod); only the phrase is rude.
_PHRASES = re.compile(r"(?<!\w)sod\s+off(?!\w)", re.IGNORECASE)


# Tokens that may hide a word behind symbols or digits: "f*ck", "sh1t", "b@stard", "a$$hole".
_TOKEN = re.compile(r"[A-Za-z0-9*@$!]+")
_DISGUISE = str.maketrans("013457@$!", "oieastasi")

_MESSAGE = {
    "block": (
        "This is a swear word. Posts from a public-sector account speak for the whole "
        "organisation, and swearing loses the trust of the people you serve. Reword it."
    ),
    "warn": (
        "This is a mild swear word. Many people still find it offensive from a public-sector "
        "account. Consider another word."
    ),
    "local": (
        "Your organisation has listed this word as one not to use. Reword it, or ask your "
        "coach why it is on the list."
    ),
}


def profanity(post: Post, context: CheckContext) -> Iterator[Hit]:
    text = post.text
    # Most posts have no swear word: a set test first, then offsets only when there is one.
    if not _SEVERITY.keys().isdisjoint(_WORD.findall(text.lower())):
        for m in _WORD.finditer(text):
            severity = _SEVERITY.get(m.group().lower())
            if severity is not None:
                yield Hit(m.start(), m.end(), _MESSAGE[severity], severity)
    for m in _PHRASES.finditer(text):
        yield Hit(m.start(), m.end(), _MESSAGE["warn"], "warn")
    yield from _disguised(text)
    if context.extra_profanity:
        pattern = _local_words(context.extra_profanity)
        if pattern is not None:
            for m in pattern.finditer(text):
                yield Hit(m.start(), m.end(), _MESSAGE["local"])


def _disguised(text: str) -> Iterator[Hit]:
    for m in _TOKEN.finditer(text):
        token = m.group()
        if token.isalpha() or token.isdigit():
            continue
        # Symbols at the edges are punctuation or emphasis ("shit!", "*bold*"), not disguise,
        # and an all-letter core was already matched as a plain word.
        core = token.strip("!*@$")
        if len(core) > _LONGEST or core.isalpha() or not any(c.isalpha() for c in core):
            continue
        start = m.start() + token.index(core)
        severity = _disguised_severity(core.lower())
        if severity is not None:
            yield Hit(start, start + len(core), _MESSAGE[severity], severity)


def _disguised_severity(core: str) -> Severity | None:
    plain = core.translate(_DISGUISE)
    if "*" not in plain:
        return _SEVERITY.get(plain)
    # Each star hides one letter: "f**k", "sh*t". Where several words fit, the strongest counts.
    hidden = re.compile("".join("[a-z]" if c == "*" else re.escape(c) for c in plain))
    fits = {
        s for word, s in _SEVERITY.items() if len(word) == len(plain) and hidden.fullmatch(word)
    }
    return "block" if "block" in fits else "warn" if fits else None


@lru_cache(maxsize=64)
def _local_words(words: tuple[str, ...]) -> re.Pattern[str] | None:
    cleaned = sorted((w.strip() for w in words if isinstance(w, str) and w.strip()), key=len)
    if not cleaned:
        return None
    # Longest first, so a phrase wins over a word inside it.
    alternatives = "|".join(re.escape(w).replace(r"\ ", r"\s+") for w in reversed(cleaned))
    return re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)", re.IGNORECASE)
