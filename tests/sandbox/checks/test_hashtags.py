"""Hashtags: CamelCase for screen readers, and no more than two."""

from __future__ import annotations

import pytest

from tests.sandbox.checks.helpers import codes, findings, spans


@pytest.mark.parametrize(
    ("tag", "suggestion"),
    [
        ("#mentalhealthawareness", "#MentalHealthAwareness"),
        ("#Mentalhealthawareness", "#MentalHealthAwareness"),
        ("#thankyounhs", "#ThankYouNHS"),
        ("#nhsjobs", "#NHSJobs"),
        ("#mentalhealth2024", "#MentalHealth2024"),
        ("#worldkidneyday", "#WorldKidneyDay"),
    ],
)
def test_lower_case_multi_word_hashtags_get_a_camel_case_suggestion(
    tag: str, suggestion: str
) -> None:
    text = f"Join us for {tag} events"
    found = findings(text, "hashtag-case")
    assert [text[f.start : f.end] for f in found] == [tag]
    assert suggestion in found[0].message
    assert found[0].severity == "warn"


def test_a_long_run_that_does_not_split_is_still_flagged() -> None:
    text = "#antimicrobialresistance matters"
    found = findings(text, "hashtag-case")
    assert [text[f.start : f.end] for f in found] == ["#antimicrobialresistance"]
    assert "CamelCase" in found[0].message


@pytest.mark.parametrize(
    "text",
    [
        "Join us for #MentalHealthAwareness week",
        "Proud of our #NHS staff",
        "#COVID19 boosters",
        "#covid19 boosters",
        "#NHSScotland",
        "#vaccine #wellbeing",
        "#neurodiversity and #apprenticeship",
        "#homeless support",
        "#meat free Monday",
        "#therapist",
        "#iechydmeddwl",
        "#ЗдоровьеДетей",
        "#健康",
        "#teamwork",
        "#handhygiene",  # would split, but "hygiene" is not in the vocabulary and it is short
    ],
)
def test_camel_case_acronyms_and_single_words_pass(text: str) -> None:
    assert "hashtag-case" not in codes(text)


def test_a_hashtag_inside_a_url_is_not_a_hashtag() -> None:
    assert "hashtag-case" not in codes("See https://example.com/#mentalhealthawareness")


def test_more_than_two_hashtags_are_too_many() -> None:
    text = "Flu jabs now #flu #vaccine #winter #NHSScotland"
    found = findings(text, "too-many-hashtags")
    assert [text[f.start : f.end] for f in found] == ["#winter #NHSScotland"]
    assert "4 hashtags" in found[0].message


def test_two_hashtags_are_fine() -> None:
    assert spans("Flu jabs now #flu #vaccine", "too-many-hashtags") == []
