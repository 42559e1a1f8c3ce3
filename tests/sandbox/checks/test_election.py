"""Pre-election period: political words warn only while a period is on."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from tests.sandbox.checks.helpers import codes, findings, spans

PERIOD = ((date(2026, 3, 26), date(2026, 5, 7)),)
DURING = date(2026, 4, 20)


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("Remember to vote on Thursday", ["vote"]),
        ("Meet the candidates at our hustings", ["candidates", "hustings"]),
        ("Cllr Smith opened the ward", ["Cllr"]),
        ("Our local MSP visited", ["MSP"]),
        ("Labour and the SNP agree", ["Labour", "SNP"]),
        ("Read the Conservative manifesto", ["Conservative", "manifesto"]),
        ("Where is my polling station?", ["polling station"]),
    ],
)
def test_political_words_warn_during_a_pre_election_period(text: str, words: list[str]) -> None:
    found = findings(text, "pre-election-period", pre_election_periods=PERIOD, today=DURING)
    assert sorted(text[f.start : f.end] for f in found) == sorted(words)
    assert {f.severity for f in found} == {"warn"}
    assert "26 March 2026 to 7 May 2026" in found[0].message


@pytest.mark.parametrize(
    "text",
    [
        "Our labour ward has new birthing pools",
        "The Labour Ward is moving to level 2",
        "Conservative treatment is usually best for back pain",
        "Flu jabs now available",
        "mp3 files and ms word",
    ],
)
def test_non_political_text_passes_during_a_period(text: str) -> None:
    assert "pre-election-period" not in codes(text, pre_election_periods=PERIOD, today=DURING)


@pytest.mark.parametrize(
    "today", [date(2026, 3, 25), date(2026, 5, 8), None], ids=["before", "after", "unknown"]
)
def test_political_words_pass_outside_a_period(today: date | None) -> None:
    assert "pre-election-period" not in codes(
        "Remember to vote", pre_election_periods=PERIOD, today=today
    )


def test_the_first_and_last_days_are_in_the_period() -> None:
    for today in (date(2026, 3, 26), date(2026, 5, 7)):
        assert spans("vote", "pre-election-period", pre_election_periods=PERIOD, today=today)


def test_any_of_several_periods_counts_and_a_datetime_is_taken_as_its_date() -> None:
    periods = ((date(2025, 1, 1), date(2025, 1, 31)), *PERIOD)
    today = datetime(2026, 4, 1, 9, 30)
    assert spans("vote", "pre-election-period", pre_election_periods=periods, today=today)
