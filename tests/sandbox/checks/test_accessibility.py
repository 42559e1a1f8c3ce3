"""Shouting, reading age and alt text."""

from __future__ import annotations

import pytest

from sandbox.checks import MediaInfo
from tests.sandbox.checks.helpers import codes, findings, spans

# --- All caps --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "span"),
    [
        (
            "PLEASE DO NOT ATTEND A&E UNLESS IT IS AN EMERGENCY TODAY",
            "PLEASE DO NOT ATTEND A&E UNLESS IT IS AN EMERGENCY TODAY",
        ),
        ("HAPPY NEW YEAR from all of us at the trust", "HAPPY NEW YEAR"),
        ("Our clinic is CLOSED ALL DAY TOMORROW, sorry", "CLOSED ALL DAY TOMORROW"),
    ],
)
def test_shouting_is_found(text: str, span: str) -> None:
    found = findings(text, "all-caps")
    assert [text[f.start : f.end] for f in found] == [span]
    assert found[0].severity == "warn"


@pytest.mark.parametrize(
    "text",
    [
        "Visit your GP or call NHS 24 if symptoms persist",
        "NHS A&E GP ICU CAMHS COVID-19 RSV MMR PPE",
        "Ask your GPs and MPs, or the NHS and UK HSCP teams",
        "PLEASE help us",
        "URGENT: clinic closed today",
        "Thanks @NHSGGC @NHSLOTHIAN @SCOTGOV for the support",
        "Open 9AM to 5PM",
        "日本語のテキスト",
    ],
)
def test_acronyms_and_single_words_in_capitals_are_not_shouting(text: str) -> None:
    assert "all-caps" not in codes(text)


# --- Reading age -----------------------------------------------------------------------------

SIMPLE = (
    "We are open on Saturday. Come and see us. You do not need to book. Bring your child "
    "and your red book. We will check their weight and give them their jabs."
)
COMPLEX = (
    "Organisational accountability necessitates comprehensive multidisciplinary consideration "
    "of individualised rehabilitation requirements, particularly regarding musculoskeletal "
    "deterioration, pharmacological interventions and intermediate community-based provision."
)


def test_a_simple_post_passes_the_reading_age() -> None:
    assert "reading-age" not in codes(SIMPLE)


def test_a_complex_post_gets_a_reading_age_tip() -> None:
    found = [f for f in findings(COMPLEX, "reading-age") if "reading age of about" in f.message]
    assert len(found) == 1
    assert (found[0].severity, found[0].start, found[0].end) == ("tip", 0, len(COMPLEX))
    # Its jargon is named too, each word where it is (tests/sandbox/checks/test_plain.py).
    assert {f.severity for f in findings(COMPLEX, "reading-age")} == {"tip"}


def test_a_short_post_is_too_short_to_judge() -> None:
    assert "reading-age" not in codes("Organisational accountability necessitates consideration.")


# --- Alt text --------------------------------------------------------------------------------


@pytest.mark.parametrize("alt", ["", "   ", "\n"])
def test_an_image_without_alt_text_blocks(alt: str) -> None:
    text = "Our new ward"
    found = findings(text, "missing-alt-text", media=(MediaInfo(alt_text=alt),))
    assert [(f.severity, f.start, f.end) for f in found] == [("block", 0, len(text))]
    assert found[0].message.startswith("The image has no description")


def test_each_image_without_alt_text_is_named() -> None:
    media = (MediaInfo("Nurses at the new ward's front desk"), MediaInfo(""))
    found = findings("Our new ward", "missing-alt-text", media=media)
    assert len(found) == 1
    assert found[0].message.startswith("Image 2 of 2 has no description")


def test_images_with_alt_text_pass() -> None:
    assert spans("Our new ward", "missing-alt-text", media=(MediaInfo("The ward"),)) == []
    assert spans("Our new ward", "missing-alt-text") == []


def test_an_image_without_alt_text_on_an_empty_post_still_counts() -> None:
    found = findings("", "missing-alt-text", media=(MediaInfo(""),))
    assert [(f.start, f.end) for f in found] == [(0, 0)]
