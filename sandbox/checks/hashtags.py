"""Hashtags: CamelCase for screen readers, and not too many of them.

Whether a lowercase hashtag is several words run together is decided by this heuristic:

1. A tag with a capital after its first letter is already CamelCase or an acronym (#NHS,
   #NHSScotland, #MentalHealthAwareness): fine. Tags in scripts without capitals are skipped.
2. Otherwise each run of letters is looked up in a small vocabulary of everyday words and the
   words NHS and council posts use. A run that is itself a word (#vaccine, #wellbeing) is fine;
   a run that splits wholly into two or more words (#mentalhealthawareness) is flagged with the
   CamelCase spelling to use. A run under 8 letters must split into words of three letters or
   more, so #meat is not "me at".
3. A run that does not split but is at least 16 letters long is flagged without a suggestion:
   hardly any single English word used as a hashtag is that long, while #neurodiversity (14)
   and #apprenticeship (14) are common.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import lru_cache

from sandbox.checks.base import CheckContext, Hit, Post

_MAX_HASHTAGS = 2
_LONG_RUN = 16
_SHORT_RUN = 8
_MAX_SEGMENTED = 60  # longer runs are junk, not words; splitting them would only cost time

# Display forms: lowercase words, and acronyms as they should be written inside a hashtag.
_VOCABULARY = """
    about act action active advice age aid air alcohol all allergy and anti antibiotic
    antibiotics anxiety app apply appointment appointments are arts ask asthma at autism autumn
    awareness away baby babies back be being best better big bin bins birth black blind blood
    body bone bones book bowel boy boys brain breast breastfeeding bus by call cancer care
    career careers carer carers caring celebrate celebrating celebration change check child
    childcare childhood children christmas city clean climate clinic clinics cold community
    communities cost council counts cycle dad dads data day days deaf dementia dental
    dentist diabetes digital disability diversity do doctor doctors donate donor donors drink
    drug drugs early earth easter eat eid election emergency end england environment equality
    eye eyes family families father fathers feeding first fit fitness flu food for free friday
    friend friends from fund future get girl girls give global go good great green hand hands
    happy health healthcare healthy healthier hear hearing heart help here hero heroes history
    home homeless homelessness homes hope hospital hour house housing in inclusion info
    inpatient inpatients international is it jab jabs job jobs join keep kid kids kidney kind
    kindness know learn learning library libraries life lift list live lives living local long
    love lung lungs make matters me mental midwife midwives minute minutes money monday month
    more mother mothers move my national nature need new news night no northern not now nurse
    nurses nursing nutrition of on one online open or organ our out outpatient outpatients pain
    parent parents park parks patient patients people pharmacy physical plan plant play please
    power pride proud public quit read ready recruitment recycle recycling register research
    right road roads run safe safety saturday save school schools science screen screening
    season service services sexual share sight skin sleep small smoke smoking social sport
    spring staff star stars start stay stop stroke strong stronger student students summer
    sunday support talk team teams teamwork tech test testing thank thanks the this thursday
    time tips to today together town train training travel tree trees tuesday up us vaccinate
    vaccination vaccine vaccines village visit vote voting waiting walk ward wash waste water we
    wednesday week weekend weeks well wellbeing who win winter with women work worker workers
    working world year years you young your
    vaccinated vaccinations volunteer volunteers volunteering keep calm carry
    recycle reuse reduce litter pick picking bin bins road
    safety cancer dementia friendly friends autism awareness mental health matters kind
    minds mind hospice hospices ambulance paramedic paramedics porter porters pharmacist
    pharmacists nurse physio physios therapy therapist therapists doctor doctors student
    midwife midwifery apprentice apprenticeship apprenticeships council councils library
    libraries foster fostering adopt adoption carer carers social worker workers team heroes
    blood donor donors give giving organ organs sign signs up quit smoking drink drinking
    safe safely summer winter spring autumn holiday holidays christmas easter eid diwali
    pride black history month awareness wellbeing walking cycling active travel climate
    green clean air
    NHS GP GPs CAMHS COVID ICU LGBT LGBTQ UK
"""
_WORDS: dict[str, str] = {word.lower(): word for word in _VOCABULARY.split()}
_LONGEST_WORD = max(map(len, _WORDS))
_LETTER_RUN = re.compile(r"[a-zA-Z]+")


def hashtag_case(post: Post, context: CheckContext) -> Iterator[Hit]:
    for tag in post.hashtags:
        if any(c.isupper() for c in tag.value[1:]):
            continue
        suggestion, unsplit = _camel_case(tag.value)
        if suggestion is not None:
            yield Hit(
                tag.start,
                tag.end,
                f"Write this hashtag as #{suggestion}. Screen readers read a CamelCase hashtag "
                "word by word, but stumble over words run together in lower case.",
            )
        elif unsplit:
            yield Hit(
                tag.start,
                tag.end,
                "Start each word in this hashtag with a capital (CamelCase, like "
                "#MentalHealthAwareness). Screen readers then read it word by word; words run "
                "together in lower case come out garbled.",
            )


def _camel_case(value: str) -> tuple[str | None, bool]:
    """The tag in CamelCase if some run of letters splits into words; and whether a long run
    of letters did not split at all."""
    pieces: list[str] = []
    last = 0
    changed = unsplit = False
    for run in _LETTER_RUN.finditer(value):
        word = run.group().lower()
        parts = _split(word) if word not in _WORDS and len(word) <= _MAX_SEGMENTED else None
        pieces.append(value[last : run.start()])
        if parts is not None:
            pieces.append("".join(_display(part) for part in parts))
            changed = True
        else:
            pieces.append(run.group())
            unsplit = unsplit or (word not in _WORDS and len(word) >= _LONG_RUN)
        last = run.end()
    pieces.append(value[last:])
    return ("".join(pieces) if changed else None), unsplit


def _display(word: str) -> str:
    shown = _WORDS[word]
    return shown if shown != word else word.capitalize()


@lru_cache(maxsize=1024)
def _split(run: str) -> tuple[str, ...] | None:
    """The fewest vocabulary words that make up the run, if there are at least two."""
    # best[i]: the split of run[:i] into the fewest words found so far.
    best: list[tuple[str, ...] | None] = [None] * (len(run) + 1)
    best[0] = ()
    for end in range(1, len(run) + 1):
        for start in range(max(0, end - _LONGEST_WORD), end):
            before = best[start]
            if before is None or run[start:end] not in _WORDS:
                continue
            current = best[end]
            if current is None or len(before) + 1 < len(current):
                best[end] = (*before, run[start:end])
    found = best[len(run)]
    if found is None or len(found) < 2:
        return None
    if len(run) < _SHORT_RUN and min(map(len, found)) < 3:
        return None
    return found


def too_many_hashtags(post: Post, context: CheckContext) -> Iterator[Hit]:
    tags = post.hashtags
    if len(tags) > _MAX_HASHTAGS:
        yield Hit(
            tags[_MAX_HASHTAGS].start,
            tags[-1].end,
            f"This post has {len(tags)} hashtags. UK government guidance on accessible social "
            f"media suggests no more than {_MAX_HASHTAGS}: screen readers read out every one, and "
            "a string of hashtags makes a post hard to follow. Keep the one or two that matter.",
        )
