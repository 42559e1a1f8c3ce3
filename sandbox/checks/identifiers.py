"""Personal data: patient identifiers, phone numbers, email addresses, postcodes, dates of birth."""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import lru_cache

import phonenumbers
import regex
from phonenumbers import PhoneNumberType

from sandbox.checks.base import CheckContext, Hit, Post

# --- Patient identifiers ---------------------------------------------------------------------

# 3-3-4 digits with the same separator (or none) twice: 9434765919, 943 476 5919, 943-476-5919.
_TEN_DIGITS = re.compile(r"(?<![0-9])([0-9]{3})([ \-]?)([0-9]{3})\2([0-9]{4})(?![0-9])")

_PATIENT_MESSAGE = (
    "This looks like an NHS or CHI number, which identifies a patient. Posting it breaks patient "
    "confidentiality, even with no name beside it. Remove the number."
)
_LOCAL_MESSAGE = (
    "This looks like a {label}, which identifies a patient under your organisation's rules. "
    "Posting it breaks patient confidentiality. Remove it."
)
# An organisation's own regex could backtrack for ever; give up on it rather than hang the editor.
_LOCAL_PATTERN_TIMEOUT = 0.05


def is_patient_number(digits: str) -> bool:
    """NHS and CHI numbers share one modulus 11 check digit; a remainder giving 10 is never issued.

    CHI numbers also start with a DDMMYY date of birth, but that narrows nothing we act on:
    a number passing the check is someone's identifier in either scheme.
    """
    if len(digits) != 10 or not digits.isascii() or not digits.isdigit():
        return False
    total = sum(int(d) * weight for d, weight in zip(digits[:9], range(10, 1, -1), strict=True))
    check = (11 - total % 11) % 11
    return check != 10 and check == int(digits[9])


def patient_identifiers(post: Post, context: CheckContext) -> Iterator[Hit]:
    for m in _TEN_DIGITS.finditer(post.text):
        if is_patient_number(m[1] + m[3] + m[4]):
            yield Hit(m.start(), m.end(), _PATIENT_MESSAGE)
    for label, pattern in context.local_identifier_patterns:
        compiled = _compile_local(pattern)
        if compiled is None:
            continue
        message = _LOCAL_MESSAGE.format(label=label or "local patient identifier")
        try:
            for m in compiled.finditer(post.text, timeout=_LOCAL_PATTERN_TIMEOUT):
                if m.end() > m.start():
                    yield Hit(m.start(), m.end(), message)
        except TimeoutError:
            continue


@lru_cache(maxsize=256)
def _compile_local(pattern: str) -> regex.Pattern[str] | None:
    if not isinstance(pattern, str):
        return None
    try:
        return regex.compile(pattern)
    except Exception:  # whatever an admin typed that does not compile is ignored, never raised
        return None


# --- Phone numbers ---------------------------------------------------------------------------

# A run of digit groups that starts like a phone number (+, 00 or a trunk 0), separated by
# at most a few spaces, dots, dashes or brackets. Short codes (111, 999, 101...) never start so,
# and neither do NHS numbers, which would otherwise parse as valid 10-digit national numbers.
_PHONE_RUN = re.compile(r"(?<![\w+])(?:\+|\(?0)[0-9](?:[ .\-()]{0,3}[0-9]){7,24}")
_DIGIT_GROUP = re.compile(r"\+?[0-9]+")
_MAX_GROUPS = 8

_MOBILE_MESSAGE = (
    "This looks like a mobile phone number. A mobile is almost always one person's own phone: "
    "once posted, anyone can call or text it, and the post can be copied before you delete it. "
    "Give your organisation's public contact number instead."
)
_PERSONAL_MESSAGE = (
    "This looks like a personal phone number (070 numbers follow one person around). Once "
    "posted, anyone can call it. Give your organisation's public contact number instead."
)
_LANDLINE_MESSAGE = (
    "This looks like a landline number. A switchboard or public helpline is fine; a direct "
    "line, a ward's private line or someone's home number is not. Check it is meant for the "
    "public."
)

# Mobiles and personal numbers block: they nearly always reach one person, and a published
# number cannot be taken back. Landlines only warn, as most are switchboards and helplines.
# Non-geographic numbers (03, 080x, 084x, 087x, 09) belong to organisations and are not flagged.
_PHONE_KINDS: dict[int, tuple[str, bool]] = {
    PhoneNumberType.MOBILE: (_MOBILE_MESSAGE, True),
    PhoneNumberType.PERSONAL_NUMBER: (_PERSONAL_MESSAGE, True),
    PhoneNumberType.FIXED_LINE: (_LANDLINE_MESSAGE, False),
    PhoneNumberType.FIXED_LINE_OR_MOBILE: (_LANDLINE_MESSAGE, False),
    PhoneNumberType.VOIP: (_LANDLINE_MESSAGE, False),
    PhoneNumberType.PAGER: (_LANDLINE_MESSAGE, False),
}


