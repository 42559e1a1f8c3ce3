"""Patient details in words: a named person beside a medical condition.

A first rule of thumb, moved here from the simulated audience so the trainee, the coach and
the audience all see the same finding. It will sometimes take a member of staff being
thanked for a patient, so it warns rather than blocks.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from sandbox.checks.base import CheckContext, Hit, Post

# Words that, beside a name, make it a patient's medical information. Not "surgery" or
# "operation": a GP surgery and an operations team are everyday words in an NHS post.
_CONDITION = re.compile(
    r"\b(?:cancer|tumou?rs?|stroke|dementia|alzheimer'?s|diabet(?:es|ic)|covid(?:-19)?"
    r"|pneumonia|sepsis|heart\s+attack|cardiac\s+arrest|overdosed?|hiv|hepatitis"
    r"|pregnan(?:t|cy)|miscarriage|stillbirth|fractured?|broken\s+(?:hip|leg|arm|wrist|ankle)"
    r"|(?:hip|knee)\s+replacement|chemo(?:therapy)?|dialysis|transplant|amputation"
    r"|depression|schizophrenia|bipolar|anorexia|self[- ]harm|suicid(?:e|al)|epilep(?:sy|tic)"
    r"|seizures?|parkinson'?s|motor\s+neurone\s+disease|leukaemia|lymphoma|cystic\s+fibrosis)\b",
    re.IGNORECASE,
)
# A capitalised word that could be part of a name: Jane, McDonald, O'Brien, Smith-Jones;
# not NHS or DMs.
_APOSTROPHES = "'\u2019"
_NAME_WORD = rf"[A-Z](?:[a-z]|[{_APOSTROPHES}][A-Z])[A-Za-z{_APOSTROPHES}-]*"
_CAPITALISED_RUN = re.compile(
    rf"(?<![\w{_APOSTROPHES}-]){_NAME_WORD}(?:[ \t]+{_NAME_WORD})+(?![\w{_APOSTROPHES}-])"
)
_HONORIFIC_NAME = re.compile(rf"\b(?:Mr|Mrs|Ms|Miss|Mx)\.?[ \t]+{_NAME_WORD}")
_PATIENT_NAME = re.compile(rf"\bpatients?[ \t]+({_NAME_WORD})")
# Capitalised words that start sentences or name places, services, days and campaigns,
# so "Happy Monday", "Royal Infirmary" and "Dementia Action Week" are not taken for names.
_NOT_NAME_WORDS = """
    a an the this that these those our your their my we you they he she it i its
    get well soon thank thanks happy good great huge big congratulations congrats welcome
    please join come visit meet see do don't here there what when where who why how
    today tomorrow yesterday tonight morning afternoon evening weekend week weeks month year day
    monday tuesday wednesday thursday friday saturday sunday january february march april may
    june july august september october november december christmas easter
    nhs hospital hospitals infirmary general royal university community clinic clinics centre
    center surgery practice ward wards unit units department team teams service services trust
    board council borough county city district health care social mental public primary
    awareness action appeal campaign fund charity foundation society research support group
    street road lane avenue park square house hall court
    accident emergency minor injuries injury world national international local
    new old best first last free
"""
_NOT_NAMES = frozenset(_NOT_NAME_WORDS.split())


def _could_be_a_name(word: str) -> bool:
    bare = re.sub(rf"[{_APOSTROPHES}]s$", "", word).lower()
    return bare not in _NOT_NAMES and not _CONDITION.fullmatch(bare)


def _names_someone_ill(prose: str) -> bool:
    """A rule of thumb for "a named person beside a medical condition".

    A name is Mr/Mrs/Ms/Miss/Mx and a capitalised word, "patient" and a capitalised word, or
    two or three capitalised words in a row that are not everyday capitalised words (longer
    runs are titles). It will sometimes take a member of staff being thanked for a patient.
    """
    if not _CONDITION.search(prose):
        return False
    if _HONORIFIC_NAME.search(prose):
        return True
    if any(_could_be_a_name(m[1]) for m in _PATIENT_NAME.finditer(prose)):
        return True
    for run in _CAPITALISED_RUN.finditer(prose):
        words = run[0].split()
        if len(words) <= 3 and all(map(_could_be_a_name, words)):
            return True
    return False


def patient_details(post: Post, context: CheckContext) -> Iterator[Hit]:
    if _names_someone_ill(post.prose):
        yield Hit(
            0,
            len(post.text),
            "This may name a patient beside their condition. Anything that could identify "
            "a patient is confidential: leave out their name, and details that point to them.",
        )
