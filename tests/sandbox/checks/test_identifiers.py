"""Patient identifiers, phone numbers, email addresses, postcodes and dates of birth."""

from __future__ import annotations

import time

import pytest

from sandbox.checks.identifiers import is_patient_number
from tests.sandbox.checks.helpers import codes, findings, spans


def with_check_digit(nine: str) -> str:
    total = sum(int(d) * w for d, w in zip(nine, range(10, 1, -1), strict=True))
    return nine + str((11 - total % 11) % 11)


# --- Patient identifiers ---------------------------------------------------------------------


@pytest.mark.parametrize("number", ["9434765919", "943 476 5919", "943-476-5919"])
def test_nhs_number_in_each_format_is_found_exactly(number: str) -> None:
    text = f"Patient {number} is ready to go home"
    assert spans(text, "patient-identifier") == [number]
    assert findings(text, "patient-identifier")[0].severity == "block"


@pytest.mark.parametrize(
    "text",
    [
        "NHS no 9434765919.",
        "(943 476 5919)",
        "nhs:943-476-5919!",
        "9434765919",
        "NHS9434765919",
    ],
)
def test_nhs_number_next_to_punctuation_or_letters_is_found(text: str) -> None:
    assert "patient-identifier" in codes(text)


@pytest.mark.parametrize(
    "text",
    [
        "Our order ref 9434765918 has shipped",  # last digit off by one
        "Our order ref 9434765910 has shipped",
        "Our order ref 9999411846 has shipped",
        "Invoice 1234567890 is paid",
        "Tracking 94347659190",  # eleven digits holding a valid ten
        "Tracking 19434765919",
        "943 476-5919",  # two different separators is not one number
        "943  476  5919",
        "94 34 76 59 19",
    ],
)
def test_near_misses_are_not_patient_identifiers(text: str) -> None:
    assert "patient-identifier" not in codes(text)


def test_a_check_digit_of_ten_is_never_issued() -> None:
    nine = next(str(n) for n in range(100000000, 100001000) if with_check_digit(str(n))[9:] == "10")
    for last in "0123456789":
        assert not is_patient_number(nine + last)


@pytest.mark.parametrize("chi", ["0312309805", with_check_digit("010190123"), "2902681234"])
def test_chi_numbers_are_patient_identifiers_when_the_check_digit_holds(chi: str) -> None:
    text = f"Reminder: CHI {chi} please collect results"
    assert ("patient-identifier" in codes(text)) == is_patient_number(chi)


def test_is_patient_number_rejects_what_is_not_ten_ascii_digits() -> None:
    assert is_patient_number("9434765919")
    assert not is_patient_number("943476591")
    assert not is_patient_number("943476591x")
    full_width = "".join(chr(ord(d) - ord("0") + 0xFF10) for d in "9434765919")
    assert not is_patient_number(full_width)


def test_local_identifier_patterns_use_the_same_code() -> None:
    patterns = (("hospital number", r"\bRX\d{7}\b"),)
    text = "Bed 4, hospital no RX1234567, going home"
    found = findings(text, "patient-identifier", local_identifier_patterns=patterns)
    assert [text[f.start : f.end] for f in found] == ["RX1234567"]
    assert "hospital number" in found[0].message
    assert found[0].severity == "block"


def test_a_broken_local_pattern_is_ignored_and_the_others_still_run() -> None:
    patterns = (("broken", "[unclosed"), ("also broken", "(?P<"), ("ward ref", r"W\d{4}"))
    text = "Ward ref W1234 and NHS 943 476 5919"
    assert spans(text, "patient-identifier", local_identifier_patterns=patterns) == [
        "W1234",
        "943 476 5919",
    ]


def test_a_local_pattern_that_matches_nothing_but_empty_strings_finds_nothing() -> None:
    assert not findings(
        "anything at all", "patient-identifier", local_identifier_patterns=(("x", "z*"),)
    )


def test_a_catastrophically_backtracking_local_pattern_gives_up_quickly() -> None:
    started = time.perf_counter()
    found = findings(
        "a" * 40 + "!", "patient-identifier", local_identifier_patterns=(("bad", r"(a+)+$"),)
    )
    assert time.perf_counter() - started < 5
    assert found == []


