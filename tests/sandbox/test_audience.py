"""The simulated audience: rules driven by what was written, seeded plans, personas, scenarios."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sandbox.audience import (
    MAX_REACTIONS,
    PLACEHOLDERS,
    RULES,
    AudiencePlan,
    Curve,
    counts_at,
    explain,
    plan,
)
from sandbox.checks import Finding
from sandbox.personas import PERSONA_KINDS, PERSONAS, persona
from sandbox.scenario_scripts import SCENARIOS, load_scenario, scenario
from sandbox.tweet_text import parse_tweet

PLEDGE = "We'll donate £1 to the hospital charity for every retweet this gets!"
BLAND = "Our new community clinic in Kelderby opens on Monday at 9am."
QUESTION = "What would make your visit to the clinic easier?"
HASHTAG = "This week we're backing #DementiaAwarenessWeek. Find your nearest memory cafe."
NHS_NUMBER = "Lovely to see the patient with NHS number 943 476 5919 going home today."
NAMED_PATIENT = "Get well soon to Margaret Jones, recovering from her stroke on Ward 7."
HOUR = 60 * 60
SEEDS = range(20)


def _contrast_with_white(colour: str) -> float:
    def channel(pair: str) -> float:
        c = int(pair, 16) / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(colour[i : i + 2]) for i in (1, 3, 5))
    return 1.05 / (0.2126 * r + 0.7152 * g + 0.0722 * b + 0.05)


# --- Seeding ---------------------------------------------------------------------------------


@pytest.mark.parametrize("text", [PLEDGE, BLAND, QUESTION, HASHTAG, NAMED_PATIENT])
def test_the_same_text_and_seed_give_the_same_plan(text: str) -> None:
    assert plan(text, seed=7) == plan(text, seed=7)
    assert plan(text, seed=7).as_dict() == plan(text, seed=7).as_dict()


def test_another_seed_picks_differently_but_the_same_rules_fire() -> None:
    first, second = plan(PLEDGE, seed=1), plan(PLEDGE, seed=2)
    assert first.rules == second.rules
    assert first.curves == second.curves
    assert first.reactions != second.reactions


# --- What was written drives what happens ----------------------------------------------------


def test_an_engagement_pledge_goes_viral() -> None:
    pledge = plan(PLEDGE, seed=3)
    assert "pledge" in pledge.rules
    reposts = [counts_at(pledge, minute * 60)["reposts"] for minute in range(0, 61)]
    assert reposts[0] == 0
    assert reposts == sorted(reposts)
    assert 10_000 < reposts[60] <= 14_268
    # Still building after ten minutes: it rises over tens of minutes, not at once.
    assert reposts[10] < 2_000
    assert reposts[60] > 100 * counts_at(plan(BLAND, seed=3), HOUR)["reposts"] + 1_000


def test_a_pledge_never_passes_the_real_case_even_with_other_rules() -> None:
    loud = plan(PLEDGE + " #NHSCharity Any questions? https://nhs.uk", seed=1)
    assert {"pledge", "hashtag-campaign", "question", "link"} <= set(loud.rules)
    assert loud.curves["reposts"].total == 14_268
    assert counts_at(loud, 10 * HOUR)["reposts"] == 14_268


@pytest.mark.parametrize("seed", SEEDS)
def test_a_bland_post_draws_little(seed: int) -> None:
    bland = plan(BLAND, seed=seed)
    assert bland.rules == ("baseline",)
    counts = counts_at(bland, 10 * HOUR)
    assert counts["likes"] < 20
    assert counts["replies"] <= 1
    assert counts["reposts"] <= 2


@pytest.mark.parametrize("text", [NHS_NUMBER, NAMED_PATIENT, "Mrs Patel is doing well after chemo"])
@pytest.mark.parametrize("seed", SEEDS)
def test_patient_details_draw_confidentiality_complaints(text: str, seed: int) -> None:
    complaints = [
        r
        for r in plan(text, seed=seed).reactions
        if r.rule == "confidentiality" and r.kind == "reply"
    ]
    assert complaints
    assert all(
        any(word in r.text.lower() for word in ("patient", "medical", "privacy", "confidential"))
        for r in complaints
    )


@pytest.mark.parametrize(
    "text",
    [
        "Dementia Action Week starts today: find a memory cafe near you.",
        "Our stroke unit at Kelderby General has new visiting times.",
        "Happy Monday! Flu and covid jabs are available at Kelderby Leisure Centre.",
        "Margaret Jones joins the board as chair today.",
    ],
)
def test_a_condition_or_a_name_alone_is_not_a_patient_detail(text: str) -> None:
    assert "confidentiality" not in plan(text, seed=1).rules


@pytest.mark.parametrize("seed", SEEDS)
def test_a_question_draws_answers(seed: int) -> None:
    asked = plan(QUESTION, seed=seed)
    answers = [r for r in asked.reactions if r.rule == "question"]
    assert len(answers) >= 2
    assert all(r.kind == "reply" for r in answers)
    assert counts_at(asked, HOUR)["replies"] > counts_at(plan(BLAND, seed=seed), HOUR)["replies"]


def test_a_question_mark_inside_a_link_is_not_a_question() -> None:
    assert "question" not in plan("Opening times: https://nhs.uk/clinic?site=2", seed=1).rules


def test_a_hashtag_campaign_draws_more_reposts_than_a_bland_post() -> None:
    campaign = plan(HASHTAG, seed=5)
    assert "hashtag-campaign" in campaign.rules
    assert counts_at(campaign, HOUR)["reposts"] > counts_at(plan(BLAND, seed=5), HOUR)["reposts"]
    quoted = [r.text for r in campaign.reactions if r.rule == "hashtag-campaign"]
    assert any("#DementiaAwarenessWeek" in text for text in quoted) or not quoted


@pytest.mark.parametrize("seed", SEEDS)
def test_swearing_brings_the_journalist_with_a_screenshot(seed: int) -> None:
    swore = plan("This bloody car park is a shit show.", seed=seed)
    journalist = [r for r in swore.reactions if persona(r.persona).kind == "journalist"]
    assert "profanity" in swore.rules
    assert any("screenshot" in r.text.lower() for r in journalist)


@pytest.mark.parametrize("seed", SEEDS)
def test_a_phone_number_draws_is_this_your_personal_number(seed: int) -> None:
    rang = plan("Any problems, ring Jo on 07700 900123.", seed=seed)
    assert any("personal number" in r.text for r in rang.reactions if r.rule == "phone-number")


@pytest.mark.parametrize("seed", SEEDS)
def test_shouting_draws_the_troll(seed: int) -> None:
    shouted = plan("BINS WILL NOT BE COLLECTED THIS WEEK SO STOP ASKING.", seed=seed)
    assert "shouting" in shouted.rules
    assert any(persona(r.persona).kind == "troll" for r in shouted.reactions)


def test_a_link_draws_views() -> None:
    linked = plan(BLAND + " Details: https://nhs.uk/clinic", seed=1)
    assert "link" in linked.rules
    assert counts_at(linked, HOUR)["views"] > counts_at(plan(BLAND, seed=1), HOUR)["views"]


def test_findings_given_are_used_instead_of_running_the_checks() -> None:
    assert "pledge" not in plan(PLEDGE, seed=1, findings=[]).rules
    pledge = Finding("engagement-pledge", "block", 0, len(BLAND), "a pledge")
    assert "pledge" in plan(BLAND, seed=1, findings=[pledge]).rules


# --- The shape of a plan ---------------------------------------------------------------------


@pytest.mark.parametrize("text", [PLEDGE, NAMED_PATIENT, QUESTION, HASHTAG])
@pytest.mark.parametrize("seed", range(5))
def test_reactions_arrive_in_order_within_half_an_hour_from_real_personas(
    text: str, seed: int
) -> None:
    planned = plan(text, seed=seed)
    times = [r.at_seconds for r in planned.reactions]
    assert times == sorted(times)
    assert all(30 <= t <= 30 * 60 for t in times)
    assert len(planned.reactions) <= MAX_REACTIONS
    assert all(persona(r.persona) for r in planned.reactions)
    assert all(r.rule in planned.rules for r in planned.reactions)
    assert all("{" not in r.text for r in planned.reactions)


def test_everything_at_once_stays_within_the_reaction_cap() -> None:
    everything = (
        "PLEASE RETWEET NOW: £1 for every retweet! Margaret Jones had a stroke, NHS no "
        "943 476 5919. Ring 07700 900123 or jo@example.com, SW1A 1AA. Shit. Why? #Help "
        "https://nhs.uk"
    )
    planned = plan(everything, seed=1)
    assert len(planned.rules) >= 9
    assert len(planned.reactions) <= MAX_REACTIONS


def test_replies_are_counted_as_they_arrive() -> None:
    asked = plan(QUESTION, seed=1)
    first = asked.reactions[0].at_seconds
    assert counts_at(asked, first - 1)["replies"] == 0
    assert counts_at(asked, first)["replies"] == 1
    assert counts_at(asked, HOUR)["replies"] == len(asked.reactions)


def test_quotes_on_the_timeline_are_counted_even_before_the_curve_catches_up() -> None:
    swore = plan("What a shit morning.", seed=1)
    quotes = [r for r in swore.reactions if r.kind == "quote"]
    assert quotes
    assert counts_at(swore, quotes[0].at_seconds)["quotes"] >= 1


@pytest.mark.parametrize("text", [PLEDGE, BLAND, NAMED_PATIENT, HASHTAG])
def test_plans_round_trip_through_json(text: str) -> None:
    planned = plan(text, seed=11)
    stored = json.loads(json.dumps(planned.as_dict()))
    assert AudiencePlan.from_dict(stored) == planned
    assert AudiencePlan.from_dict(stored).as_dict() == planned.as_dict()


@pytest.mark.parametrize(
    "damage",
    [
        lambda d: d.pop("curves"),
        lambda d: d.update(version=99),
        lambda d: d["curves"].pop("likes"),
        lambda d: d["reactions"].append({"at_seconds": 1}),
        lambda d: d["reactions"].append(
            {"at_seconds": 1, "persona": "x", "kind": "like", "text": "", "rule": "x"}
        ),
        lambda d: d["curves"]["likes"].update(steepness=0),
    ],
)
def test_a_damaged_stored_plan_is_a_value_error(damage: Any) -> None:
    stored = plan(QUESTION, seed=1).as_dict()
    damage(stored)
    with pytest.raises(ValueError):
        AudiencePlan.from_dict(stored)


def test_a_plans_curves_cannot_be_changed() -> None:
    planned = plan(BLAND, seed=1)
    with pytest.raises(TypeError):
        planned.curves["likes"] = Curve(1, 1, 1)


# --- Curves ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "curve",
    [
        Curve(14_268, 25 * 60, 0.004),
        Curve(9, 0, 0.01),
        Curve(1, 60, 5),
        Curve(1_000_000, 30 * 60, 1e-5),
        Curve(0, 60, 0.1),
    ],
)
def test_a_curve_starts_at_zero_rises_and_approaches_its_total(curve: Curve) -> None:
    assert curve.value_at(0) == 0
    assert curve.value_at(-60) == 0
    assert curve.value_at(float("nan")) == 0
    values = [curve.value_at(t) for t in range(0, 4 * HOUR, 7)]
    assert values == sorted(values)
    assert all(0 <= v <= curve.total for v in values)
    assert curve.value_at(10_000 * HOUR) == curve.total
    assert curve.value_at(float("inf")) == curve.total


@pytest.mark.parametrize(
    "args", [(-1, 60, 0.1), (10, -1, 0.1), (10, 60, 0), (10, 60, float("nan")), (1.5, 60, 0.1)]
)
def test_a_curve_with_impossible_numbers_is_refused(args: tuple[Any, Any, Any]) -> None:
    with pytest.raises(ValueError):
        Curve(*args)


# --- The rules table -------------------------------------------------------------------------


def test_explain_lists_the_pledge_rule_for_a_pledge() -> None:
    explained = dict(explain(PLEDGE))
    assert "pledge" in explained
    assert "14,268" in explained["pledge"]
    assert [rule_id for rule_id, _ in explain(BLAND)] == ["baseline"]


def test_explain_and_plan_agree() -> None:
    for text in (PLEDGE, BLAND, QUESTION, HASHTAG, NAMED_PATIENT):
        assert tuple(rule_id for rule_id, _ in explain(text)) == plan(text, seed=0).rules


def test_the_rules_table_is_readable_and_safe() -> None:
    ids = [rule.id for rule in RULES]
    assert len(ids) == len(set(ids))
    assert RULES[0].id == "baseline"
    for rule in RULES:
        assert rule.description.strip().endswith(".")
        assert rule.picks <= len(rule.says)
        for say in rule.says:
            assert say.who in PERSONA_KINDS
            assert say.kind in ("reply", "quote")
            rendered = say.text.format_map(dict.fromkeys(PLACEHOLDERS, "@x"))
            assert parse_tweet(rendered).weighted_length <= 280


# --- Personas --------------------------------------------------------------------------------


def test_the_persona_pack() -> None:
    kinds = [p.kind for p in PERSONAS]
    for kind in ("health-board", "council", "local-news", "journalist", "campaigner", "troll"):
        assert kind in kinds
    assert 4 <= kinds.count("public") <= 5
    assert len({p.slug for p in PERSONAS}) == len(PERSONAS)
    assert len({p.handle.lower() for p in PERSONAS}) == len(PERSONAS)
    for p in PERSONAS:
        assert not p.handle.startswith("@")
        assert p.kind in PERSONA_KINDS
        assert p.bio and p.name and p.initials
        assert _contrast_with_white(p.colour) >= 4.5
        assert persona(p.slug) is p


def test_an_unknown_persona_is_a_key_error() -> None:
    with pytest.raises(KeyError, match="nobody"):
        persona("nobody")


# --- Scenarios -------------------------------------------------------------------------------


def test_the_three_example_scenarios_ship_and_load() -> None:
    assert sorted(s.slug for s in SCENARIOS) == [
        "phone-lines-down-drill",
        "service-change-pile-on",
        "vaccine-clinic-rumour",
    ]
    for s in SCENARIOS:
        assert 5 <= len(s.items) <= 8
        assert s.items[0].kind == "post"
        assert s.items[-1].offset_seconds <= 25 * 60
        assert scenario(s.slug) is s
        for item in s.items:
            assert persona(item.persona)
            assert parse_tweet(item.text).weighted_length <= 280


GOOD_SCENARIO: dict[str, Any] = {
    "slug": "bin-strike",
    "title": "Bin strike",
    "description": "Collections are late.",
    "items": [
        {"offset_seconds": 0, "persona": "kelderby-council", "kind": "post", "text": "Bins late."},
        {"offset_seconds": 60, "persona": "dave-hollins", "kind": "reply", "text": "Again?"},
    ],
}


def _with(change: Any) -> dict[str, Any]:
    data = copy.deepcopy(GOOD_SCENARIO)
    change(data)
    return data


def test_a_good_scenario_loads() -> None:
    loaded = load_scenario(GOOD_SCENARIO)
    assert loaded.slug == "bin-strike"
    assert load_scenario(_with(lambda d: d.update(description=""))).description == ""
    assert [(i.offset_seconds, i.persona, i.kind) for i in loaded.items] == [
        (0, "kelderby-council", "post"),
        (60, "dave-hollins", "reply"),
    ]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            ["not", "an", "object"],
            "A scenario must be a JSON object with slug, title, description and items.",
        ),
        (_with(lambda d: d.pop("title")), "The scenario has no 'title'."),
        (
            _with(lambda d: d.update(colour="red")),
            "The scenario has an unknown field 'colour'. Use only: slug, title, description, "
            "items.",
        ),
        (
            _with(lambda d: d.update(slug="Bin Strike")),
            "The scenario's slug 'Bin Strike' must be lower-case words joined by hyphens, "
            "like 'clinic-rumour'.",
        ),
        (_with(lambda d: d.update(title="  ")), "The scenario's title is empty."),
        (_with(lambda d: d.update(description=None)), "The scenario's description must be text."),
        (
            _with(lambda d: d.update(items=[])),
            "The scenario has no items. Add at least one post.",
        ),
        (
            _with(lambda d: d["items"][1].update(persona="bob")),
            "Item 2: there is no persona 'bob'. Use one of: "
            + ", ".join(p.slug for p in PERSONAS)
            + ".",
        ),
        (
            _with(lambda d: d["items"][0].update(offset_seconds=-5)),
            "Item 1: offset_seconds must be a whole number of seconds from the start, 0 or more "
            "(it is -5).",
        ),
        (
            _with(lambda d: d["items"][0].update(offset_seconds="10")),
            "Item 1: offset_seconds must be a whole number of seconds from the start, 0 or more "
            "(it is '10').",
        ),
        (_with(lambda d: d["items"][1].update(text=" \n")), "Item 2: the text is empty."),
        (
            _with(lambda d: d["items"][1].update(text="a" * 281)),
            "Item 2: the text is 281 characters as X counts them. The limit is 280.",
        ),
        (
            # CJK characters weigh two each on X.
            _with(lambda d: d["items"][1].update(text="病" * 141)),
            "Item 2: the text is 282 characters as X counts them. The limit is 280.",
        ),
        (
            _with(lambda d: d["items"][1].update(kind="comment")),
            "Item 2: kind must be 'post' or 'reply' (it is 'comment').",
        ),
        (_with(lambda d: d["items"][1].pop("text")), "Item 2 has no 'text'."),
        (
            _with(lambda d: d["items"][1].update(offset=60)),
            "Item 2 has an unknown field 'offset'. Use only: offset_seconds, persona, kind, text.",
        ),
        (
            _with(lambda d: d["items"][1].update(offset_seconds=0) or d["items"].reverse()),
            "Item 1 is a reply, but there is no post before it to reply to.",
        ),
        (
            _with(lambda d: d["items"][0].update(offset_seconds=120)),
            "Item 2 is at 60 seconds, before item 1 at 120 seconds. List the items in time order.",
        ),
    ],
)
def test_a_bad_scenario_says_what_to_fix(data: Any, message: str) -> None:
    with pytest.raises(ValueError) as caught:
        load_scenario(data)
    assert str(caught.value) == message


# --- Never raises ----------------------------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(st.text(), st.integers())
def test_any_text_gets_a_plan(text: str, seed: int) -> None:
    planned = plan(text, seed=seed)
    assert planned.rules[0] == "baseline"
    assert AudiencePlan.from_dict(json.loads(json.dumps(planned.as_dict()))) == planned
    assert [rule_id for rule_id, _ in explain(text)] == list(planned.rules)
    counts_at(planned, 90)
