"""Plain language: reading age, long words in short posts, and NHS jargon (all tips)."""

from __future__ import annotations

import pytest

from sandbox.checks.plain import syllables
from tests.sandbox.checks.helpers import codes, findings, spans


@pytest.mark.parametrize(
    "text",
    [
        # About ten words of polysyllables: too short for the reading-age formula.
        "Multidisciplinary collaboration facilitates individualised rehabilitation pathways.",
        "Unprecedented operational difficulties necessitate temporary organisational change.",
        "Comorbidities increase vulnerability to respiratory complications considerably.",
    ],
)
def test_a_short_post_of_long_words_gets_a_tip(text: str) -> None:
    found = findings(text, "reading-age")
    assert found and {f.severity for f in found} == {"tip"}


@pytest.mark.parametrize(
    "text",
    [
        "Flu jabs are free for everyone over 65. Book at your GP or pharmacy.",
        "Our new walk-in centre is open from 8am to 8pm every day.",
        "Professor Tariq Ali has been appointed clinical director for cancer services.",
        "Physiotherapy appointments at Victoria Hospital every Saturday.",
        "Happy International Nurses Day to every nurse across our community!",
    ],
)
def test_short_plain_posts_and_names_get_no_tip(text: str) -> None:
    assert "reading-age" not in codes(text)


@pytest.mark.parametrize(
    ("text", "term", "plain"),
    [
        ("Non-elective admissions rose 12%", "Non-elective", "emergency"),
        ("Ambulatory care patients should attend from 8am", "Ambulatory care", "walk-in"),
        ("Our DNA rate for physio appointments has fallen", "DNA", "missed appointment"),
        ("Wait in the discharge lounge on the ground floor", "discharge lounge", "going home"),
        ("Delayed discharges are our biggest challenge", "Delayed discharges", "leave hospital"),
        ("Check your blood pressure if you have hypertension", "hypertension", "high blood"),
        ("We signpost carers to local groups", "signpost", "point people to"),
        ("Service users can apply online", "Service users", "people who use"),
        ("Please arrive prior to your appointment", "prior to", "before"),
        ("Analgesia is available from the pharmacist", "Analgesia", "painkillers"),
    ],
)
def test_jargon_is_named_with_a_plain_alternative(text: str, term: str, plain: str) -> None:
    found = [f for f in findings(text, "reading-age") if "jargon" in f.message]
    assert [text[f.start : f.end] for f in found] == [term]
    assert plain in found[0].message
    assert found[0].severity == "tip"


@pytest.mark.parametrize(
    "text",
    [
        "DNA testing helped police find the owner of the bike",
        "Most people go home from hospital the same day",
        "He was discharged from the army in 1985",
        "Our outpatient clinics are running as normal",
        "Our first virtual ward patients are cared for at home",
    ],
)
def test_everyday_words_and_other_senses_are_not_jargon(text: str) -> None:
    assert not [f for f in findings(text, "reading-age") if "jargon" in f.message]


def test_a_long_plain_post_still_passes_and_a_long_hard_one_still_gets_its_age() -> None:
    plain = (
        "We are open on Saturday. Come and see us. You do not need to book. Bring your child "
        "and your red book. We will check their weight and give them their jabs."
    )
    assert "reading-age" not in codes(plain)
    hard = (
        "Organisational accountability necessitates comprehensive consideration of "
        "individualised rehabilitation requirements, particularly regarding musculoskeletal "
        "deterioration and intermediate community-based provision for older residents across "
        "the region."
    )
    assert any("reading age of about" in f.message for f in findings(hard, "reading-age"))


def test_jargon_is_found_in_an_image_description() -> None:
    from sandbox.checks import MediaInfo

    alt = "A sign for the ambulatory care unit"
    found = findings("Our new unit", "reading-age", media=(MediaInfo(alt),))
    assert [(f.media_index, alt[f.start : f.end]) for f in found] == [(0, "ambulatory care")]


@pytest.mark.parametrize(
    ("word", "count"),
    [
        ("every", 3),
        ("area", 3),
        ("video", 3),
        ("nation", 2),
        ("table", 2),
        ("centre", 2),
        ("make", 1),
        ("rehabilitation", 6),
        ("quiet", 2),
        ("being", 2),
    ],
)
def test_syllables_are_counted(word: str, count: int) -> None:
    assert syllables(word) == count


def test_spans_are_inside_the_text() -> None:
    text = "Non-elective and elective surgery, ambulatory care and DNA rates for clinics"
    assert spans(text, "reading-age") == ["Non-elective", "elective", "ambulatory care", "DNA"]


def test_names_do_not_raise_a_long_posts_reading_age() -> None:
    text = (
        "Great to see Gareth, 58, from Pontypridd, walking again just six weeks after his knee "
        "replacement. Diolch to the physio team!"
    )
    assert "reading-age" not in codes(text)
