"""Swearing: whole words, disguised words and the organisation's own list, not place names."""

from __future__ import annotations

import pytest

from tests.sandbox.checks.helpers import codes, findings, spans


@pytest.mark.parametrize(
    ("text", "word", "severity"),
    [
        ("This bloody car park is a disgrace", "bloody", "warn"),
        ("What a load of crap", "crap", "warn"),
        ("Sod off, winter", "Sod off", "warn"),
        ("Oh shit, the lift is broken", "shit", "block"),
        ("SHIT!", "SHIT", "block"),
        ("fucking brilliant team", "fucking", "block"),
        ("#bollocks to that", "bollocks", "block"),
        ("fuckin' brilliant", "fuckin", "block"),
    ],
)
def test_swear_words_are_found_with_their_strength(text: str, word: str, severity: str) -> None:
    found = findings(text, "profanity")
    assert [text[f.start : f.end] for f in found] == [word]
    assert found[0].severity == severity


@pytest.mark.parametrize(
    ("text", "word"),
    [
        ("what the f*ck", "f*ck"),
        ("f**k me", "f**k"),
        ("oh sh1t", "sh1t"),
        ("oh sh!t", "sh!t"),
        ("5hit happens", "5hit"),
        ("you b@stard", "b@stard"),
        ("what an a$$hole", "a$$hole"),
        ("b0ll0cks!", "b0ll0cks"),
    ],
)
def test_disguised_swear_words_are_found(text: str, word: str) -> None:
    assert spans(text, "profanity") == [word]


def test_a_starred_word_takes_the_strongest_word_it_could_be() -> None:
    # "f*ck" could be "feck" (mild) or "fuck" (strong).
    assert findings("f*ck", "profanity")[0].severity == "block"


@pytest.mark.parametrize(
    "text",
    [
        "Scunthorpe General Hospital opens its new day surgery unit",
        "Essex and Middlesex staff join our cocktail party fundraiser",
        "Penistone and Cockermouth community hospitals",
        "Shitterton and Twatt are real places",
        "Your assessment is booked for the afternoon class",
        "Our therapist brought grapes",
        "A quick finger-prick test at the pharmacy",
        "Turn off the stopcock before the plumber comes",
        "Blue tits are nesting by the ward",
        "The mayor cut the first sod for the new hospital",
        "Arsenal fans raised £500; thanks Hancock Ward and Dickens Ward",
        "Read the *important* notice",
        "Sussex, passage, analysis, scrap",
    ],
)
def test_innocent_words_and_places_pass(text: str) -> None:
    assert "profanity" not in codes(text)


def test_organisation_words_are_added() -> None:
    extra = ("numpty", "  ", "wee scunner")
    assert spans("Don't be a numpty", "profanity", extra_profanity=extra) == ["numpty"]
    assert spans("what a wee  scunner", "profanity", extra_profanity=extra) == ["wee  scunner"]
    assert "profanity" not in codes("Don't be a numpty")
    assert "profanity" not in codes("numptyville", extra_profanity=extra)


def test_organisation_words_with_regex_characters_are_taken_literally() -> None:
    assert spans("a (c) b", "profanity", extra_profanity=("(c)",)) == ["(c)"]
    assert spans("x c++ y [z]", "profanity", extra_profanity=("c++", "[")) == ["c++"]
    assert spans("say d.o.h now", "profanity", extra_profanity=("d.o.h",)) == ["d.o.h"]
    assert spans("say dxoxh now", "profanity", extra_profanity=("d.o.h",)) == []


@pytest.mark.parametrize(
    ("text", "word", "severity"),
    [
        # The examples: masked and spaced.
        ("That was sh!t", "sh!t", "block"),
        ("Night shift was f***ing relentless", "f***ing", "block"),
        ("What the f*** is going on", "f***", "block"),
        ("Honestly, b.u.g.g.e.r the weather", "b.u.g.g.e.r", "warn"),
        # More disguises: stars at the end, spaces, dashes, held letters, a symbol for the
        # first letter, a symbol that is not its usual letter.
        ("A pain in the a***", "a***", "warn"),
        ("This s h i t weather", "s h i t", "block"),
        ("No need for the c-r-a-p emails", "c-r-a-p", "warn"),
        ("Shiiiit, the lift is out", "Shiiiit", "block"),
        ("A pain in the @rse", "@rse", "warn"),
        ("What the f@ck", "f@ck", "block"),
        ("Who the f.u.c.k leaves a fridge there", "f.u.c.k", "block"),
        ("Ffs, not again", "Ffs", "warn"),
    ],
)
def test_masked_spaced_and_held_swearing_is_found(text: str, word: str, severity: str) -> None:
    found = findings(text, "profanity")
    assert [(text[f.start : f.end], f.severity) for f in found] == [(word, severity)]


@pytest.mark.parametrize(
    "text",
    [
        "Scunthorpe, Clitheroe and Middlesex teams at the classic car show",
        "Your assessment is booked",
        "Terms apply*. *See our website",
        "Scores: A.S.H. 3, N.H.S. 2",
        "Spell it out: F-L-U jab time",
        "Open 10am to 4pm on the 24th, 7lb 3oz, 5k run",
        "Twatt and Shitterton are real places",
        "Sh... the quiet room reopens",
        "Follow @example and use #hashtags",
        "Book a bed for a b c",
    ],
)
def test_disguise_hunting_leaves_innocent_text_alone(text: str) -> None:
    assert "profanity" not in codes(text)


@pytest.mark.parametrize(
    ("text", "word"),
    [
        ("That moment when the f-ing printer jams", "f-ing"),
        ("Some a-hole nicked the defib", "a-hole"),
        ("Stop being a d!ck and park properly", "d!ck"),
    ],
)
def test_words_cut_at_a_hyphen_or_disguised_only_are_found(text: str, word: str) -> None:
    assert spans(text, "profanity") == [word]


@pytest.mark.parametrize(
    "text",
    ["Book an x-ray, a t-shirt or a c-section", "Surnames A-E, please", "Dick Whittington"],
)
def test_hyphenated_words_and_names_pass(text: str) -> None:
    assert codes(text) & {"profanity"} == set()