# --- Phone numbers ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "number", "severity"),
    [
        ("Text Sam on 07700 900123 to arrange your lift", "07700 900123", "block"),
        ("Text Sam on 07700900123.", "07700900123", "block"),
        ("Call +44 7700 900123 today", "+44 7700 900123", "block"),
        ("Call +44 (0)7700 900123 today", "+44 (0)7700 900123", "block"),
        ("Ring 07700 900123 8am-6pm", "07700 900123", "block"),
        ("Our switchboard is 0141 211 4000", "0141 211 4000", "warn"),
        ("Call (0141) 211 4000 for details", "0141) 211 4000", "warn"),
        ("Main line 020 7946 0000 for enquiries", "020 7946 0000", "warn"),
        ("Clinic open 0900-1700, 0141 211 4000", "0141 211 4000", "warn"),
        ("Reach me on 07000 123456", "07000 123456", "block"),
    ],
)
def test_personal_phone_numbers_are_found(text: str, number: str, severity: str) -> None:
    found = findings(text, "phone-number")
    assert [text[f.start : f.end] for f in found] == [number]
    assert found[0].severity == severity


@pytest.mark.parametrize(
    "text",
    [
        "Call NHS 24 on 111 if you feel unwell over the weekend",
        "In an emergency call 999 or 112",
        "For non-emergencies call 101",
        "Book your COVID vaccine on 119",
        "Call 0300 123 1234 for our appointments line",  # 03: organisations' national rate
        "Freephone 0800 123 4567 or 0808 800 5000",
        "Patient 943 476 5919 is ready",
        "Born 03/05/1935 in Glasgow",
        "Clinic 09.30-10.30 and 14.00-15.00",
        "Order 12345678901234567890 has shipped",
    ],
)
def test_service_and_other_numbers_are_not_personal(text: str) -> None:
    assert "phone-number" not in codes(text)


# --- Email addresses -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "address"),
    [
        ("Contact jane.doe@example.com to book", "jane.doe@example.com"),
        ("Email jane.doe@nhs.net.", "jane.doe@nhs.net"),
        ("(sam+flu@example.co.uk)", "sam+flu@example.co.uk"),
    ],
)
def test_email_addresses_are_found(text: str, address: str) -> None:
    assert spans(text, "email-address") == [address]


@pytest.mark.parametrize("text", ["Thanks @NHSGGC!", "a@b", "me@localhost today", "x@1.23"])
def test_mentions_and_non_addresses_are_not_email(text: str) -> None:
    assert "email-address" not in codes(text)


# --- Postcodes -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "postcode"),
    [
        ("Visiting 14 Elm Road, EH3 9DR", "EH3 9DR"),
        ("Parliament is at SW1A 1AA", "SW1A 1AA"),
        ("Waverley EH1 1YZ", "EH1 1YZ"),
        ("Manchester M1 1AE.", "M1 1AE"),
        ("BBC W1A 1AA", "W1A 1AA"),
        ("no space: EH39DR", "EH39DR"),
        ("lower case eh3 9dr", "eh3 9dr"),
    ],
)
def test_full_postcodes_are_found(text: str, postcode: str) -> None:
    assert spans(text, "postcode") == [postcode]


@pytest.mark.parametrize(
    "text",
    [
        "Services across EH3 and EH4 this week",
        "New clinic in SW1A",
        "Take the A1 north",
        "Vitamin B12 clinic",
        "Room 3B 2nd floor",
    ],
)
def test_districts_and_lookalikes_are_not_full_postcodes(text: str) -> None:
    assert "postcode" not in codes(text)


# --- Dates of birth --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "span"),
    [
        ("Happy 90th, born 03/05/1935!", "born 03/05/1935"),
        ("born 3/4/1950", "born 3/4/1950"),
        ("DOB 03.04.1950 - please confirm", "DOB 03.04.1950"),
        ("D.O.B. 03.04.1950", "D.O.B. 03.04.1950"),
        ("date of birth: 3 April 1950", "date of birth: 3 April 1950"),
        ("Date of Birth - 3rd April 1950", "Date of Birth - 3rd April 1950"),
        ("born on the 3rd of April 1950", "born on the 3rd of April 1950"),
        ("born April 3, 1950", "born April 3, 1950"),
        ("birthdate 12-04-61", "birthdate 12-04-61"),
    ],
)
def test_birth_dates_are_found(text: str, span: str) -> None:
    found = findings(text, "date-of-birth")
    assert [text[f.start : f.end] for f in found] == [span]
    assert found[0].severity == "block"


@pytest.mark.parametrize(
    "text",
    [
        "Clinic dates for 03/05/2026 are now open",
        "Born in Bradford, she joined us on 03/05/2020",
        "Our newborn unit opened 3 April 2020",
        "born 32/13/1950",
        "Please bring your DOB and address",
        "born in 1950",
        "Reborn 3/4/1950",
    ],
)
def test_dates_that_are_not_birth_dates(text: str) -> None:
    assert "date-of-birth" not in codes(text)
