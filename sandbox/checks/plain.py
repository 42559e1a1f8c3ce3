"""Plain language: reading age, long words in short posts, and NHS jargon.

Three measures, all tips under one check ("reading-age"):

1. Posts of 20 words or more: the Flesch-Kincaid grade, as a reading age (grade + 5), against
   the NHS target of 9 to 11. Below 20 words the formula's sentence-length term means nothing.
2. Shorter posts: how many of the ordinary words are long. Names (capitalised words inside a
   sentence, or a run of capitalised words), acronyms and a short list of long words everyone
   knows ("hospital", "community") are not counted. A post of at least five ordinary words,
   half or more of them of three syllables or more and two or more of four, gets a tip:
   "Comorbid patients require multidisciplinary assessment" does; "Flu jabs are free for
   everyone over 65" and "Professor Tariq Ali has been appointed clinical director for
   cancer services" do not.
3. Jargon: NHS and council words with an everyday alternative, each named where it is, with
   the plain word to use ("non-elective" -> "emergency"). Words that are also the names of
   wards and services ("renal", "neonatal", "virtual ward") are left alone: a trainee cannot
   rename the unit.

Syllables are counted by vowel groups with a few English corrections (a silent final e,
"-tion", "-ing" after a vowel, "area" and "video"). It is right for about nine words in ten,
which is as good as a formula built on averages needs; pyphen, used before, counts hyphenation
points, not syllables, and gave "every", "area" and "video" one each.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import lru_cache

from sandbox.checks.base import CheckContext, Hit, Post

_WORD = re.compile("[^\\W\\d_]+(?:['\u2019&][^\\W\\d_]+)*")
# A colon or semicolon in a post usually starts a new statement ("Thank you to Mr Singh for
# letting us share his story: six months on..."), so it ends a sentence for the formula.
_SENTENCE_BREAK = re.compile(r"[.!?:;]+|\n")
_TARGET_READING_AGE = 11  # the NHS aims for a reading age of 9 to 11
_MIN_WORDS = 20  # fewer words than this give a meaningless Flesch-Kincaid score
# X's longest post; past that a sample is as good as the whole, and the cost is not.
_MAX_CHARS = 25_000

_SHORT_MIN_WORDS = 5
_SHORT_LONG_SHARE = 0.5  # of the words, at least this many of three syllables or more
_SHORT_MIN_VERY_LONG = 2  # and at least this many of four or more
_LONG_SYLLABLES = 3
_VERY_LONG_SYLLABLES = 4

# --- Syllables -------------------------------------------------------------------------------

_VOWELS = re.compile(r"[aeiouy]+")
# Vowel pairs said as two syllables: "area", "video", "radio", "actual", "quiet", "create".
_SPLIT = re.compile(
    r"ia|io|iu|ea\b|eas\b|eo(?!p)|ua|uo|(?<![tc])ie(?=t|nt)|scien|(?<=[aeiouy])ing\b"
    r"|ea(?=t(?:e|ed|es|ing|ion|ive|or)\b)"
)
# ...except where the i only softens a consonant: "nation", "social", "precious".
_JOINED = re.compile(r"[tscx]i(?:on|al|ous|an)|[cg]iou")
_SILENT_E = re.compile(
    r"(?:[^aeiouy]e|[^aeiouytd]ed|[^aeiouysxzcgh]es|[^aeiouy]ely|[^aeiouy]ements?)\b"
)
_NOT_SILENT = re.compile(r"[^aeiouy](?:le|re|led|res|les)\b")  # "table", "centre"


@lru_cache(maxsize=8192)
def syllables(word: str) -> int:
    w = word.lower().replace("qu", "qw")
    if len(w) <= 3:
        return 1
    n = len(_VOWELS.findall(w)) + len(_SPLIT.findall(w)) - len(_JOINED.findall(w))
    if _SILENT_E.search(w) and not _NOT_SILENT.search(w):
        n -= 1
    return max(1, n)


# Long words nearly everyone reads without effort; they do not make a short post hard.
_EVERYDAY_LONG_WORDS = """
    hospital hospitals community communities everyone everybody everything anyone anybody
    anything another family families library libraries holiday holidays tomorrow yesterday
    together already remember important emergency emergencies ambulance ambulances saturday
    information medicine medicines vaccine vaccines pharmacy pharmacies appointment appointments
    open opening every area areas video videos radio energy january february september october
    november december celebrate celebrating celebration birthday wonderful beautiful amazing
    fantastic brilliant delighted volunteer volunteers volunteering anniversary different
    difficult family's children's everyday understand interested exciting excited favourite
    company companies
