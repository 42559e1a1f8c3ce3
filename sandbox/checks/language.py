"""Swearing, without the Scunthorpe problem.

Whole words only, so Scunthorpe, Clitheroe, Cockermouth, Penistone, Essex, Middlesex,
"classic", "assessment", "therapist" and "grape" pass. Disguises are undone before the
whole-word test, never by looking inside a longer word:

- symbols and digits for letters: "sh!t", "b@stard", "sh1te", "f@ck" (a symbol may stand for
  any letter when its usual reading gives no word);
- stars for letters, inside or at the end: "f***ing", "sh*te", "f***", "a***" (each star
  hides one letter, so the length must fit);
- letters spaced or dotted out: "b.u.g.g.e.r", "s h i t", "c-r-a-p";
- letters held: "shiiiit", "fuuuck" (a run of three or more of one letter read as one);
- letters cut out at a hyphen: "f-ing", "a-hole", "sh-t" (the start and the end of a swear
  word, with at least one letter missing between).

Words with everyday NHS or council meanings are left out on purpose: "prick" (finger-prick
test), "cock" (stopcock), "tit" (blue tit), "sod" (turf), "knob" (door knob), "dick" (Dick
Whittington). Disguised, they have no other meaning: nobody writes "d!ck" for a name or
"pr*ck" for a blood test, so they count then.
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
    piss pissed pissing sodding feck feckin frigging effing pillock wtf ffs stfu
"""

# Only when disguised: see the module docstring.
_DISGUISED_ONLY: dict[str, Severity] = {
    **{w: "block" for w in ["dick", "dicks", "cock", "cocks", "prick", "pricks"]},
    **{w: "warn" for w in ["knob", "knobs", "tit", "tits", "sod"]},
}

_SEVERITY: dict[str, Severity] = {
    **{w: "warn" for w in _MILD_WORDS.split()},
    **{w: "block" for w in _STRONG_WORDS.split()},
}
_DISGUISED: dict[str, Severity] = {**_DISGUISED_ONLY, **_SEVERITY}
_LONGEST = max(map(len, _DISGUISED))
_BY_LENGTH: dict[int, tuple[tuple[str, Severity], ...]] = {
    n: tuple((w, s) for w, s in _DISGUISED.items() if len(w) == n)
    for n in set(map(len, _DISGUISED))
}
# A swear word cut at a hyphen: "f-ing", "a-hole", "sh-t". Letters either side, one hyphen.
_CUT = re.compile(r"(?<![\w\-*])([A-Za-z]{1,3})[-\u2013]([A-Za-z]{1,6})(?![\w\-*])")
_DASH = re.compile("[-\u2013]")
# A whole word is a run of \w, so "Scunthorpe" is one word and never "cunt".
_WORD = re.compile(r"\w+")
# "sod" alone is turf (a new hospital's first sod); only the phrase is rude.
_PHRASES = re.compile(r"(?<!\w)sod\s+off(?!\w)", re.IGNORECASE)


# Tokens that may hide a word behind symbols or digits: "f*ck", "sh1t", "b@stard", "a$$hole":
# whole tokens with a letter beside a symbol or digit somewhere (plain words are not looked at).
_TOKEN = re.compile(
    r"(?<![A-Za-z0-9*@$!#%])[A-Za-z0-9*@$!#%]*?(?:[A-Za-z][0-9*@$!#%]|[0-9*@$!#%][A-Za-z])"
    r"[A-Za-z0-9*@$!#%]*"
)
_DISGUISE = str.maketrans("013457@$!", "oieastasi")
# Single letters spaced, dotted or dashed out: "b.u.g.g.e.r", "s h i t", "c-r-a-p".
_SPELLED_OUT = re.compile(
    r"(?<![\w.\-*])[A-Za-z](?:[ .\-_*\u00b7\u2022]{1,2}[A-Za-z]){2,}(?![\w\-*])"
)
# Numbers with units or ordinals ("10am", "24th", "7lb", "5k") are not words in disguise;
# "5hit" (one digit for a letter, then a word) still is.
_MEASURE = re.compile(r"[0-9]{2,}[A-Za-z]*|[0-9][A-Za-z]{0,2}|[A-Za-z]+[0-9]{2,}|[0-9]+")
_HELD = re.compile(r"([a-z])\1{2,}")
_WORD_AROUND = re.compile(r"\w+$")  # the start of the word a held letter is in

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
    words = _WORD.findall(text.lower())
    # Most posts have no swear word: a set test first, then offsets only when there is one.
    if not _SEVERITY.keys().isdisjoint(words):
        for m in _WORD.finditer(text):
            severity = _SEVERITY.get(m.group().lower())
            if severity is not None:
                yield Hit(m.start(), m.end(), _MESSAGE[severity], severity)
    if "sod" in words:
        for m in _PHRASES.finditer(text):
            yield Hit(m.start(), m.end(), _MESSAGE["warn"], "warn")
    yield from _disguised(text)
    # Spelled out needs three one-letter words ("s h i t"); held letters need a letter three
    # times running somewhere, which a cheap test finds first.
    if sum(len(word) == 1 for word in words) >= 3:
        yield from _spelled_out(text)
    if _HELD.search(post.prose) is not None:
        yield from _held(post.prose)
    yield from _cut(text)
    if context.extra_profanity:
        pattern = _local_words(context.extra_profanity)
        if pattern is not None:
            for m in pattern.finditer(text):
                yield Hit(m.start(), m.end(), _MESSAGE["local"])


