"""Properties over generated text: NHS numbers are always found, near misses never, and the
engine never raises and never points outside the text."""

from __future__ import annotations

from datetime import date

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from sandbox.checks import CheckContext, MediaInfo, run_checks
from sandbox.checks.identifiers import is_patient_number

WEIGHTS = range(10, 1, -1)


def _check_digit(nine: list[int]) -> int:
    return (11 - sum(d * w for d, w in zip(nine, WEIGHTS, strict=True)) % 11) % 11


nine_digits = st.lists(st.integers(0, 9), min_size=9, max_size=9)
separators = st.sampled_from(["", " ", "-"])
# Around the number: any text that does not run more digits into it.
before = st.text().filter(lambda s: not s[-1:].isascii() or not s[-1:].isdigit())
after = st.text().filter(lambda s: not s[:1].isascii() or not s[:1].isdigit())


@st.composite
def nhs_numbers(draw: st.DrawFn) -> str:
    nine = draw(nine_digits)
    check = _check_digit(nine)
    assume(check != 10)
    return "".join(map(str, nine)) + str(check)


def _formatted(number: str, separator: str) -> str:
    return f"{number[:3]}{separator}{number[3:6]}{separator}{number[6:]}"


@given(nhs_numbers(), separators, before, after)
def test_a_valid_nhs_number_is_always_found(
    number: str, separator: str, prefix: str, suffix: str
) -> None:
    shown = _formatted(number, separator)
    text = prefix + shown + suffix
    spans = {(f.start, f.end) for f in run_checks(text) if f.code == "patient-identifier"}
    assert (len(prefix), len(prefix) + len(shown)) in spans


@given(nine_digits, st.integers(0, 9), separators)
def test_a_ten_digit_number_failing_the_check_is_never_found(
    nine: list[int], last: int, separator: str
) -> None:
    assume(last != _check_digit(nine))
    number = "".join(map(str, nine)) + str(last)
    assert not is_patient_number(number)
    text = f"Your order {_formatted(number, separator)} has shipped"
    assert not [f for f in run_checks(text) if f.code == "patient-identifier"]


EVERYTHING_ON = CheckContext(
    media=(MediaInfo(""), MediaInfo("A nurse")),
    extra_profanity=("numpty",),
    local_identifier_patterns=(("hospital number", r"RX\d{7}"), ("broken", "(")),
    pre_election_periods=((date(2026, 1, 1), date(2026, 12, 31)),),
    today=date(2026, 6, 1),
)


def _assert_sound(text: str, context: CheckContext) -> None:
    for finding in run_checks(text, context=context):
        assert 0 <= finding.start <= finding.end <= len(text)
        if text:
            assert finding.start < finding.end
        assert finding.message


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_any_text_is_checked_without_error(text: str) -> None:
    _assert_sound(text, CheckContext())
    _assert_sound(text, EVERYTHING_ON)


@settings(max_examples=300, deadline=None)
@given(st.binary().map(lambda b: b.decode("utf-8", "surrogateescape")))
def test_binary_junk_is_checked_without_error(text: str) -> None:
    _assert_sound(text, CheckContext())
    _assert_sound(text, EVERYTHING_ON)


@settings(deadline=None)
@given(
    st.lists(
        st.sampled_from(
            [
                "NHS",
                "A&E",
                "PLEASE",
                "born",
                "3/4/1950",
                "07700 900123",
                "#mentalhealth",
                "for every retweet",
                "f*ck",
                "🎉",
                "https://nhs.uk",
                "@NHSGGC",
                "vote",
                " ",
                ".",
                "\n",
                "£1",
                "EH3 9DR",
                "jane@example.com",
                "943 476 5919",
                "\ud800",
            ]
        ),
        max_size=60,
    ).map("".join)
)
def test_text_made_of_risky_pieces_is_checked_without_error(text: str) -> None:
    _assert_sound(text, EVERYTHING_ON)
