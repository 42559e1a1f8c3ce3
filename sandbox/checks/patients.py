"""Patient details in words: someone who could be identified, beside their health or care.

The rule, as a trainee would be told it: a patient is identifiable when a post names them or
describes them closely enough to pick them out, and a post says something about their health
or care when it mentions a condition, a treatment, a stay in hospital, going home, a death, a
test result, a birth, or the ward or unit they are on. Either alone is usually fine ("Six new
beds in the respiratory unit", "Congratulations to Priya on her exams"); together, in the same
post, its images' descriptions or its thread, they are confidential patient information.

Identifiable (``_people``), in the shapes people write:
  a title and a surname            Mr Brown, Mrs Okafor, Miss Hannah Price
  a full name                      Kevin Doyle (a given name from checks.names and a surname)
  a name with an age               Jack, 6, / Hamza (15) / 4-year-old Lily
  a first name with a place        Jean from Methil / Zara on the teenage cancer unit
  a patient's name                 our patient Stanley Green / resident Mrs Walsh
  a baby's or child's name         baby Isla / little Freddie / twins Ada and Obi
  a person by their bed            the gentleman in bed 4 / the lady in bay 2
  a bed, or a ward, with a day     whoever was in bed 12 last Friday / the man brought into
                                   intensive care yesterday
  an age and a town                a 67-year-old man from Brora

Not a patient, so never identifiable here: staff and officials named with their role ("Staff
Nurse Tom Reid", "Sarah Jones, our ward manager", "Radiographer Sam Cole"), people doing what
staff, speakers and visitors do ("Mr Rob Evans carried out...", "...will talk about",
"...visited the ward"), and people in the news for awards, appointments, retirements and
starting work. People thanked for a gift or for fundraising are not taken for patients when
the only health detail is a ward or unit ("Thank you Mrs Taylor for the cards for Ward 1"),
but are when there is more ("Thanks to Mr Lewis for the chocolates after his knee surgery").

Why rules and word lists rather than a trained model: the engine must run offline in well
under a millisecond, explain each finding in plain words (which words identify, which words
are the health detail), and be changed by reading it. The word lists are short and named by
what they hold; the grammar around them (a title before a name, an age after it, a role in
apposition) carries most of the weight, so a name or condition that is not listed is still
found when its shape gives it away.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache

from sandbox.checks.base import CheckContext, Hit, Post
from sandbox.checks.care import BED, CONDITIONS, SERVICE_AFTER, TREATMENTS, Care, care_details
from sandbox.checks.names import NOT_NAMES, ROLE_WORDS, is_given_name

_APOS = "'\u2019"
# A capitalised word that could be a name: Jane, O'Neill, McLeod, MacDonald, Smith-Jones.
_NAME = rf"(?:[A-Z][{_APOS}])?[A-Z][a-z]+(?:[A-Z][a-z]+)?(?:-[A-Z][a-z]+)?"
_TITLE = r"(?:Mr|Mrs|Ms|Miss|Mx|Master|Mister)\.?"
_AGE = r"(?:1[01][0-9]|[0-9]{1,2})"
_PERSON = (
    r"(?:gentleman|gent|man|lady|woman|girl|boy|baby|patient|chap|child|toddler|teenager"
    r"|lad|lass|resident|mum|dad|grandad|grandpa|gran|granny|grandma|mother|father|son"
    r"|daughter|wife|husband|pensioner|young\s+person)"
)
_PERSON_ADJECTIVES = (
    r"(?:(?:little|young|elderly|older|lovely|old|brave|tiny|wee|newborn|injured|poorly|"
    r"[0-9]{1,3}[- ](?:year|month|week)s?[- ]old)\s+)*"
)
_MONTH = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sept?(?:ember)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"
)
_DAY = re.compile(
    r"\b(?:(?:mon|tues|wednes|thurs|fri|satur|sun)day|today|tonight|yesterday"
    r"|this\s+(?:morning|afternoon|evening)|last\s+(?:night|week|weekend|\w+day)"
    r"|(?:christmas|boxing|new\s+year'?s)\s+(?:day|eve)|christmas\s+eve)\b"
    rf"|\bat\s+[0-9]{{1,2}}(?:[.:][0-9]{{2}})?\s*(?:am|pm)\b"
    rf"|\bon\s+(?:the\s+)?[0-9]{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?{_MONTH}\b",
    re.IGNORECASE,
)

# --- People (the first half) ---------------------------------------------------------------


@dataclass(frozen=True)
class _Person:
    start: int
    end: int
    kind: str
    gave_something: bool  # thanked for a gift or fundraising: see the module docstring


def _is_name(word: str | None) -> bool:
    return word is not None and word.lower().rstrip("'\u2019s") not in NOT_NAMES


def _is_given(word: str | None) -> bool:
    return word is not None and is_given_name(word)


# Surnames that are also everyday words: after a given name they are a surname ("Rachel
# Green", "Tom Hall"), though alone they are not taken for a name.
_WORD_SURNAME_LIST = """
    green brown white black young king hill wood hall bell gill lord rice moss little best
    good rose swift stone fox wolf bird lamb house booth church chapel field marsh north
    south west east cross gray grey page reading mills english scott welsh
