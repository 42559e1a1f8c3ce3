"""sandbox.tweet_text against the official twitter-text conformance suite, read at test time.

The suite is shared/conformance/twitter-text beside the repo, or under $SANDPIT_SHARED_DIR.
A missing suite fails the tests; it never skips them.
"""

import functools
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import regex
import yaml
from hypothesis import example, given, settings
from hypothesis import strategies as st

from sandbox import tweet_text as tt


def _suite_dir() -> Path:
    shared = os.environ.get("SANDPIT_SHARED_DIR")
    root = Path(shared) if shared else Path(__file__).resolve().parents[2].parent / "shared"
    return root / "conformance" / "twitter-text"


@functools.cache
def _suite(file: str) -> dict[str, Any] | None:
    path = _suite_dir() / file
    if not path.is_file():
        return None
    return yaml.safe_load(path.read_text(encoding="utf-8"))["tests"]


def _cases(file: str, section: str) -> list[Any]:
    """One param per case; a single failing param when the file or section is missing."""
    tests = _suite(file)
    if tests is None or not tests.get(section):
        return [pytest.param(None, id="suite-missing")]
    return [
        pytest.param(c, id=f"{i}-{c['description'][:60]}") for i, c in enumerate(tests[section])
    ]


def _require(case: dict[str, Any] | None) -> dict[str, Any]:
    if case is None:
        pytest.fail(
            f"twitter-text conformance suite not found under {_suite_dir()}: put shared/ beside "
            "the repo or set SANDPIT_SHARED_DIR"
        )
    return case


# --- Counting -----------------------------------------------------------------------------

COUNTER_SECTIONS = [
    ("WeightedTweetsWithDiscountedEmojiCounterTest", tt.V3),
    ("UnicodeDirectionalMarkerCounterTest", tt.V3),
    ("WeightedTweetsCounterTest", tt.V2),
]


def _as_suite_fields(parsed: tt.ParsedTweet) -> dict[str, Any]:
    return {
        "weightedLength": parsed.weighted_length,
        "valid": parsed.valid,
        "permillage": parsed.permillage,
        "displayRangeStart": parsed.display_range_start,
        "displayRangeEnd": parsed.display_range_end,
        "validRangeStart": parsed.valid_range_start,
        "validRangeEnd": parsed.valid_range_end,
    }


@pytest.mark.parametrize(
    ("config", "case"),
    [
        pytest.param(config, *p.values, id=f"{section}-{p.id}")
        for section, config in COUNTER_SECTIONS
        for p in _cases("validate.yml", section)
    ],
)
def test_counter_conformance(config: tt.Config, case: dict[str, Any] | None) -> None:
    case = _require(case)
    assert _as_suite_fields(tt.parse_tweet(case["text"], config)) == case["expected"]


# --- Extraction ---------------------------------------------------------------------------


def _indexed(key: str, entities: list[tt.Entity]) -> list[dict[str, Any]]:
    return [{key: e.value, "indices": [e.start, e.end]} for e in entities]


def _values(entities: list[tt.Entity]) -> list[str]:
    return [e.value for e in entities]


def _mentions_or_lists(text: str) -> list[dict[str, Any]]:
    return [
        {"screen_name": m.screen_name, "list_slug": m.list_slug, "indices": [m.start, m.end]}
        for m in tt.extract_mentions_or_lists_with_indices(text)
    ]


EXTRACTORS: dict[str, Callable[[str], Any]] = {
    "mentions": lambda t: _values(tt.extract_mentions_with_indices(t)),
    "mentions_with_indices": lambda t: _indexed("screen_name", tt.extract_mentions_with_indices(t)),
    "mentions_or_lists_with_indices": _mentions_or_lists,
    "replies": tt.extract_reply_screen_name,
    "urls": lambda t: _values(tt.extract_urls_with_indices(t)),
    "urls_with_indices": lambda t: _indexed("url", tt.extract_urls_with_indices(t)),
    "urls_with_directional_markers": lambda t: _indexed("url", tt.extract_urls_with_indices(t)),
    "tco_urls_with_params": lambda t: _values(tt.extract_urls_with_indices(t)),
    "hashtags": lambda t: _values(tt.extract_hashtags_with_indices(t)),
    "hashtags_from_astral": lambda t: _values(tt.extract_hashtags_with_indices(t)),
    "hashtags_with_indices": lambda t: _indexed("hashtag", tt.extract_hashtags_with_indices(t)),
    "cashtags": lambda t: _values(tt.extract_cashtags_with_indices(t)),
    "cashtags_with_indices": lambda t: _indexed("cashtag", tt.extract_cashtags_with_indices(t)),
}


@pytest.mark.parametrize(
    ("section", "case"),
    [
        pytest.param(section, *p.values, id=f"{section}-{p.id}")
        for section in EXTRACTORS
        for p in _cases("extract.yml", section)
    ],
)
def test_extract_conformance(section: str, case: dict[str, Any] | None) -> None:
    case = _require(case)
    assert EXTRACTORS[section](case["text"]) == case["expected"]


@pytest.mark.parametrize("section", ["country", "generic"])
def test_every_tld_links(section: str) -> None:
    cases = [_require(c.values[0]) for c in _cases("tlds.yml", section)]
    failures = [
        c["text"]
        for c in cases
        if _values(tt.extract_urls_with_indices(c["text"])) != c["expected"]
    ]
    assert failures == []


def test_extract_entities_orders_and_drops_overlaps() -> None:
    text = "@ann see https://example.com/#tag #news $GBP.X http://t.co/#x"
    assert [(e.kind, e.value, e.start, e.end) for e in tt.extract_entities(text)] == [
        ("mention", "ann", 0, 4),
        ("url", "https://example.com/#tag", 9, 33),
        ("hashtag", "news", 34, 39),
        ("cashtag", "GBP.X", 40, 46),
        ("url", "http://t.co/#x", 47, 61),
    ]


