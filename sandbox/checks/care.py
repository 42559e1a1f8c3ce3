"""The second half of the patient-details rule: words that say something about a person's
health or care (a condition, a treatment, a stay in hospital, going home, a death, a test
result, a birth, or the ward or unit they are on). checks.patients pairs them with someone
identifiable; alone they are usually fine ("Six new beds in the respiratory unit")."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

# A bed, bay or side room with its number: "bed 4", "bay 2b", "side room 3".
BED = r"(?:bed|bay|side[- ]?room|cubicle|cot|incubator|room)\s*[0-9]{1,3}[a-z]?\b"


@dataclass(frozen=True)
class Care:
    start: int
    end: int
    shown: str
    kind: str
    strong: bool  # a ward or unit alone is weak: see the module docstring
    service: bool = False  # names a service ("the cancer unit"), weak for someone who gave


_CARE_WORDS: tuple[tuple[str, bool, str], ...] = (
    (
        "a condition",
        True,
        r"cancer(?:-free)?|tumou?rs?|strokes?(?!\s+of\s+luck)|dementia|alzheimer'?s|diabet(?:es|ic)"
        r"|covid(?:-19)?|long\s+covid|flu|influenza|pneumonia|sepsis|meningitis|bronchiolitis|rsv"
        r"|whooping\s+cough|chickenpox|shingles|measles|tuberculosis|norovirus|infections?"
        r"|heart\s+(?:attack|failure|condition|disease|problems?)|angina|cardiac\s+arrest"
        r"|blood\s+clots?|dvt|anaemi[ac]|asthma(?:tic)?|copd|emphysema|arthritis|osteoporosis"
        r"|(?:kidney|liver|lung|heart|motor\s+neurone|crohn'?s|coeliac)\s+(?:disease|failure)"
        r"|overdosed?|hiv|hepatitis|pregnan(?:t|cy)|miscarriage|stillbirth|premature|prem"
        r"|jaundice|in\s+labour|contractions|fractured?|broken\s+(?:hip|leg|arm|wrist|ankle|neck"
        r"|back|pelvis|ribs?|bones?)|broke\s+(?:his|her|their|my)\s+\w+|concussion"
        r"|(?:head|spinal|brain)\s+injur(?:y|ies)|depression|anxiety|schizophrenia|bipolar"
        r"|psychosis|ptsd|ocd|adhd|anorexia|bulimia|eating\s+disorder|self[- ]harm"
        r"|suicid(?:e|al)|epilep(?:sy|tic)|seizures?|parkinson'?s|mnd|multiple\s+sclerosis"
        r"|leukaemia|lymphoma|melanoma|sarcoma|cystic\s+fibrosis|cerebral\s+palsy"
        r"|spina\s+bifida|down'?s\s+syndrome|allerg(?:y|ies|ic\s+reaction)|anaphyla\w+"
        r"|appendicitis|burns|(?:a|his|her|their|my)\s+fall|lost\s+(?:both\s+)?"
        r"(?:his|her|their)?\s*(?:legs?|arms?|sight|hearing)|paralysed|blind|deaf"
        r"|(?:serious|critical|stable)\s+condition|in\s+a\s+coma|poorly|unwell|illness|disease|disorder"
        r"|syndrome|autis(?:m|tic)|learning\s+disabilit(?:y|ies)|pain|injur(?:y|ies|ed)",
    ),
    (
        "a treatment",
        True,
        r"chemo(?:therapy)?|radiotherapy|immunotherapy|dialysis|transplant|amputation"
        r"|(?:his|her|their|my|an|the|knee|hip|heart|back|bowel|brain|eye|spinal|emergency"
        r"|major|keyhole|cataract|cancer)\s+(?:surgery|operation|op)\b"
        r"|(?:surgery|operation)\s+(?:on|to|for)\b|after\s+surgery"
        r"|(?:hip|knee|joint|valve)\s+replacement|new\s+(?:hip|knee|heart|kidney|liver|lungs?)"
        r"|bypass|ventilator|incubator|caesarean|c-section|tonsils\s+out|stitches|plaster\s+cast"
        r"|prosthetics?|(?:end\s+of\s+)?treatment|treated|rehab(?:ilitation)?|physiotherapy"
        r"|palliative|end\s+of\s+life|(?:covid|flu)\s+(?:booster|jab|vaccine)|booster"
        r"|blood\s+transfusion|transfusion|insulin|medication|wheelchair|walking\s+frame"
        r"|rang\s+the\s+(?:\w+\s+)*bell"
        r"|cared\s+for|looking\s+after\s+(?:me|him|her|them|our\s+\w+)|care\s+package"
        r"|inhalers?|(?:clinical|drug|vaccine|our\s+\w+)\s+trial|stem\s+cells?|bone\s+marrow"
        r"|skin\s+grafts?|pacemaker|stents?|catheter|feeding\s+tube|oxygen|intubated"
        r"|resuscitated|cpr|defibrillator|crutches|splint|antibiotics|chemo\s+\w+|iv\s+drip"
        r"|vaccinated|(?:speech|occupational|play)\s+therapy|counselling"
        r"|(?:appendix|gallbladder|tonsils|tumou?r)\s+(?:was\s+|were\s+)?(?:removed|out)",
    ),
    (
        "a recovery",
        True,
        r"(?:speedy|full|good)\s+recovery|recover(?:ing|ed|y)|get\s+well\s+soon|first\s+steps"
        r"|back\s+on\s+(?:his|her|their)\s+feet",
    ),
    (
        "a stay in hospital",
        True,
        r"admitted|brought\s+in(?:to)?|rushed\s+(?:in|to)|in\s+hospital|hospital\s+bed"
        r"|taken\s+to\s+hospital|airlifted|hospitali[sz]ed|in\s+a&e"
        r"|(?:his|her|their|my)\s+stay|stay(?:ed|ing)?\s+(?:with\s+us|on|in)\b|inpatient"
        r"|in\s+resus|was\s+seen\s+in|in\s+(?:our|the)\s+care|in\s+our\s+care",
    ),
    (
        "going home from hospital",
        True,
        r"discharged|(?:his|her|their|your|my)\s+discharge|discharge\s+from"
        r"|(?:going|went|gone|got|sent|allowed|back|coming|heading|home|off)\s+home"
        r"|home\s+(?:at\s+last|today|time|by|after|from)|going-home|leaves?\s+(?:our|the)"
        r"\s+(?:hospital|hospice|ward|unit)|(?:walked|went|came|wheeled|out)\s+(?:out\s+)?of\s+"
        r"(?:hospital|icu|itu|hdu|intensive\s+care|resus|the\s+\w+\s+(?:unit|ward))"
        r"|left\s+hospital|out\s+of\s+hospital",
    ),
    (
        "a death",
        True,
        r"died|dies|passed\s+away|death|lost\s+(?:his|her|their)\s+(?:fight|battle|life)|rip"
        r"|final\s+days|last\s+days|passing|sadly\s+lost|funeral|end\s+of\s+(?:his|her)\s+life",
    ),
    (
        "a test result",
        True,
        r"tested\s+(?:positive|negative)|positive\s+for|results?|came\s+back\s+clear"
        r"|mammograms?|smear\s+tests?|bloods|ecgs?|mri|ct\s+scans?|ultrasound|screening"
        r"|all\s+clear|diagnos(?:ed|is|es)|biopsy|blood\s+tests?|scans?|x-rays?|in\s+remission",
    ),
    (
        "a birth",
        True,
        r"born|weighing|[0-9]+\s?lbs?\b|[0-9]+\s?oz|gave\s+birth|delivered|arrived\s+(?:[0-9]+"
        r"\s+weeks\s+)?early|welcomed\s+(?:twins|triplets|a\s+baby|baby|their)|new\s+arrival"
        r"|twins|triplets|labour",
    ),
    (
        "a ward or unit",
        False,
        r"wards?(?:\s*[0-9]+[a-z]?)?|units?|icu|itu|hdu|nicu|scbu|a&e|intensive\s+care"
        r"|high\s+dependency|resus|theatres?|hospice|care\s+home|nursing\s+home|clinic"
        r"|hospital|" + BED,
    ),
)
# A condition or treatment before one of these names a service ("the cancer unit", "our stroke
# nurses", "the dialysis team"). For a patient it still tells their illness ("the lady on the
# stroke ward"); for someone who gave the unit something it is only where the gift went.
SERVICE_AFTER = re.compile(
    r"\s+(?:units?|wards?|centres?|centers?|services?|teams?|nurses?|clinics?|suites?"
    r"|departments?|charity|appeal|fund|research|specialists?|consultants?|doctors?|midwives"
    r"|midwife|hubs?|network|support\s+group|awareness|screening\s+programme)\b",
    re.IGNORECASE,
)
# Every pattern here ignores case. Each is compiled twice: as written, to run on the lower-cased
# post (several times faster in Python's re than IGNORECASE over these long alternations), and
# with IGNORECASE for the rare text whose lower case is not the same length (so the positions
# found would not be the original's).
_CARE_PATTERNS = [
    (kind, strong, rf"(?<![\w&-])(?:{words})(?![\w-])") for kind, strong, words in _CARE_WORDS
]
_CARE_LOWER = [(kind, strong, re.compile(pattern)) for kind, strong, pattern in _CARE_PATTERNS]
_CARE_ANY_CASE = [
    (kind, strong, re.compile(pattern, re.IGNORECASE)) for kind, strong, pattern in _CARE_PATTERNS
]
# Not health at all: "the pain of parking", "treated to a cake", "results of our survey".
_NOT_CARE = (
    r"\b(?:treated\s+(?:to|us|them|everyone|all)|results?\s+of\s+(?:our|the|this)\s+"
    r"(?:survey|consultation|vote|election|competition|quiz|raffle)|exam\s+results?"
    r"|a\s+pain\b|labour\s+(?:party|market|mp|msp|councillor)|born\s+and\s+(?:bred|raised))"
)
_NOT_CARE_LOWER = re.compile(_NOT_CARE)
_NOT_CARE_ANY_CASE = re.compile(_NOT_CARE, re.IGNORECASE)
_SERVICE_AFTER_LOWER = re.compile(SERVICE_AFTER.pattern)


@lru_cache(maxsize=512)
def care_details(prose: str) -> tuple[Care, ...]:
    lower = prose.lower()
    if len(lower) == len(prose):
        text, patterns, not_care_pattern, service_after = (
            lower,
            _CARE_LOWER,
            _NOT_CARE_LOWER,
            _SERVICE_AFTER_LOWER,
        )
    else:
        text, patterns, not_care_pattern, service_after = (
            prose,
            _CARE_ANY_CASE,
            _NOT_CARE_ANY_CASE,
            SERVICE_AFTER,
        )
    not_care = [m.span() for m in not_care_pattern.finditer(text)]
    found: list[Care] = []
    for kind, strong, pattern in patterns:
        for m in pattern.finditer(text):
            start, end = m.span()
            if any(a <= start < b for a, b in not_care):
                continue
            service = strong and service_after.match(text, end) is not None
            found.append(Care(start, end, prose[start:end], kind, strong, service))
    return tuple(found)


CONDITIONS, TREATMENTS = _CARE_WORDS[0][2], _CARE_WORDS[1][2]