"""
_WORD_SURNAMES = frozenset(_WORD_SURNAME_LIST.split())


def _is_surname(word: str | None) -> bool:
    return word is not None and (_is_name(word) or word.lower() in _WORD_SURNAMES)


_BUSINESS = re.compile(
    rf"[{_APOS}]s\s+(?:Pharmacy|Chemist|Shop|Store|Cafe|Café|Bakery|Butchers?|Garage|Chippy"
    r"|Restaurant|Bar|Pub|Salon|Barbers?|Opticians?|Dental|Surgery|Practice|Nursery|Taxis?"
    r"|Coaches|Buses|Farm|Kitchen|Law|Bakes)\b"
)
# A named place: "Florence Nightingale Ward", "Mary Seacole House", "Victoria Park".
_PLACE_AFTER = re.compile(
    r"\s+(?:Ward|Wards|Unit|Centre|Center|House|Building|Wing|Suite|Hospital|Hospice|Court"
    r"|Lodge|Road|Street|Lane|Avenue|Drive|Way|Award|Awards|Foundation|Trust|Fund|Room|Lounge"
    r"|Library|School|Academy|College|Institute|Hall|Park|Gardens?|Clinic|Practice|Surgery"
    r"|Medical|Health|Care|Home|Lecture|Memorial|Prize|Scholarship|Bursary|Theatre|Stand"
    r"|Campus|Building|Block|Rooms|Garden|Shop|Cafe|Café|Bar|Bridge|Square|Place|Close"
    r"|Crescent|Terrace|Primary|High)\b"
)

_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "a title and surname",
        re.compile(
            rf"\b{_TITLE}\s+(?:(?:and|&)\s+{_TITLE}\s+)?(?P<n>{_NAME})(?:\s+(?P<n2>{_NAME}))?"
        ),
    ),
    (
        "a name with an age",
        re.compile(
            rf"(?<![\w{_APOS}-])(?P<n>{_NAME})(?:\s+(?P<n2>{_NAME}))?\s*"
            rf"(?:,\s*(?:aged\s+)?{_AGE}\s*(?:,|(?=\s+(?:from|and|who|is|was|has|had|from)\b))"
            rf"|\(\s*(?:aged\s+)?{_AGE}\s*\)|,\s*aged\s+{_AGE}\b"
            rf"|,\s*an?\s+{_AGE}[- ](?:year|month|week)s?[- ]old\b)"
        ),
    ),
    (
        "a name with an age",
        re.compile(
            rf"\b[0-9]{{1,3}}[- ](?:year|yr|month|week|day)s?[- ]old\s+"
            rf"(?:(?:little|baby|tiny|wee|young)\s+)?(?P<n>{_NAME})"
        ),
    ),
    (
        "a patient's name",
        re.compile(
            rf"\b(?:patient|resident|service\s+user|client)s?\s+(?P<n>{_NAME})"
            rf"(?:\s+(?P<n2>{_NAME}))?"
        ),
    ),
    (
        "a baby's or child's name",
        re.compile(
            rf"\b(?:[Bb]aby|[Ll]ittle|[Tt]iny|[Ww]ee|[Nn]ewborn|[Tt]wins|[Tt]riplets)\s+"
            rf"(?P<n>{_NAME})(?:\s+(?:and|&)\s+{_NAME})?(?:\s+(?P<n2>{_NAME}))?"
        ),
    ),
    (
        "a first name with a place",
        re.compile(
            rf"(?<![\w{_APOS}-])(?P<g>{_NAME})(?:\s+{_NAME})?(?:,\s*{_AGE},)?\s+(?:from|of)\s+"
            rf"(?P<p>{_NAME})(?:\s+{_NAME})?"
        ),
    ),
    (
        "a first name with a ward",
        re.compile(
            rf"(?<![\w{_APOS}-])(?P<g>{_NAME})\s+(?:on|in|from)\s+(?:the\s+|our\s+)?"
            rf"(?:[Ww]ard\s*[0-9]+[A-Za-z]?|(?:[\w{_APOS}-]+\s+){{0,3}}(?:ward|unit)\b|{BED})"
        ),
    ),
    (
        "a full name",
        re.compile(rf"(?<![\w{_APOS}-])(?P<g>{_NAME})\s+(?P<n>{_NAME})(?![\w-])"),
    ),
    (
        "a name with a family title",
        re.compile(
            rf"\b(?:[Nn]an|[Nn]ana|[Nn]anna|[Gg]ran|[Gg]ranny|[Gg]randma|[Gg]randad|[Gg]randpa"
            rf"|[Aa]unty|[Aa]untie|[Uu]ncle)\s+(?P<n>{_NAME})"
        ),
    ),
    (
        "a relative's name",
        re.compile(
            rf"\b(?:[Mm]y|[Oo]ur|[Hh]is|[Hh]er|[Tt]heir)\s+(?:dad|mum|mam|mother|father|son"
            rf"|daughter|wife|husband|brother|partner|nan|gran|grandad|grandma|grandson"
            rf"|granddaughter)\s*,?\s+(?P<n>{_NAME})"
        ),
    ),
    (
        "a family's name",
        re.compile(rf"\b[Tt]he\s+(?P<n>{_NAME})\s+(?:twins|triplets|quads|baby|family)\b"),
    ),
    (
        "a name through a relative",
        re.compile(
            rf"(?<![\w{_APOS}-])(?P<g>{_NAME})[{_APOS}]s\s+(?:mum|dad|mam|mother|father|parents"
            rf"|family|nan|gran|grandad|grandma|wife|husband|partner|son|daughter)\b"
        ),
    ),
    (
        "a name and their age",
        re.compile(
            rf"(?<![\w{_APOS}-])(?P<g>{_NAME})\s+(?:is|was|turns|turned|has\s+turned)\s+"
            rf"(?:aged\s+)?{_AGE}(?![\w%:.])(?!\s*(?:per|minutes|hours|days|weeks|months|am|pm)\b)"
        ),
    ),
    (
        "a name as on a wristband",
        # SURNAME, Given: how hospital labels and wristbands print a name.
        re.compile(rf"\b[A-Z]{{2,}}(?:[-{_APOS}][A-Z]{{2,}})?,\s*(?P<g>{_NAME})"),
    ),
    (
        "a person by their bed",
        re.compile(
            rf"\b(?:the|a|our|this|that)\s+{_PERSON_ADJECTIVES}{_PERSON}\s+(?:who\s+was\s+)?"
            rf"(?:in|from|on)\s+{BED}",
            re.IGNORECASE,
        ),
    ),
    (
        "an age and a town",
        re.compile(
            rf"\b(?:[Aa]n?|[Tt]he)\s+[0-9]{{1,3}}[- ]years?[- ]old\s+(?:\w+\s+)?{_PERSON}\s+"
            rf"(?:from|of)\s+(?P<p>{_NAME})"
        ),
    ),
)
_BED_ALONE = re.compile(BED, re.IGNORECASE)
_ONE_PERSON = re.compile(
    rf"\b(?:the|a|this|that|one)\s+{_PERSON_ADJECTIVES}{_PERSON}\b|\bwhoever\b|\bone\s+of\s+our"
    r"\s+patients\b",
    re.IGNORECASE,
)
_WARD_OR_UNIT = re.compile(
    r"\b(?:wards?|units?|icu|itu|hdu|nicu|scbu|resus|intensive\s+care|high\s+dependency"
    r"|theatre|a&e)\b",
    re.IGNORECASE,
)

# Staff and officials by title: "Dr", "Staff Nurse", "Councillor", "Sister".
_TITLE_BEFORE = re.compile(
    r"(?:\b(?:Dr|Doctor|Prof|Professor|Nurse|Sister|Sr|Matron|Midwife|Councillor|Cllr|Rev"
    r"|Reverend|Father|Canon|Chaplain|Sir|Dame|Lord|Lady|Baroness|Mayor|Provost|Captain|Capt"
    r"|Coach|Chef|Judge|Colonel|PC|Sgt|DC|DI|Inspector|Officer|Minister|Radiographer"
    r"|Volunteer|Porter|Physio|Paramedic|Midwives)\.?\s+)$"
)
_ROLES = "|".join(sorted((re.escape(w) for w in ROLE_WORDS), key=len, reverse=True))
_ROLE_BEFORE = re.compile(
    rf"\b(?:{_ROLES})(?:\s+(?:of|for|in)\s+(?:the\s+)?[\w{_APOS}&-]+(?:\s+[\w{_APOS}&-]+)?)?"
    r"\s*[,:(\u2013-]?\s*$",
    re.IGNORECASE,
)
# Words inside an apposition before its role ("our ward manager", "a student midwife"), but
# not the words of a clause ("thanks to our nurses", "cared for by the team").
_FILLER = (
    rf"(?:(?!(?:to|by|for|with|from|at|on|in|and|thanks|who|was|is|has|had|after|before"
    rf"|since|because|when|while)\b)[\w{_APOS}&-]+\s+)"
)
_ROLE_AFTER = re.compile(
    rf"\s*(?:,|\(|:|\u2013|-)\s*(?:who\s+is\s+|now\s+)?(?:(?:our|the|a|an|his|her|their)\s+)?"
    rf"{_FILLER}{{0,4}}?(?:{_ROLES})\b"
    rf"|\s+(?:from|of|on|in|at)\s+(?:our|the)\s+(?:[\w{_APOS}&-]+\s+){{0,3}}"
    r"(?:team|department|service|office|staff|directorate|board)\b"
    r"|\s+(?:is|was|has\s+been)\s+(?:our|the|a)\s+(?:new\s+)?(?:[\w'&-]+\s+){0,3}?"
    rf"(?:{_ROLES})\b",
    re.IGNORECASE,
)
# What staff, speakers and visitors do, said right after their name.
_AGENT = re.compile(
    rf"\s*(?:(?:,\s*)?(?:and|&)\s+(?:\w+\.?\s+)?{_NAME}(?:\s+{_NAME})?\s*)?(?:,\s*who\s+)?"
    r"(?:(?:has|have|had|will|is|are|was|were|now|also|just|recently|then|today|proudly"
    r"|successfully|'s|\u2019s)\s+)*(?:been\s+)?"
    r"(?:carried\s+out|carries\s+out|performed|performs|operated|led|leads|leading|treated"
    r"|treats|delivered|delivers|cared\s+for|looked\s+after|visit(?:ed|s|ing)?|open(?:ed|s|ing)?"
    r"|explains?|explained|talks?|talked|talking|speaks?|spoke|speaking|shows?|showed"
    r"|presents?|presented|presenting|hosts?|hosted|hosting|chairs?|chaired|trained|trains"
    r"|won|wins|joins?|joined|joining|starts?|started|retires?|retired|retiring|answers?"
    r"|answered|launch(?:ed|es)?|qualified|graduated|appointed|shortlisted|nominated"
    r"|awarded|welcomed\s+(?:us|our|the\s+team)|runs?\s+(?:the|our)|manages?|managed"
    r"|designed|knitted|donated|donates|raised|raises|ran\b|fitted|built|organised"
    r"|organises|baked|wrote|painted|sang|will\s+be\s+(?:at|on)\s+(?:the|our))\b",
    re.IGNORECASE,
)
# In the person's sentence: they are in the post for their work, an event or an award.
_STAFF_NEWS = re.compile(
    r"\b(?:retir\w+|long[- ]service|years?\s+of\s+service|awards?|awarded|shortlisted"
    r"|nominated|appointed|appointment\s+as|promot(?:ed|ion)|qualified|graduat\w+"
    r"|welcome\s+(?:\w+\s+){1,4}to\s+(?:our|the)|new\s+starters?"
    r"|first\s+day\s+(?:as|at\s+work|in\s+(?:the|her|his|their)\s+new)"
    r"|join(?:s|ed|ing)?\s+(?:our|the|us\s+as)\s+(?:\w+\s+){0,3}(?:team|trust|board|staff"
    r"|department|service)|keynote|webinar|conference|podcast|interview(?:ed)?"
    r"|on\s+(?:BBC|ITV|Radio|radio|Channel|Sky)|talk\s+(?:about|on)|speak(?:s|ing)?\s+"
    r"(?:about|on|at)|to\s+answer|answer(?:ing)?\s+(?:your\s+)?questions|on\s+hand"
    r"|(?:a|our|the)\s+(?:stall|stand)\b|years\s+(?:working|as\s+a|in\s+the\s+nhs))",
    re.IGNORECASE,
)
# Giving ("donated", "raised"), or thanked for a thing ("for the coffee", "for these hats") or for
# giving ("for donating"). Thanks for "her care" are a patient's, and thanks said by the person
# ("the lady in bed 9 wants to thank everyone for the cake") are not thanks to them.
_GAVE = re.compile(
    r"\b(?:donat\w+|raised|rais(?:e|ing)\s+(?:money|funds|£)|fundrais\w+|knitted|made|baked"
    r"|presented\s+a\s+cheque)\b",
    re.IGNORECASE,
)
_THANKED_FOR = re.compile(
    r"\bthank\w*\b.{0,80}?\bfor\s+(?:(?:the|their|these|those|a|an|some|all\s+the|his|her"
    r"|our|your)\b(?!\s+(?:\w+ing|care|treatment|kindness|support|help|compassion)\b)|(?:donating|raising|knitting|baking|making|bringing"
    r"|sending|organising|running|visiting|buying|giving)\b)",
    re.IGNORECASE,
)
# Welsh and Gaelic words that start the name of a place: "Ysbyty Glan Clwyd" is a hospital.
_PLACE_BEFORE = re.compile(
    r"\b(?:Ysbyty|Ysgol|Canolfan|Meddygfa|Cartref|Ospadal|Sgoil|Ionad|Taigh|Tigh|Port|Mount"
    r"|Saint|St)\.?\s+$"
)
# The name owns a group that did something: "Mrs Hughes' class sang", "Dr Shah's team".
_POSSESSOR = re.compile(
    rf"[{_APOS}]s?\s+(?:[\w-]+\s+){{0,2}}?(?:class|pupils|choir|team|group|band|school|staff"
    r"|colleagues|scouts|brownies|guides|cubs|students|club|crew|volunteers)\b"
)
_TREATMENT_NEXT = re.compile(
    rf"\s+(?:[\w{_APOS}-]+\s+){{0,2}}?(?:{TREATMENTS})(?![\w-])", re.IGNORECASE
)
_OWN_HEALTH = re.compile(
    rf"\b(?:his|her|their)\s+(?:own\s+|recent\s+|first\s+|latest\s+|last\s+)?"
    rf"(?:{CONDITIONS}|{TREATMENTS}|surgery|operation|diagnosis|mammogram|smear\s+test"
    rf"|scan|biopsy|results?)(?![\w-])(?!{SERVICE_AFTER.pattern})"
    r"|\b(?:is|was|has\s+been)\s+(?:now\s+|currently\s+|recently\s+)?(?:an?\s+inpatient"
    r"|in\s+hospital|admitted|being\s+treated|receiving\s+treatment)\b",
    re.IGNORECASE,
)
_DETAILS_AFTER = re.compile(
    rf"(?:\s*,\s*(?:aged\s+)?{_AGE}\s*,?|\s*\(\s*(?:aged\s+)?{_AGE}\s*\))?"
    rf"(?:\s+(?:from|of)\s+{_NAME}(?:\s+{_NAME})?)?(?:\s*,\s*{_AGE}\s*,?)?"
)
_SENTENCE_END = re.compile(r"[.!?]+(?=\s|$)|\n")
_ABBREVIATION = re.compile(r"\b(?:Mr|Mrs|Ms|Dr|St|Prof|Rev|Capt|Sgt|No|Nos)\.$")


def _sentence(prose: str, start: int, end: int) -> tuple[int, int]:
    """The sentence around prose[start:end]: "Mr. Brown" does not end one."""
    s = 0
    for m in _SENTENCE_END.finditer(prose, 0, start):
        if not _ABBREVIATION.search(prose, 0, m.end()):
            s = m.end()
    e = len(prose)
    for m in _SENTENCE_END.finditer(prose, end):
        if not _ABBREVIATION.search(prose, 0, m.end()):
            e = m.start()
            break
    return s, e


def _identifiable(kind: str, m: re.Match[str]) -> bool:
    groups = m.groupdict()
    n, n2, g, p = groups.get("n"), groups.get("n2"), groups.get("g"), groups.get("p")
    if kind == "a title and surname":
        return _is_name(n)
    if kind == "a name with an age" and g is None:
        return _is_name(n) and (n2 is None or _is_name(n2))
    if kind == "a patient's name":
        return _is_name(n)
    if kind == "a baby's or child's name":
        return _is_given(n) or (_is_name(n) and (n2 is None or _is_given(n2)))
    if kind == "a first name with a place":
        return _is_given(g) and _is_name(p)
    if kind == "a first name with a ward":
        return _is_given(g)
    if kind == "a full name":
        return _is_given(g) and _is_surname(n)
    if kind == "an age and a town":
        return _is_name(p)
    if kind in ("a name with a family title", "a relative's name", "a family's name"):
        return _is_name(n)
    if kind in ("a name and their age", "a name as on a wristband", "a name through a relative"):
        return _is_given(g)
    return True


_RELATIVES = "mum dad mam mother father parents family nan gran wife husband partner son daughter"
_RELATIVES_SPLIT = tuple(_RELATIVES.split())
# What each shape needs in the (lower-cased) post before it is worth looking for: most posts
# name nobody, and plain substring tests cost next to nothing.
_NEEDS: dict[str, tuple[str, ...]] = {
    "a title and surname": ("mr", "ms", "miss", "mx", "master"),
    "a patient's name": ("patient", "resident", "service user", "client"),
    "a baby's or child's name": ("baby", "little", "tiny", "wee ", "newborn", "twins", "triplets"),
    "a first name with a place": (" from ", " of "),
    "a first name with a ward": (
        "ward",
        "unit",
        "bed",
        "bay",
        "room",
        "cubicle",
        "cot",
        "incubator",
    ),
    "a person by their bed": ("bed", "bay", "room", "cubicle", "cot", "incubator"),
    "an age and a town": ("old",),
    "a name and their age": (" is ", " was ", " turn"),
    "a name through a relative": tuple(
        f"{apostrophe}s {relative}" for apostrophe in _APOS for relative in _RELATIVES_SPLIT
    ),
    "a family's name": ("twins", "triplets", "quads", "baby", "family"),
    "a name as on a wristband": (",",),
    "a name with a family title": ("nan", "gran", "aunt", "uncle"),
    "a relative's name": (
        "dad",
        "mum",
        "mam",
        "mother",
        "father",
        "son",
        "daughter",
        "wife",
        "husband",
        "brother",
        "partner",
        "nan",
        "gran",
    ),
}
_DIGIT = re.compile(r"[0-9]")
_NEEDS_DIGIT = frozenset(
    {"a name with an age", "a name and their age", "a person by their bed", "an age and a town"}
)


@lru_cache(maxsize=512)
def _people(prose: str) -> tuple[_Person, ...]:
    found: list[_Person] = []
    taken: list[tuple[int, int]] = []
    lower = prose.lower()
    has_digit = _DIGIT.search(prose) is not None
    for kind, pattern in _PATTERNS:
        if kind in _NEEDS_DIGIT and not has_digit:
            continue
        needs = _NEEDS.get(kind)
        if needs is not None and not any(word in lower for word in needs):
            continue
        for m in _matches(pattern, prose):
            start, end = m.span()
            if any(start < b and a < end for a, b in taken):
                continue
            if not _identifiable(kind, m) or _named_place(prose, end):
                continue
            if kind in _FIRST_NAME_KINDS and _in_a_run_of_names(prose, start, start):
                continue
            # Staff are taken too, so a shorter shape cannot find them again.
            taken.append((start, end))
            person = _judge(prose, kind, start, end)
            if person is not None:
                found.append(person)
    found.extend(_beds_and_wards_with_a_day(prose, lower, taken))
    found.extend(_first_names_in_context(prose, lower, taken))
    found.sort(key=lambda p: p.start)
    return tuple(found)


# Shapes that take one capitalised word for a first name: "Bevan on the stroke ward" in
# "Sister Carys Bevan on the stroke ward" is a surname, and the full name is judged instead.
_FIRST_NAME_KINDS = frozenset({"a first name with a ward"})
_NAME_BEFORE = re.compile(rf"({_NAME})\s+$")
_NAME_AFTER = re.compile(rf"\s+({_NAME})")


def _in_a_run_of_names(prose: str, start: int, end: int) -> bool:
    """Whether the word at prose[start:end] has a name just before it, or (when end > start)
    just after it: "Florence Nightingale Ward", "Carys Bevan"."""
    before = _NAME_BEFORE.search(prose, max(0, start - 30), start)
    if before is not None and _is_name(before.group(1)):
        return True
    after = _NAME_AFTER.match(prose, end) if end > start else None
    return after is not None and _is_name(after.group(1))


def _matches(pattern: re.Pattern[str], prose: str) -> Iterator[re.Match[str]]:
    """Every match, overlapping ones too: when "Meet Grace, 72," is no name, "Grace, 72," is."""
    pos = 0
    while (m := pattern.search(prose, pos)) is not None:
        yield m
        pos = m.start() + 1


def _named_place(prose: str, end: int) -> bool:
    return bool(_PLACE_AFTER.match(prose, end) or _BUSINESS.match(prose, end))


def _judge(prose: str, kind: str, start: int, end: int) -> _Person | None:
    """The person at prose[start:end], or None when they are staff, a speaker or a visitor."""
    s, e = _sentence(prose, start, end)
    sentence = prose[s:e]
    # Staff and officials are patients too when the sentence is about their own health:
    # "Cllr Morag Fraser had her mammogram", "our volunteer Keith is now an inpatient".
    own_health = _OWN_HEALTH.search(sentence) is not None
    before = prose[max(s, start - 60) : start]
    if _PLACE_BEFORE.search(before):
        return None
    if not own_health and (_TITLE_BEFORE.search(before) or _ROLE_BEFORE.search(before)):
        return None
    if _POSSESSOR.match(prose, end, e):
        return None
    # Past the details that follow a name ("Paul, 45, from Wigan"), to what is said of them.
    details = _DETAILS_AFTER.match(prose, end, e)
    for at in {end, details.end() if details else end}:
        if _ROLE_AFTER.match(prose, at, e) and not own_health:
            return None
        agent = _AGENT.match(prose, at, e)
        # "...who starts home dialysis": the verb is a patient's when a treatment follows.
        if agent is not None and not _TREATMENT_NEXT.match(prose, agent.end(), e):
            return None
    if _STAFF_NEWS.search(sentence):
        return None
    # The finding covers every identifying detail said with the name: "Aisha, 7, from Leven".
    if details is not None and details.end() > end and kind in _EXTENDS:
        shown = prose[end : details.end()]
        end = details.end() - (len(shown) - len(shown.rstrip(" ,")))
        if (" from " in shown or " of " in shown) and _DIGIT.search(prose, start, end):
            kind = "a name with an age and a place"
    thanked = _THANKED_FOR.search(sentence)
    gave = _GAVE.search(sentence) is not None or (
        thanked is not None and s + thanked.start() < start
    )
    return _Person(start, end, kind, gave_something=gave)


_EXTENDS = frozenset({"a name with an age", "a full name", "a title and surname"})


# The same tests on the lower-cased post, for whether to look at all: a pattern without
# IGNORECASE runs several times faster, and most posts have no ward or no day.
_WARD_OR_UNIT_LOWER = re.compile(_WARD_OR_UNIT.pattern)
_DAY_LOWER = re.compile(_DAY.pattern)


# Cached: the bed-and-ward shapes and the first-name shapes both ask, of the same post.
@lru_cache(maxsize=64)
def _has_ward(lower: str) -> bool:
    return any(word in lower for word in _WARD_WORDS) and (
        _WARD_OR_UNIT_LOWER.search(lower) is not None
    )


@lru_cache(maxsize=64)
def _has_day(lower: str) -> bool:
    return _DAY_LOWER.search(lower) is not None


_BED_WORDS = ("bed", "bay", "room", "cubicle", "cot", "incubator")
_WARD_WORDS: tuple[str, ...] = ("ward", "unit", "icu", "itu", "hdu", "nicu", "scbu", "resus")
_WARD_WORDS += ("intensive", "high dependency", "theatre", "a&e")


def _beds_and_wards_with_a_day(
    prose: str, lower: str, taken: list[tuple[int, int]]
) -> Iterator[_Person]:
    """A bed, or one person on a ward or unit, with the day: "whoever was in bed 12 on
    Ward 8 last Friday", "the man brought in yesterday is stable in intensive care"."""
    has_bed = any(word in lower for word in _BED_WORDS)
    beds = list(_BED_ALONE.finditer(prose)) if has_bed else []
    wards = _has_ward(lower)
    if not (beds or wards) or not _has_day(lower):
        return
    for m in beds:
        if any(m.start() < b and a < m.end() for a, b in taken):
            continue
        s, e = _sentence(prose, m.start(), m.end())
        if _DAY.search(prose, s, e) and not _STAFF_NEWS.search(prose, s, e):
            yield _Person(m.start(), m.end(), "a bed with a day", gave_something=False)
            return
    if not wards:
        return
    for m in _ONE_PERSON.finditer(prose):
        if any(m.start() < b and a < m.end() for a, b in taken):
            continue
        s, e = _sentence(prose, m.start(), m.end())
        if (
            _DAY.search(prose, s, e)
            and _WARD_OR_UNIT.search(prose, s, e)
            and not _STAFF_NEWS.search(prose, s, e)
            and not _AGENT.match(prose, m.end(), e)
        ):
            yield _Person(m.start(), m.end(), "a ward with a day", gave_something=False)
            return


