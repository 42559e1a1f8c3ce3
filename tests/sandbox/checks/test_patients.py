"""Patient details in words: someone identifiable beside their health or care."""

from __future__ import annotations

import pytest

from sandbox.checks import CHECKS, MediaInfo
from tests.sandbox.checks.helpers import codes, findings, spans


@pytest.mark.parametrize(
    ("text", "who"),
    [
        # The examples.
        (
            "Lovely to see Mr Brown back on his feet on Ward 2 after his hip replacement",
            "Mr Brown",
        ),
        (
            "So pleased for Aisha, 7, from Leven, home at last after her chemo",
            "Aisha, 7, from Leven",
        ),
        # A title and surname; a full name; a name with an age; a first name with a place.
        ("Mrs Okafor in side room 2 has tested positive for flu", "Mrs Okafor"),
        ("Kevin Doyle went home today after his heart bypass", "Kevin Doyle"),
        ("Hamza (15) broke his arm playing football", "Hamza (15)"),
        ("4-year-old Lily is cancer-free after two years of treatment", "4-year-old Lily"),
        ("Jean from Methil has not had a fall since joining our falls clinic", "Jean from Methil"),
        ("Zara on the teenage cancer unit turns 18 today", "Zara on the teenage cancer unit"),
        # A patient's name; a baby's name with a birth detail.
        ("Our dialysis patient Margaret Hughes is 80 today", "patient Margaret Hughes"),
        ("Welcome baby Isla, born at 4.32am weighing 7lb 3oz", "baby Isla"),
        # A person by their bed; a bed or ward with a day; an age and a town.
        ("The gentleman in bed 4 asked us to thank the night staff", "The gentleman in bed 4"),
        ("Whoever was in bed 12 on Ward 8 last Friday left their glasses", "bed 12"),
        (
            "The man brought in after the crash yesterday is stable in intensive care",
            "The man",
        ),
        ("A 67-year-old man from Brora is in a serious condition", "A 67-year-old man from Brora"),
    ],
)
def test_an_identifiable_patient_with_health_details_is_found(text: str, who: str) -> None:
    found = findings(text, "patient-details")
    assert [text[f.start : f.end] for f in found] == [who]
    assert found[0].severity == "block"


@pytest.mark.parametrize(
    "text",
    [
        # The negatives: staff praise, new staff, service news, visiting hours, speakers.
        "Congratulations to Staff Nurse Tom Reid on Ward 9 for his long-service award",
        "Please welcome Dr Ian Moss to our renal team",
        "We have six new beds in the respiratory unit",
        "Visiting hours on Ward 3 are now 2pm to 8pm",
        "Join us on Thursday to hear Professor Amanda Hart talk about stroke research",
        # Roles in apposition, staff doing their work, news about staff.
        "Mr Andrew Clark, consultant orthopaedic surgeon, has done 1,000 hip replacements",
        "Sarah Jones, our ward manager, explains the new visiting times on Ward 10",
        "Radiographer Sam Cole beside the new breast screening machine",
        "Dr Lucy Chen and Mr Rob Evans carried out the first robotic kidney transplant",
        "Happy retirement to Margaret from Ward 6 after 38 years of caring for patients",
        "Meet Paul, 45, from Wigan: a porter on our A&E team for 20 years",
        # Donors with only a ward or unit; named places; a name without a health detail.
        "Thank you to Mr and Mrs Patel for donating a television to Ward 5",
        "Visiting times on Florence Nightingale Ward have changed",
        "Mr Patel's Pharmacy on the High Street now offers flu jabs",
        "Congratulations to Priya Patel from our finance team on passing her exams",
        # Several patients, nobody in particular.
        "Our patients on Ward 12 enjoyed the therapy dogs on Saturday",
        "Stroke survivors meet every Tuesday at Kirkcaldy library",
    ],
)
def test_staff_news_and_service_news_pass(text: str) -> None:
    assert "patient-details" not in codes(text)


def test_the_finding_names_both_parts_and_the_rule() -> None:
    text = "Lovely to see Mr Brown back on his feet on Ward 2 after his hip replacement"
    message = findings(text, "patient-details")[0].message
    assert "\u201cMr Brown\u201d (a title and surname)" in message
    assert "\u201chip replacement\u201d (a treatment)" in message
    assert "confidential" in message
    assert "agreed in writing" in message


def test_a_name_in_one_post_and_an_illness_in_another_of_the_thread() -> None:
    thread = ("He has been with us on Ward 4 since his stroke in March.",)
    found = findings("Happy 90th birthday to Mr Albert Fox!", "patient-details", thread=thread)
    assert len(found) == 1
    assert "in another post of this thread" in found[0].message
    # The post with the illness but no name is not the one to change.
    assert findings(thread[0], "patient-details", thread=("Happy 90th, Mr Albert Fox!",)) == []


