"""Accessibility: shouting, reading age and images without descriptions."""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import cache, lru_cache

import pyphen

from sandbox.checks.base import CheckContext, Hit, Post

# --- All caps --------------------------------------------------------------------------------

# Acronyms are how these services are named, not shouting. One-letter words never count.
_ACRONYM_LIST = """
    NHS NHSE NHSEI GP GPS GPs AE ICU ITU HDU CAMHS COVID RSV HIV MMR HPV BCG TB MRSA MRI CT ECG
    BP BMI PPE DNA PCR LFT ADHD ASD SEN SEND ICB ICS PCN CCG HSCP NICE CQC RCN BMA GMC NMC HCPC
    AHP AHPs OT SLT ENT OPD ED MIU UTC CPR AED BSL UK EU UN WHO BBC ITV CEO CFO CNO HR IT ID NI
    HMRC DWP DVLA MP MPs MSP MSPs MS MEP MLA SNP UKIP DUP SDLP UUP LGBT LGBTQ LGBTQIA NB PS FAQ
    FAQs TBC TBA RSVP ASAP FYI AM PM OK TV PDF URL QR SMS PIN VIP ICYMI
"""
_ACRONYMS = frozenset(_ACRONYM_LIST.split())
_WORD = re.compile("[^\\W\\d_]+(?:['\u2019&][^\\W\\d_]+)*")
_SHOUTING_RUN = 3
_MOSTLY_CAPS = 0.6


def all_caps(post: Post, context: CheckContext) -> Iterator[Hit]:
    runs: list[list[re.Match[str]]] = [[]]
    shouting_letters = cased_letters = 0
    for m in _WORD.finditer(post.prose):
        word = m.group()
        if word.isupper():
            letters = word.replace("&", "").replace("'", "").replace("\u2019", "")
            if len(letters) < 2 or letters in _ACRONYMS:
                continue  # neither shouting nor a break in it: "PLEASE GO TO A&E NOW"
            runs[-1].append(m)
            shouting_letters += len(letters)
            cased_letters += len(letters)
        elif word.islower() or word.lower() != word.upper():
            if word in _ACRONYMS:  # "GPs", "MPs"
                continue
            cased_letters += len(word)
            if runs[-1]:
                runs.append([])
    shouting = [m for run in runs for m in run]
    if len(shouting) >= _SHOUTING_RUN and shouting_letters >= _MOSTLY_CAPS * cased_letters:
        yield _caps_hit(shouting)
        return
    for run in runs:
        if len(run) >= _SHOUTING_RUN:
            yield _caps_hit(run)


def _caps_hit(words: list[re.Match[str]]) -> Hit:
    return Hit(
        words[0].start(),
        words[-1].end(),
        "This reads as shouting. Words in capitals are harder to read, especially for people "
        "with dyslexia, and some screen readers spell them out letter by letter. Use normal "
        "sentence case; acronyms such as NHS and A&E are fine.",
    )


# --- Reading age -----------------------------------------------------------------------------

_TARGET_READING_AGE = 11  # the NHS aims for a reading age of 9 to 11
_MIN_WORDS = 20  # fewer words than this give a meaningless score
# X's longest post; past that a sample is as good as the whole, and the cost is not.
_MAX_CHARS = 25_000
_SENTENCE_BREAK = re.compile(r"[.!?]+|\n")


@cache
def _hyphenator() -> pyphen.Pyphen:
    return pyphen.Pyphen(lang="en_GB")


@lru_cache(maxsize=8192)
def _syllables(word: str) -> int:
    return len(_hyphenator().positions(word)) + 1


def reading_age(post: Post, context: CheckContext) -> Iterator[Hit]:
    sample = post.prose[:_MAX_CHARS].lower()
    words = _WORD.findall(sample)
    if len(words) < _MIN_WORDS:
        return
    sentences = sum(1 for part in _SENTENCE_BREAK.split(sample) if _WORD.search(part))
    syllables = sum(map(_syllables, words))
    # Flesch-Kincaid grade level; a US grade is roughly a reading age five years younger.
    grade = 0.39 * len(words) / sentences + 11.8 * syllables / len(words) - 15.59
    age = round(grade + 5)
    if age > _TARGET_READING_AGE:
        yield Hit(
            *post.whole(),
            f"This post has a reading age of about {age}. The NHS aims for 9 to 11, so that "
            "most people understand it first time, including people reading in a second "
            "language or in a hurry. Use shorter sentences and everyday words ('help', not "
            "'facilitate').",
        )


# --- Alt text --------------------------------------------------------------------------------


def missing_alt_text(post: Post, context: CheckContext) -> Iterator[Hit]:
    total = len(context.media)
    for number, media in enumerate(context.media, start=1):
        if not (isinstance(media.alt_text, str) and media.alt_text.strip()):
            which = "The image" if total == 1 else f"Image {number} of {total}"
            yield Hit(
                *post.whole(),
                f"{which} has no description (alt text). Screen-reader users hear nothing "
                "about it. Describe what it shows and why it matters, in a sentence or two.",
            )