_CAPITALISED = re.compile(rf"(?<![\w{_APOS}-]){_NAME}(?![\w-])")
_SUBJECT_NEXT = re.compile(
    r"\s*(?:,|\s(?:is|was|has|had|went|left|came|got|will|can|did|said|says|turned"
    r"|arrived|spent|needed|needs)\b)"
)
_BIRTH_DETAIL = re.compile(
    r"\bborn\s+(?:at|on|in)\b|\b[0-9]{1,2}\s+weeks\s+early\b|\bweighing\b"
    r"|\b[0-9]{1,2}\s?(?:lbs?|oz)\b",
    re.IGNORECASE,
)


def _first_names_in_context(
    prose: str, lower: str, taken: list[tuple[int, int]]
) -> Iterator[_Person]:
    """A first name alone, in a post that says how the person was born ("Welcome home
    Oliver! Born at 24 weeks...") or, in its sentence, which ward and which day ("Well done
    Bethan on your discharge from Ward B4 today"): as telling as a bed with a day."""
    birth = ("born" in lower or "weigh" in lower or "lb" in lower or "oz" in lower) and (
        _BIRTH_DETAIL.search(prose) is not None
    )
    if not birth and not (_has_ward(lower) and _has_day(lower)):
        return
    for m in _CAPITALISED.finditer(prose):
        if any(m.start() < b and a < m.end() for a, b in taken):
            continue
        if not _is_given(m.group()) or _named_place(prose, m.end()):
            continue
        if _in_a_run_of_names(prose, m.start(), m.end()):
            continue
        s, e = _sentence(prose, m.start(), m.end())
        # A capital that starts a sentence says little ("Storm warning", "Carol singers"): a
        # name there counts only as the subject of what follows ("Bethan went home today").
        if not prose[s : m.start()].strip() and not _SUBJECT_NEXT.match(prose, m.end()):
            continue
        if birth:
            kind = "a first name with a birth detail"
        elif _DAY.search(prose, s, e) and _WARD_OR_UNIT.search(prose, s, e):
            kind = "a first name with a ward and a day"
        else:
            continue
        person = _judge(prose, kind, m.start(), m.end())
        if person is not None:
            yield person
            return