"""
_EVERYDAY_LONG = frozenset(_EVERYDAY_LONG_WORDS.split())


def _ordinary_words(prose: str) -> list[str]:
    """The words of a short post that say something in everyday language: not names (a
    capital inside a sentence, or a run of capitalised words), not acronyms."""
    words = list(_WORD.finditer(prose))
    out: list[str] = []
    for i, m in enumerate(words):
        word = m.group()
        if len(word) > 1 and word.isupper():
            continue
        if word[0].isupper():
            # The character before the word, past spaces (not prose[:start].rstrip(), which
            # copies the whole post for every word).
            j = m.start() - 1
            while j >= 0 and prose[j] in " \t":
                j -= 1
            starts_sentence = j < 0 or prose[j] in ".!?:\n\"'\u201c"
            next_capital = i + 1 < len(words) and words[i + 1].group()[0].isupper()
            if not starts_sentence or next_capital:
                continue
        out.append(word.lower())
    return out


# A capitalised word inside a sentence (after a letter, digit, comma or bracket, not after a
# full stop, a colon or an opening quote): a name, a place or an acronym.
_NAME_IN_SENTENCE = re.compile(
    "(?<=[^\\s.!?:\"'\u201c])[ \\t]+([A-Z][^\\W\\d_]*(?:['\u2019&][^\\W\\d_]+)*)"
)


def _is_long(word: str) -> bool:
    return word not in _EVERYDAY_LONG and syllables(word) >= _LONG_SYLLABLES


# --- Jargon ----------------------------------------------------------------------------------

# (how a word in it starts, pattern, plain words to use). Matched case-insensitively unless
# the pattern says (?-i:).
_JARGON_LIST: tuple[tuple[str, str, str], ...] = (
    ("elective", r"non[- ]?elective", "emergency (or unplanned)"),
    (
        "elective",
        r"elective(?=\s+(?:surgery|operations?|procedures?|care|admissions?|activity"
        r"|lists?|patients?|work|treatments?|orthopaedics))",
        "planned",
    ),
    (
        "ambulat",
        r"ambulatory(?:\s+(?:emergency\s+)?care)?",
        "walk-in, same-day care (you go home the same day)",
    ),
    (
        "dna",
        r"(?-i:DNA(?:'?d|s)?)(?=\s+(?:rates?|appointments?|figures?)\b|'d\b)",
        "missed appointments",
    ),
    ("attend", r"did\s+not\s+attends?", "missed appointments"),
    (
        "discharge",
        r"(?:delayed|early\s+supported)\s+discharges?",
        "people waiting to leave hospital",
    ),
    (
        "discharge",
        r"(?:fit|ready|safe|awaiting|optimised)\s+for\s+discharge",
        "well enough to go home",
    ),
    (
        "discharge",
        r"discharge\s+(?:lounge|planning|plans?|process|teams?|summary|summaries|letters?"
        r"|co-?ordinators?|dates?|hub|to\s+assess)",
        "going home from hospital",
    ),
    (
        "medically",
        r"medically\s+(?:fit|optimised|stable\s+for\s+discharge)",
        "well enough to go home",
    ),
    ("domicil", r"domiciliary(?:\s+care)?", "care at home"),
    ("user", r"service\s+users?", "people who use our services"),
    ("primary", r"primary\s+care", "GPs, pharmacies and other local health services"),
    ("secondary", r"secondary\s+care", "hospital care"),
    ("acute", r"acute\s+(?:trusts?|services|settings?|sector|beds)", "hospital"),
    ("flow", r"patient\s+flow", "how quickly patients are seen and go home"),
    (
        "pathway",
        r"(?:care|treatment|frailty|clinical|referral|diagnostic|cancer|patient)\s+pathways?",
        "the steps of your care",
    ),
    (
        "signpost",
        r"signpost(?:ed|ing|s)?(?=\s+(?:you|them|people|patients|carers|families|residents"
        r"|clients|users|on|to)\b)|signposting",
        "point people to",
    ),
    ("utili", r"utili[sz](?:e|es|ed|ing|ation)", "use"),
    ("facilitat", r"facilitat(?:e|es|ed|ing)", "help (or make possible)"),
    ("commenc", r"commenc(?:e|es|ed|ing|ement)", "start"),
    ("prior", r"prior\s+to", "before"),
    ("stakeholder", r"stakeholders?", "partners (or the people involved)"),
    ("produc|coproduc", r"co-?produc(?:e|ed|es|ing|tion)", "made with the people who use it"),
    ("acuity", r"acuity", "how ill people are"),
    ("morbid|comorbid", r"co-?morbidit(?:y|ies)", "other health conditions"),
    ("hypertension", r"hypertension", "high blood pressure"),
    ("hypotension", r"hypotension", "low blood pressure"),
    ("infarction", r"myocardial\s+infarctions?", "heart attack"),
    ("cerebrovascular|cva", r"cerebrovascular\s+accidents?|(?-i:CVA)", "stroke"),
    ("analges", r"analgesi(?:a|cs?)", "painkillers (or pain relief)"),
    ("pyrexi", r"pyrexia(?:l)?", "a high temperature"),
    (
        "mobili",
        r"mobilis(?:e|es|ed|ing|ation)|mobiliz(?:e|es|ed|ing|ation)",
        "walking (or moving about)",
    ),
    ("holistic", r"holistic", "looking at all of your needs"),
    ("pressure", r"system\s+pressures?", "how busy services are"),
    ("sdec", r"(?-i:SDEC)", "same-day emergency care (seen and home the same day)"),
    (
        "mdt|multidisciplinary|interdisciplinary|disciplinary",
        r"(?-i:MDTs?)|multi-?disciplinary|inter-?disciplinary",
        "a team of different professionals",
    ),
    ("step", r"step-?down\s+(?:care|beds?|units?|facilit(?:y|ies))", "care after hospital"),
    ("length", r"length\s+of\s+stay", "time in hospital"),
    ("occupancy", r"(?:bed\s+)?occupancy", "how full the hospital is"),
    ("optimi", r"optimi[sz](?:e|es|ed|ing|ation)", "improve (or make the most of)"),
    ("deteriorat", r"deteriorat(?:e|es|ed|ing|ion)", "get worse"),
    ("based", r"place-?based", "local"),
    ("sector", r"(?:third|voluntary)\s+sector", "charities and community groups"),
    ("conveyance", r"conveyances?", "taking people to hospital"),
    ("reablement", r"reablement", "support to get back on your feet at home"),
    ("operation", r"operationali[sz](?:e|es|ed|ing|ation)", "put in place (or start)"),
    ("stratif", r"(?:risk\s+)?stratif(?:y|ies|ied|ying|ication)", "sorting (by need)"),
    ("cohort", r"cohorts?", "group"),
    ("modalit", r"modalit(?:y|ies)", "type (or kind)"),
    ("lever", r"leverag(?:e|es|ed|ing)", "use"),
    ("going", r"going\s+forward", "from now on"),
    ("timely", r"in\s+a\s+timely\s+(?:manner|fashion)", "soon (or on time)"),
    ("onward", r"onward\s+referrals?", "referral"),
)
_JARGON = [
    (re.compile(rf"(?<![\w-])(?:{pattern})(?![\w-])", re.IGNORECASE), plain)
    for _, pattern, plain in _JARGON_LIST
]
# A term is looked for only when a word of the post starts the way one of its words does:
# a dictionary look-up per word, instead of forty-odd patterns over every post.
_KEY = 4
_JARGON_BY_KEY: dict[str, tuple[int, ...]] = {}
for _index, (_starts, _, _) in enumerate(_JARGON_LIST):
    for _start in _starts.split("|"):
        _key = _start[:_KEY]
        _JARGON_BY_KEY[_key] = (*_JARGON_BY_KEY.get(_key, ()), _index)
_JARGON_KEYS = frozenset(_JARGON_BY_KEY)
# "DNA" is missed appointments only beside appointments, never in "a DNA test".
_APPOINTMENTS = re.compile(r"\b(?:appointments?|clinics?|attend\w*|slots?|outpatients?)\b", re.I)


def _jargon(post: Post, words: list[str]) -> Iterator[Hit]:
    prose = post.prose
    keys = {word[:_KEY].lower() for word in words}
    keys.update([key[:3] for key in keys])
    wanted = {index for key in keys & _JARGON_KEYS for index in _JARGON_BY_KEY[key]}
    taken: list[tuple[int, int]] = []
    for index in sorted(wanted):
        pattern, plain = _JARGON[index]
        for m in pattern.finditer(prose):
            if any(m.start() < end and start < m.end() for start, end in taken):
                continue
            term = m.group()
            if term.upper().startswith("DNA") and not _APPOINTMENTS.search(prose):
                continue
            taken.append(m.span())
            yield Hit(
                m.start(),
                m.end(),
                f"\u201c{term}\u201d is NHS jargon that many people will not know. Try "
                f"\u201c{plain}\u201d: everyday words are understood first time, including by "
                "people reading in a second language or in a hurry.",
            )


# --- The check -------------------------------------------------------------------------------


def plain_language(post: Post, context: CheckContext) -> Iterator[Hit]:
    sample = post.prose[:_MAX_CHARS]
    words = _WORD.findall(sample)
    if len(words) >= _MIN_WORDS:
        yield from _reading_age(post, sample, words)
    else:
        yield from _dense_short_post(post, sample)
    yield from _jargon(post, words)


def _reading_age(post: Post, sample: str, words: list[str]) -> Iterator[Hit]:
    sentences = sum(1 for part in _SENTENCE_BREAK.split(sample.lower()) if _WORD.search(part))
    # Syllables of the ordinary words only: names and acronyms ("Pontypridd", "Ysbyty
    # Gwynedd", "Paul Harding") are not what makes a post hard, and a trainee cannot change
    # them, just as the short-post measure and the jargon list leave them alone.
    names = _NAME_IN_SENTENCE.findall(sample)
    ordinary = len(words) - len(names) or len(words)
    total = sum(syllables(word) for word in words) - sum(syllables(name) for name in names)
    # Flesch-Kincaid grade level; a US grade is roughly a reading age five years younger.
    grade = 0.39 * len(words) / sentences + 11.8 * max(total, ordinary) / ordinary - 15.59
    age = round(grade + 5)
    if age > _TARGET_READING_AGE:
        yield Hit(
            *post.whole(),
            f"This post has a reading age of about {age}. The NHS aims for 9 to 11, so that "
            "most people understand it first time, including people reading in a second "
            "language or in a hurry. Use shorter sentences and everyday words ('help', not "
            "'facilitate').",
        )


def _dense_short_post(post: Post, sample: str) -> Iterator[Hit]:
    ordinary = _ordinary_words(sample)
    if len(ordinary) < _SHORT_MIN_WORDS:
        return
    long_words = [word for word in ordinary if _is_long(word)]
    very_long = [word for word in long_words if syllables(word) >= _VERY_LONG_SYLLABLES]
    if (
        len(long_words) >= _SHORT_LONG_SHARE * len(ordinary)
        and len(very_long) >= _SHORT_MIN_VERY_LONG
    ):
        examples = ", ".join(f"\u2018{w}\u2019" for w in long_words[:3])
        yield Hit(
            *post.whole(),
            f"{len(long_words)} of the {len(ordinary)} words in this short post (not counting "
            f"names) are long ones ({examples}). The NHS aims for a reading age of 9 to 11: "
            "say it with shorter, everyday words, so people understand it first time.",
        )
