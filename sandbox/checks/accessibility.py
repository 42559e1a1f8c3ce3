"""Accessibility: shouting and images without descriptions (reading age: checks.plain)."""

from __future__ import annotations

import re
from collections.abc import Iterator

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


# Every word in capitals contains a run like this; fewer than three of them that are not
# acronyms, and there is nothing to find (shouting needs three words or more).
_CAPITALS = re.compile(r"[A-Z][A-Z'\u2019&]*[A-Z]")


def all_caps(post: Post, context: CheckContext) -> Iterator[Hit]:
    if post.prose.isascii() and (
        sum(1 for w in _CAPITALS.findall(post.prose) if w not in _ACRONYMS) < _SHOUTING_RUN
    ):
        return
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