# --- The check -------------------------------------------------------------------------------


def patient_details(post: Post, context: CheckContext) -> Iterator[Hit]:
    people = _people(post.prose)
    if not people:
        return
    here = care_details(post.prose)
    for person in people:
        details, where = _health_details(person, here, post)
        if details:
            yield Hit(person.start, person.end, _message(post, person, details, where))


# Which health detail to name first: the most telling.
_KIND_ORDER = {
    kind: n
    for n, kind in enumerate(
        (
            "a condition",
            "a treatment",
            "a test result",
            "a death",
            "a birth",
            "a stay in hospital",
            "going home from hospital",
            "a recovery",
            "a ward or unit",
        )
    )
}


def _health_details(person: _Person, here: tuple[Care, ...], post: Post) -> tuple[list[Care], str]:
    """Up to two health or care details for this person, the most telling first: in this
    text, else in what is published with it. A ward or unit alone does not count for someone
    thanked for a gift."""
    for cares, where, near in [(here, "", person.start)] + [
        (care_details(n.prose), n.label, 0) for n in post.neighbours
    ]:
        usable = [c for c in cares if (c.strong and not c.service) or not person.gave_something]
        if usable:
            usable.sort(key=lambda c: (_KIND_ORDER[c.kind], abs(c.start - near)))
            chosen = [usable[0]]
            chosen += [c for c in usable[1:2] if c.shown.lower() != usable[0].shown.lower()]
            return chosen, where
    return [], ""


def _message(post: Post, person: _Person, details: list[Care], where: str) -> str:
    who = post.text[person.start : person.end]
    said = " and ".join(f"\u201c{c.shown}\u201d ({c.kind})" for c in details)
    return (
        f"\u201c{who}\u201d ({person.kind}) with {said}{' ' + where if where else ''} "
        "could identify a patient. Anything that could identify a patient, with anything "
        "about their health or care, is confidential: post it only if the patient (or their "
        "family) has agreed in writing and your organisation allows it. Otherwise leave out "
        "who they are."
    )