def test_a_name_in_the_text_and_the_illness_in_an_image_description() -> None:
    media = (MediaInfo("An elderly man taking his first steps on Ward 2 after his new hip."),)
    found = findings("Mr Brown is a star!", "patient-details", media=media)
    assert [(f.media_index, f.start, f.end) for f in found] == [(None, 0, 8)]
    assert "in image 1's description" in found[0].message


def test_a_patient_described_in_an_image_description_is_found_there() -> None:
    alt = "Jack, 6, from Glenrothes, in his hospital bed after finishing chemotherapy."
    found = findings("A happy day on the ward.", "patient-details", media=(MediaInfo(alt),))
    assert [(f.media_index, alt[f.start : f.end]) for f in found] == [
        (0, "Jack, 6, from Glenrothes")
    ]


def test_it_blocks_by_default_and_organisations_can_tune_it() -> None:
    assert {c.code: c.severity for c in CHECKS}["patient-details"] == "block"
    text = "Mrs Gill on Ward 6 turned 104 today"
    assert [f.severity for f in findings(text, "patient-details")] == ["block"]
    tuned = {"patient-details": "warn"}
    assert [f.severity for f in findings(text, "patient-details", severity_overrides=tuned)] == [
        "warn"
    ]
    assert spans(text, "patient-details", severity_overrides={"patient-details": "off"}) == []


@pytest.mark.parametrize(
    ("text", "who"),
    [
        # Names the hand list lacks, from the package's dictionary of first names.
        ("Tomasz Nowak went home today after his stroke", "Tomasz Nowak"),
        ("Ffion, 9, from Llanelli has finished her chemo", "Ffion, 9, from Llanelli"),
        # A first name with a birth detail, or with a ward and a day.
        ("Welcome home Oliver! Born at 24 weeks, he spent 4 months in our NICU.", "Oliver"),
        ("Well done Bethan on your discharge from Ward B4 today!", "Bethan"),
        # Family titles, relatives, "is 101", wristbands, a child named through a parent.
        ("Nana Pat had her Covid booster with us this morning", "Nana Pat"),
        ("Thank you for looking after my dad Ron through his last days", "my dad Ron"),
        ("Pat is 101 and had her flu jab at the hub", "Pat is 101"),
        ("WILLIAMS, Carys: discharged from Ward 3", "WILLIAMS, Carys"),
        ("Harvey's mum says he has the all clear from his cancer", "Harvey's mum"),
        ("Meet Tariq, a 16-year-old from Luton, who has type 1 diabetes", "Tariq, a 16-year-old"),
        # Officials and volunteers are patients when the sentence is about their own health.
        ("Cllr Morag Fraser had her mammogram at the clinic this week", "Morag Fraser"),
        ("Our renal team cheer on Mr Oyelaran, who starts home dialysis this week", "Mr Oyelaran"),
    ],
)
def test_patients_named_in_other_shapes_are_found(text: str, who: str) -> None:
    assert who in spans(text, "patient-details")[0]


@pytest.mark.parametrize(
    "text",
    [
        # A donor beside a unit named for a condition; a teacher's class; a Welsh hospital.
        "Mr Evans the butcher in Bala has donated a hamper to our raffle for the cancer unit",
        "Mrs Hughes' Year 3 class sang carols on the children's ward this afternoon",
        "Our new scanner arrives at Ysbyty Glan Clwyd on Monday, cutting waits for MRI",
        # A dictionary name at the start of a sentence is no one; a named storm is weather.
        "Storm warning: the minor injuries unit in Oban will close at 4pm today",
        "Storm Arwen closed the road to the hospital, so the stroke clinic moved online",
    ],
)
def test_near_misses_in_the_new_shapes_pass(text: str) -> None:
    assert findings(text, "patient-details") == []


@pytest.mark.parametrize(
    "text",
    [
        # A surname that is also a first name, after the first name: the full name is judged.
        "Happy birthday to Sister Carys Bevan on the stroke ward today!",
        # Words of a named place, and a first name that is only a word at a sentence's start.
        "Florence Nightingale Ward reopens on Monday after a deep clean",
        "Carol singers from St Aidan's visited the children's ward on Sunday",
    ],
)
def test_a_first_name_in_a_run_of_names_or_opening_a_sentence_is_not_taken_alone(
    text: str,
) -> None:
    assert findings(text, "patient-details") == []


def test_a_family_named_with_its_health_is_found() -> None:
    text = "Say hello to the Murphy twins, born on Christmas Eve in our maternity unit"
    assert spans(text, "patient-details") == ["the Murphy twins"]