def _disguised(text: str) -> Iterator[Hit]:
    for m in _TOKEN.finditer(text):
        token = m.group()
        if token.isalpha() or token.isdigit() or _MEASURE.fullmatch(token):
            continue
        for offset, core in _cores(token):
            severity = _disguised_severity(core.lower())
            if severity is not None:
                start = m.start() + offset
                yield Hit(start, start + len(core), _MESSAGE[severity], severity)
                break


def _cores(token: str) -> Iterator[tuple[int, str]]:
    """Where in a token a disguised word may be, most likely first.

    Symbols at the edges are punctuation or emphasis ("shit!", "*bold*"), not disguise, and
    an all-letter core was already matched as a plain word; but "@" or "$" may stand for a
    first letter ("@rse"). Stars at the end are hidden letters only after letters: "f***",
    "a***", never "apply*".
    """
    end = token.rstrip("!#%@$")
    if token[0] in "@$" and len(end) > 1 and not end[1:].isdigit():
        yield 0, end.rstrip("*") if not end.rstrip("*")[1:].isalpha() else end
    core = token.strip("!@$#%").lstrip("*")
    stem = core.rstrip("*")
    if stem != core and (not stem.isalpha() or "*" in stem):
        core = stem  # stars after a disguise, such as "sh!t**", are emphasis
    if core == stem and core.isalpha():
        return
    if len(core) > _LONGEST or not any(c.isalpha() for c in core):
        return
    yield token.index(core), core


@lru_cache(maxsize=1024)
def _disguised_severity(core: str) -> Severity | None:
    plain = core.translate(_DISGUISE)
    if plain.isalpha():
        found = _DISGUISED.get(plain)
        if found is not None:
            return found
    letters = sum(c.isalpha() for c in core)
    others = len(core) - letters - core.count("*")
    if letters < 1 or (others and (letters < 2 or 2 * others > len(core))):
        return None  # "2nd", "4x4": mostly not letters, so not a word in disguise
    # Each star hides one letter ("f**k", "sh*t"); another symbol or a digit is its usual
    # letter or any other ("f@ck"). Where several words fit, the strongest counts.
    fits = {
        severity
        for word, severity in _BY_LENGTH.get(len(core), ())
        if all(c == w or not c.isalpha() for c, w in zip(core, word, strict=True))
    }
    return "block" if "block" in fits else "warn" if fits else None


def _spelled_out(text: str) -> Iterator[Hit]:
    for m in _SPELLED_OUT.finditer(text):
        word = "".join(c for c in m.group() if c.isalpha()).lower()
        severity = _DISGUISED.get(word)
        if severity is not None:
            yield Hit(m.start(), m.end(), _MESSAGE[severity], severity)


def _cut(text: str) -> Iterator[Hit]:
    # Only around each hyphen: scanning the whole post with the pattern costs ten times more.
    for dash in _DASH.finditer(text):
        at = dash.start()
        m = _CUT.search(text, max(0, at - 3), at + 8)
        if m is None or m.start(2) != at + 1:
            continue
        severity = _cut_severity(m.group(1).lower(), m.group(2).lower())
        if severity is not None:
            yield Hit(m.start(), m.end(), _MESSAGE[severity], severity)


@lru_cache(maxsize=256)
def _cut_severity(head: str, tail: str) -> Severity | None:
    """The strongest swear word that starts with head, ends with tail and has letters missing
    between: "f" and "ing" are "fucking" (or "feckin"), never "x" and "ray". Three letters
    at least, so "A-E" (a range, or A&E) is no "arse"."""
    if len(head) + len(tail) < 3:
        return None
    fits = {
        severity
        for word, severity in _DISGUISED.items()
        if len(word) > len(head) + len(tail) and word.startswith(head) and word.endswith(tail)
    }
    return "block" if "block" in fits else "warn" if fits else None


def _held(text: str) -> Iterator[Hit]:
    lower = text.lower()
    seen = -1
    for held in _HELD.finditer(lower):
        m = _WORD_AROUND.search(lower, 0, held.end())
        if m is None or m.start() <= seen:
            continue
        m = _WORD.match(lower, m.start())
        if m is None:
            continue
        seen = m.start()
        word = m.group()
        severity = None if word in _SEVERITY else _SEVERITY.get(_HELD.sub(r"\1", word))
        if severity is not None:
            yield Hit(m.start(), m.end(), _MESSAGE[severity], severity)


@lru_cache(maxsize=64)
def _local_words(words: tuple[str, ...]) -> re.Pattern[str] | None:
    cleaned = sorted((w.strip() for w in words if isinstance(w, str) and w.strip()), key=len)
    if not cleaned:
        return None
    # Longest first, so a phrase wins over a word inside it.
    alternatives = "|".join(re.escape(w).replace(r"\ ", r"\s+") for w in reversed(cleaned))
    return re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)", re.IGNORECASE)
