"""The browser counter (static/js/tweet-text.js) gives the suite's v3 numbers inside Chromium.

The suite is shared/conformance/twitter-text beside the repo, or under $SANDPIT_SHARED_DIR,
read at test time. A missing suite fails the test; it never skips it.
"""

import os
from pathlib import Path
from typing import Any

import pytest
import yaml

pytestmark = pytest.mark.browser

REPO = Path(__file__).resolve().parents[2]
SCRIPTS = [REPO / "static/js/tweet-text-data.js", REPO / "static/js/tweet-text.js"]
V3_SECTIONS = [
    "WeightedTweetsWithDiscountedEmojiCounterTest",
    "UnicodeDirectionalMarkerCounterTest",
]
FIELDS = [
    "weightedLength",
    "valid",
    "permillage",
    "displayRangeStart",
    "displayRangeEnd",
    "validRangeStart",
    "validRangeEnd",
]


def _v3_cases() -> list[dict[str, Any]]:
    shared = os.environ.get("SANDPIT_SHARED_DIR")
    root = Path(shared) if shared else REPO.parent / "shared"
    path = root / "conformance" / "twitter-text" / "validate.yml"
    if not path.is_file():
        pytest.fail(
            f"twitter-text conformance suite not found at {path}: put shared/ beside the repo "
            "or set SANDPIT_SHARED_DIR"
        )
    tests = yaml.safe_load(path.read_text(encoding="utf-8"))["tests"]
    cases = [case for section in V3_SECTIONS for case in tests.get(section) or []]
    if len(cases) < 20:
        pytest.fail(f"expected the v3 counting cases in {path}, found {len(cases)}")
    return cases


def test_every_v3_counting_case_in_chromium(page) -> None:
    cases = _v3_cases()
    page.set_content("<html><head></head><body></body></html>")
    for script in SCRIPTS:
        page.add_script_tag(path=script)
    results = page.evaluate(
        "texts => texts.map(text => window.SandpitTweetText.parseTweet(text))",
        [case["text"] for case in cases],
    )
    mismatches = [
        (case["description"], {f: result[f] for f in FIELDS}, case["expected"])
        for case, result in zip(cases, results, strict=True)
        if {f: result[f] for f in FIELDS} != case["expected"]
    ]
    assert mismatches == []


def test_counter_runs_under_a_strict_csp(page) -> None:
    """Served as the app serves it: external scripts only, no eval of any kind."""
    origin = "https://sandpit.test"
    html = "".join(f'<script src="/static/js/{s.name}"></script>' for s in SCRIPTS)
    csp = "default-src 'none'; script-src 'self'"

    def serve(route):
        name = route.request.url.rsplit("/", 1)[-1]
        if route.request.url == f"{origin}/":
            route.fulfill(
                body=html, content_type="text/html", headers={"Content-Security-Policy": csp}
            )
        elif name in {s.name for s in SCRIPTS}:
            route.fulfill(path=REPO / "static/js" / name, content_type="text/javascript")
        else:
            route.abort()

    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on(
        "console", lambda message: errors.append(message.text) if message.type == "error" else None
    )
    page.route(f"{origin}/**", serve)
    page.goto(f"{origin}/")
    result = page.evaluate(
        "() => [SandpitTweetText.parseTweet('\\u{1F9D1}\\u200d\\u2695\\ufe0f see example.com'),"
        " SandpitTweetText.extractEntities('@ann #news $GBP example.com')]"
    )
    assert errors == []
    assert result[0]["weightedLength"] == 2 + 5 + 23
    assert [(e["kind"], e["value"]) for e in result[1]] == [
        ("mention", "ann"),
        ("hashtag", "news"),
        ("cashtag", "GBP"),
        ("url", "example.com"),
    ]