def phone_numbers(post: Post, context: CheckContext) -> Iterator[Hit]:
    for run in _PHONE_RUN.finditer(post.text):
        found = _phone_in_run(run.group(), run.start())
        if found is not None and not _patient_number_not_phone(post.text[found.start : found.end]):
            yield found


def _patient_number_not_phone(candidate: str) -> bool:
    """Ten digits starting 0 that pass the NHS and CHI check ("CHI 0175989834") are a patient's
    number, reported as one; a UK phone number written with its 0 almost always has eleven."""
    digits = "".join(c for c in candidate if c.isdigit())
    return not candidate.startswith("+") and len(digits) == 10 and is_patient_number(digits)


def _phone_in_run(run: str, offset: int) -> Hit | None:
    """The longest number in a run of digit groups, starting at a group that starts like one.

    A run often carries a time or another number beside the phone number ("07700 900123 8am").
    """
    groups = list(_DIGIT_GROUP.finditer(run))[:_MAX_GROUPS]
    for i, first in enumerate(groups):
        if not first.group().startswith(("+", "0")):
            continue
        for last in reversed(groups[i:]):
            candidate = run[first.start() : last.end()]
            digits = sum(c.isdigit() for c in candidate)
            if not 10 <= digits <= 15:
                continue
            kind = _phone_kind(candidate)
            if kind is not None:
                message, blocks = kind
                return Hit(
                    offset + first.start(),
                    offset + last.end(),
                    message,
                    "block" if blocks else "warn",
                )
    return None


# Drafts are checked again on every pause in typing, so the same few candidates come back.
@lru_cache(maxsize=1024)
def _phone_kind(candidate: str) -> tuple[str, bool] | None:
    quick = _uk_kind_by_prefix(candidate)
    if quick is not None:
        return quick
    try:
        number = phonenumbers.parse(candidate, "GB")
    except phonenumbers.NumberParseException:
        return None
    kind = phonenumbers.number_type(number)  # UNKNOWN for a number that is not valid
    if kind != PhoneNumberType.UNKNOWN:
        return _PHONE_KINDS.get(kind)
    # phonenumbers rejects reserved ranges such as Ofcom's drama numbers (07700 900xxx), but a
    # reader cannot tell those from real ones, so a UK number of the right length is judged by
    # its prefix alone.
    if number.country_code != 44 or not phonenumbers.is_possible_number(number):
        return None
    national = phonenumbers.national_significant_number(number)
    if national.startswith("70"):
        return _PHONE_KINDS[PhoneNumberType.PERSONAL_NUMBER]
    if national.startswith("7") and not national.startswith("76"):
        return _PHONE_KINDS[PhoneNumberType.MOBILE]
    if national.startswith(("1", "2")):
        return _PHONE_KINDS[PhoneNumberType.FIXED_LINE]
    return None


def _uk_kind_by_prefix(candidate: str) -> tuple[str, bool] | None:
    """The kind of the commonest UK numbers, from their prefix alone: ten national digits
    starting 1 or 2 (landlines) or 7 (mobiles, but not 070 personal or 076 pager numbers).
    For these the numbering plan has no exceptions, and phonenumbers, which is slow to load
    a number, would say the same (or, for an unassigned range, fall back to the prefix)."""
    digits = "".join(c for c in candidate if c.isdigit())
    if candidate.startswith("+"):
        national = digits[2:] if digits.startswith("44") else ""
    elif digits.startswith("0") and not digits.startswith("00"):
        national = digits[1:]
    else:
        return None
    if len(national) != 10 or national.startswith(("0", "70", "76")):
        return None
    if national[0] in "12":
        return _PHONE_KINDS[PhoneNumberType.FIXED_LINE]
    if national[0] == "7":
        return _PHONE_KINDS[PhoneNumberType.MOBILE]
    return None


# --- Email addresses -------------------------------------------------------------------------

# The lookbehind makes matching start only at the beginning of a run, so a long run of
# address-like characters is scanned once, not once per character.
_EMAIL = re.compile(
    r"(?<![\w.%+\-])[\w.%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)+",
)
_EMAIL_MESSAGE = (
    "This looks like an email address. A shared team inbox is fine; one person's address "
    "invites spam and phishing and shares their personal data. Use a team inbox or your "
    "website's contact page."
)


