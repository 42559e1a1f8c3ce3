"""The engine as a whole: the registry, ordering, severity overrides and huge inputs."""

from __future__ import annotations

import json
import time
from datetime import date
from types import MappingProxyType

import pytest

from sandbox.checks import CHECKS, CODES, CheckContext, Finding, MediaInfo, run_checks
from tests.sandbox.checks.helpers import findings

REQUIRED_CODES = {
    "patient-identifier",
    "patient-details",
    "phone-number",
    "email-address",
    "postcode",
    "date-of-birth",
    "engagement-pledge",
    "profanity",
    "hashtag-case",
    "too-many-hashtags",
    "emoji-overuse",
    "all-caps",
    "reading-age",
    "missing-alt-text",
    "link-count",
    "pre-election-period",
}
RISKY = (
    "PLEASE DO NOT CALL 07700 900123 ABOUT 943 476 5919, born 3/4/1950, at EH3 9DR! "
    "£1 for every retweet #mentalhealthawareness #flu #jabs 🎉🎉🎉🎉 bloody hell "
    "https://nhs.uk https://gov.scot vote jane@example.com"
)


def test_every_required_code_is_registered_once_with_metadata() -> None:
    assert set(CODES) == REQUIRED_CODES
    assert len(CODES) == len(set(CODES))
    for check in CHECKS:
        assert check.severity in {"block", "warn", "tip"}
        assert check.title and check.description
        assert check.as_dict() == {
            "code": check.code,
            "title": check.title,
            "severity": check.severity,
            "description": check.description,
        }


def test_default_severities_follow_the_brief() -> None:
    defaults = {check.code: check.severity for check in CHECKS}
    for code in ("patient-identifier", "engagement-pledge", "missing-alt-text"):
        assert defaults[code] == "block"
    assert defaults["reading-age"] == "tip"
    assert defaults["pre-election-period"] == "warn"


def test_findings_are_sorted_by_start_and_serialise_to_json() -> None:
    context = CheckContext(
        media=(MediaInfo(""),),
        pre_election_periods=((date(2026, 1, 1), date(2026, 12, 31)),),
        today=date(2026, 6, 1),
    )
    found = run_checks(RISKY, context=context)
    assert [f.start for f in found] == sorted(f.start for f in found)
    assert {f.code for f in found} == REQUIRED_CODES - {"reading-age", "patient-details"}
    decoded = json.loads(json.dumps([f.as_dict() for f in found]))
    assert decoded[0].keys() == {"code", "severity", "start", "end", "message"}


def test_a_finding_is_immutable() -> None:
    finding = run_checks("Call 07700 900123")[0]
    assert isinstance(finding, Finding)
    with pytest.raises(AttributeError):
        finding.severity = "tip"


def test_an_override_changes_a_checks_severity_for_every_finding() -> None:
    overrides = MappingProxyType({"phone-number": "tip", "patient-identifier": "warn"})
    text = "Call 07700 900123 or 0141 211 4000 about 943 476 5919"
    found = run_checks(text, context=CheckContext(severity_overrides=overrides))
    assert {(f.code, f.severity) for f in found} == {
        ("phone-number", "tip"),
        ("patient-identifier", "warn"),
    }


def test_off_switches_a_check_off() -> None:
    context = {"severity_overrides": {"profanity": "off"}}
    assert findings("This bloody car park", "profanity", **context) == []
    assert findings("This bloody car park", "profanity")


def test_unknown_override_values_and_codes_are_ignored() -> None:
    overrides = {"profanity": "shout", "no-such-check": "off"}
    found = findings("Oh shit", "profanity", severity_overrides=overrides)
    assert [f.severity for f in found] == ["block"]


def test_a_plain_post_has_no_findings() -> None:
    assert run_checks("Flu jabs are available at your local pharmacy this week.") == []
    assert run_checks("") == []


@pytest.mark.parametrize(
    "shape",
    [
        "Lorem ipsum #dolor sit amet @x 0141 211 4000 born 3/4/1950 PLEASE DO NOT. ",
        "7",
        "01 ",
        "a@",
        "if ",
        "f*",
        "🎉",
        "\ud800x\udfff ",
    ],
)
def test_a_megabyte_of_text_is_checked_without_error_in_reasonable_time(shape: str) -> None:
    text = (shape * (1_000_000 // len(shape) + 1))[:1_000_000]
    started = time.perf_counter()
    found = run_checks(text)
    assert time.perf_counter() - started < 60
    assert all(0 <= f.start < f.end <= len(text) for f in found)


# --- Image descriptions and threads ------------------------------------------------------


ALT_RISKS = "Label: NHS 640 206 7970, DOB 01/02/1945, mobile 07700 900777"


def test_every_check_runs_on_each_image_description_and_says_which() -> None:
    media = (MediaInfo("A nurse at the front desk"), MediaInfo(ALT_RISKS))
    found = run_checks("Our clinic is closed today.", context=CheckContext(media=media))
    assert {(f.code, f.media_index) for f in found} == {
        ("patient-identifier", 1),
        ("date-of-birth", 1),
        ("phone-number", 1),
    }
    spans = {f.code: ALT_RISKS[f.start : f.end] for f in found}
    assert spans["patient-identifier"] == "640 206 7970"
    assert spans["phone-number"] == "07700 900777"
    assert all(f.image_number == 2 for f in found)


def test_text_findings_come_first_then_each_image_in_turn() -> None:
    media = (MediaInfo("Oh shit"), MediaInfo("bloody hell"))
    found = run_checks("What a crap day", context=CheckContext(media=media))
    assert [(f.media_index, f.code) for f in found] == [
        (None, "profanity"),
        (0, "profanity"),
        (1, "profanity"),
    ]


def test_as_dict_keeps_its_shape_for_the_text_and_adds_the_image_for_a_description() -> None:
    media = (MediaInfo("Oh shit"),)
    text_finding, alt_finding = run_checks("Oh shit", context=CheckContext(media=media))
    assert text_finding.as_dict().keys() == {"code", "severity", "start", "end", "message"}
    assert alt_finding.as_dict() == {
        "code": "profanity",
        "severity": "block",
        "start": 3,
        "end": 7,
        "message": alt_finding.message,
        "media_index": 0,
    }
    assert json.loads(json.dumps(alt_finding.as_dict()))["media_index"] == 0


def test_missing_alt_text_is_reported_once_not_once_per_description() -> None:
    media = (MediaInfo(""), MediaInfo("A ward"), MediaInfo("  "))
    found = findings("Photos", "missing-alt-text", media=media)
    assert [(f.media_index, f.message[:10]) for f in found] == [
        (None, "Image 1 of"),
        (None, "Image 3 of"),
    ]


def test_overrides_apply_to_findings_in_descriptions_too() -> None:
    context = CheckContext(media=(MediaInfo("Oh shit"),), severity_overrides={"profanity": "tip"})
    assert [f.severity for f in run_checks("Fine", context=context)] == ["tip"]
    off = CheckContext(media=(MediaInfo("Oh shit"),), severity_overrides={"profanity": "off"})
    assert run_checks("Fine", context=off) == []


def test_the_thread_is_context_only_its_own_findings_are_not_reported_here() -> None:
    context = CheckContext(thread=("Oh shit, call 07700 900123",))
    assert run_checks("A calm post about the library.", context=context) == []


def test_a_non_text_description_is_skipped_not_raised() -> None:
    media = (MediaInfo(None), MediaInfo(7))  # type: ignore[arg-type]
    assert [f.code for f in run_checks("Hi", context=CheckContext(media=media))] == [
        "missing-alt-text",
        "missing-alt-text",
    ]