# --- Emoji, robustness, speed -------------------------------------------------------------


@pytest.mark.parametrize(
    "emoji",
    [
        "\U0001f9d1\u200d\u2695\ufe0f",  # health worker (ZWJ, Emoji 12.1)
        "\U0001f426\u200d\U0001f525",  # phoenix (Emoji 15.1)
        "\U0001f9d1\u200d\U0001f9d1\u200d\U0001f9d2",  # family: adult, adult, child (15.1)
        "\U0001f6b6\U0001f3fd\u200d\u27a1\ufe0f",  # person walking facing right, skin tone (15.1)
        "\U0001fae9",  # face with bags under eyes (Emoji 16.0)
        "\U0001f3f3\ufe0f\u200d\u26a7\ufe0f",  # transgender flag
        "\U0001f1ec\U0001f1e7",  # flag: United Kingdom
        "\U0001f3f4\U000e0067\U000e0062\U000e0077\U000e006c\U000e0073\U000e007f",  # flag: Wales
        "#\ufe0f\u20e3",  # keycap
        "\u00a9\ufe0f",  # copyright sign, emoji style
    ],
)
def test_an_emoji_counts_as_two(emoji: str) -> None:
    assert tt.parse_tweet(emoji).weighted_length == 2


def test_a_text_style_symbol_keeps_its_own_weight() -> None:
    # Only sequences collapse to one emoji; a lone copyright sign is in the light range.
    assert tt.parse_tweet("\u00a9").weighted_length == 1


def test_emoji_count_fully_in_v2_too() -> None:
    assert tt.parse_tweet("\U0001f9d1\u200d\u2695\ufe0f", tt.V2).weighted_length == 7


def test_a_10000_character_paste() -> None:
    parsed = tt.parse_tweet("a" * 10_000)
    assert parsed == tt.ParsedTweet(10_000, False, 35_714, 0, 9_999, 0, 279)
    cjk = tt.parse_tweet("\u3042" * 10_000)
    assert (cjk.weighted_length, cjk.valid, cjk.valid_range_end) == (20_000, False, 139)


def test_long_runs_without_spaces_stay_fast() -> None:
    # Run as one regex, URL detection takes quadratic time on such text (35 s for this one).
    text = "\u3042" * 10_000 + ".comm " + "\u3042\u3044." * 5_000
    started = time.perf_counter()
    tt.parse_tweet(text)
    tt.extract_entities(text)
    assert time.perf_counter() - started < 2


@given(st.text())
@example("\ud800 lone \udfff surrogates \ud83d")
@example("http://\ud800.com #\udc00 @\ud83d")
@example("\U0001f9d1\u200d" * 50 + "xn--" + "\u3042" * 70 + ".com")
@settings(max_examples=300, deadline=None)
def test_never_raises(text: str) -> None:
    parsed = tt.parse_tweet(text)
    tt.parse_tweet(text, tt.V2)
    entities = tt.extract_entities(text)
    assert parsed.display_range_end == max(
        len(text.encode("utf-16-le", "surrogatepass")) // 2 - 1, 0
    )
    assert all(0 <= e.start < e.end <= len(text) for e in entities)


# --- URL scan versus twitter-text's own regex ---------------------------------------------

# twitter-text states the URL grammar as one regex; tweet_text works it out in one pass for
# speed. The regex, built from the same pieces, is the reference the pass must agree with.


@functools.cache
def _reference_url_regex() -> Any:
    d = f"[^{tt._class_body(tt._NOT_DOMAIN)}]"
    tld_end = r"(?=[^0-9a-zA-Z@+\-]|$)"
    tld = (
        "(?:(?:" + "|".join(map(regex.escape, tt._GENERIC_TLDS)) + ")" + tld_end
        + "|(?:" + "|".join(map(regex.escape, tt._COUNTRY_TLDS)) + ")" + tld_end
        + r"|xn--[\-0-9a-z]+)"
    )  # fmt: skip
    domain = f"(?:(?:(?:{d}(?:[_\\-]|{d})*)?{d}\\.)*(?:(?:{d}(?:-|{d})*)?{d}\\.){tld})"
    return regex.compile(
        f"(?P<before>[^{tt._class_body(tt._NOT_BEFORE)}]|^)"
        f"(?P<url>(?P<protocol>https?://)?(?P<domain>{domain})"
        f"(?::[0-9]+)?(?P<path>/{tt._PATH}*)?(?:{tt._QUERY})?)",
        regex.IGNORECASE,
    )


def _reference_url_matches(text: str) -> list[tuple[int, int, int, int, bool]]:
    return [
        (m.start("url"), m.start("domain"), m.end("domain"), m.end(), m["path"] is not None)
        for m in _reference_url_regex().finditer(text)
    ]


URLISH = st.lists(
    st.sampled_from(
        ["http://", "https://", "HTTP://", "xn--", ".", "..", "-", "_", "/", "?", "#", "@", "$",
         ":", ":80", "(", ")", "=", " ", "com", "co", "jp", "org", "comm", "t.co/", "a", "b_",
         "a_b", "x1", "\u00e9", "\u3042", "\u307f\u3093\u306a", "\u3002", "\u202a", "\ufeff"]
    ),
    max_size=16,
).map("".join)  # fmt: skip


@given(URLISH)
@settings(max_examples=500, deadline=None)
def test_url_scan_matches_the_reference_regex(text: str) -> None:
    assert list(tt._url_matches(text)) == _reference_url_matches(text)