def email_addresses(post: Post, context: CheckContext) -> Iterator[Hit]:
    if "@" not in post.text:
        return
    for m in _EMAIL.finditer(post.text):
        tld = m.group().rsplit(".", 1)[1]
        if len(tld) >= 2 and tld.isalpha():
            yield Hit(m.start(), m.end(), _EMAIL_MESSAGE)


# --- Postcodes -------------------------------------------------------------------------------

# The full (outward + inward) shapes the Royal Mail allows; a district alone ("EH3") is fine.
_POSTCODE = re.compile(
    r"(?<![A-Za-z0-9])"
    r"(?:GIR ?0AA"
    r"|(?:[A-PR-UWYZ][0-9]{1,2}"
    r"|[A-PR-UWYZ][A-HK-Y][0-9]{1,2}"
    r"|[A-PR-UWYZ][0-9][A-HJKPSTUW]"
    r"|[A-PR-UWYZ][A-HK-Y][0-9][ABEHMNPRVWXY])"
    r" ?[0-9][ABD-HJLNP-UW-Z]{2})"
    r"(?![A-Za-z0-9])",
    re.IGNORECASE,
)
_POSTCODE_MESSAGE = (
    "This looks like a full postcode. A full postcode covers a handful of homes, so with other "
    "details it can point to where someone lives. Fine for a hospital or office; for anyone's "
    "home, give the town or area instead."
)


def postcodes(post: Post, context: CheckContext) -> Iterator[Hit]:
    for m in _POSTCODE.finditer(post.text):
        # Run together, a postcode is written in capitals (EH39DR); in lower case the shape
        # is a word in disguise as often as not ("bl00dy" fits BL0 0DY).
        if " " not in m.group() and not m.group().isupper():
            continue
        yield Hit(m.start(), m.end(), _POSTCODE_MESSAGE)


# --- Dates of birth --------------------------------------------------------------------------

_MONTH = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sept?(?:ember)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"
)
_ORDINAL = r"(?:st|nd|rd|th)?"
_DATE = (
    r"(?:(?P<a>[0-9]{1,2})[/.\-](?P<b>[0-9]{1,2})[/.\-](?:[0-9]{4}|[0-9]{2})"
    rf"|[0-9]{{1,2}}{_ORDINAL}(?:\s+of)?\s+{_MONTH}\.?,?\s+[0-9]{{4}}"
    rf"|{_MONTH}\.?\s+[0-9]{{1,2}}{_ORDINAL},?\s+[0-9]{{4}})"
)
# Only a date introduced as a birth date: a plain date is a clinic day, not a person.
_DATE_OF_BIRTH = re.compile(
    r"\b(?:born|date\s+of\s+birth|birth\s*date|d\.?o\.?b)\.?(?![A-Za-z])"
    r"\s*(?:[:\-\u2013]\s*)?(?:on\s+)?(?:the\s+)?" + _DATE + r"(?![0-9])",
    re.IGNORECASE,
)
_DATE_OF_BIRTH_MESSAGE = (
    "This gives someone's date of birth. With a name, a ward or a photo, a date of birth "
    "identifies a person, and it is one of the details used to confirm a patient's identity. "
    "Remove the date: 'celebrating her 90th birthday' says enough."
)


# "The NHS was born on 5 July 1948": an organisation's birthday is not personal data.
_NOT_A_PERSON_BORN = re.compile(
    r"\b(?:nhs|hospital|infirmary|service|trust|board|council|centre|unit|ward|library|charity"
    r"|organisation|scheme|campaign|school|college|university|clinic|practice|it|idea|project"
    r"|health\s+service|welfare\s+state)(?:'s|\u2019s)?\s+(?:was|were|is)\s+(?:officially\s+)?$",
    re.IGNORECASE,
)


def dates_of_birth(post: Post, context: CheckContext) -> Iterator[Hit]:
    for m in _DATE_OF_BIRTH.finditer(post.text):
        if m["a"] is not None and not _day_and_month(int(m["a"]), int(m["b"])):
            continue
        if _NOT_A_PERSON_BORN.search(post.text, max(0, m.start() - 40), m.start()):
            continue
        yield Hit(m.start(), m.end(), _DATE_OF_BIRTH_MESSAGE)


def _day_and_month(a: int, b: int) -> bool:
    # Day first as in the UK, or month first as an American-format date.
    return (1 <= a <= 31 and 1 <= b <= 12) or (1 <= a <= 12 and 1 <= b <= 31)
