"""Scenarios: timed scripts of posts and replies from personas that a coach runs for a
cohort. The shipped examples are read once from data/scenarios/; a coach's own are checked
by load_scenario, which says what to fix."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path
from typing import Any, Literal

from sandbox.personas import PERSONAS_BY_SLUG, SLUG
from sandbox.tweet_text import parse_tweet

_DATA = Path(__file__).resolve().parent / "data"

ItemKind = Literal["post", "reply"]
_MAX_WEIGHTED_LENGTH = 280

# Where a scenario's text addresses the organisation's own account it says "@{account}",
# and each run puts in the handle of the account the trainee answers as (@NHSDemoBoard),
# so the people in the scenario talk to the account the trainee is practising for.
ACCOUNT = "@{account}"
# With no account to name, the scenarios' own health board (a persona).
DEFAULT_ACCOUNT_HANDLE = "NHSKelderby"
_LONGEST_HANDLE = "x" * 15  # X's limit: a text must fit whichever handle it is given


def addressed_to(text: str, handle: str) -> str:
    return text.replace(ACCOUNT, f"@{handle}")


@dataclass(frozen=True)
class ScenarioItem:
    offset_seconds: int  # from the start of the scenario
    persona: str  # a persona slug
    kind: ItemKind  # a reply answers the latest post before it in the scenario
    text: str


@dataclass(frozen=True)
class Scenario:
    slug: str
    title: str
    description: str
    items: tuple[ScenarioItem, ...]  # in time order


_SCENARIO_FIELDS = ("slug", "title", "description", "items")
_ITEM_FIELDS = ("offset_seconds", "persona", "kind", "text")


def load_scenario(data: Mapping[str, Any]) -> Scenario:
    """A Scenario from its JSON form, or a ValueError that tells the coach what to fix."""
    if not isinstance(data, Mapping):
        raise ValueError(
            "A scenario must be a JSON object with slug, title, description and items."
        )
    for field in _SCENARIO_FIELDS:
        if field not in data:
            raise ValueError(f"The scenario has no {field!r}.")
    for field in data:
        if field not in _SCENARIO_FIELDS:
            raise ValueError(
                f"The scenario has an unknown field {field!r}. "
                f"Use only: {', '.join(_SCENARIO_FIELDS)}."
            )
    slug = data["slug"]
    if not isinstance(slug, str) or not SLUG.fullmatch(slug):
        raise ValueError(
            f"The scenario's slug {slug!r} must be lower-case words joined by hyphens, "
            "like 'clinic-rumour'."
        )
    if not isinstance(data["title"], str) or not data["title"].strip():
        raise ValueError("The scenario's title is empty.")
    # The description is optional: a coach may only want a title.
    if not isinstance(data["description"], str):
        raise ValueError("The scenario's description must be text.")
    if not isinstance(data["items"], list) or not data["items"]:
        raise ValueError("The scenario has no items. Add at least one post.")
    items = tuple(_load_item(number, item) for number, item in enumerate(data["items"], start=1))
    for number, (before, item) in enumerate(pairwise(items), start=2):
        if item.offset_seconds < before.offset_seconds:
            raise ValueError(
                f"Item {number} is at {item.offset_seconds} seconds, before item {number - 1} "
                f"at {before.offset_seconds} seconds. List the items in time order."
            )
    if items[0].kind == "reply":
        raise ValueError("Item 1 is a reply, but there is no post before it to reply to.")
    return Scenario(slug, data["title"].strip(), data["description"].strip(), items)


def _load_item(number: int, item: object) -> ScenarioItem:
    where = f"Item {number}"
    if not isinstance(item, Mapping):
        raise ValueError(f"{where} must be an object with {', '.join(_ITEM_FIELDS)}.")
    for field in _ITEM_FIELDS:
        if field not in item:
            raise ValueError(f"{where} has no {field!r}.")
    for field in item:
        if field not in _ITEM_FIELDS:
            raise ValueError(
                f"{where} has an unknown field {field!r}. Use only: {', '.join(_ITEM_FIELDS)}."
            )
    offset = item["offset_seconds"]
    if isinstance(offset, bool) or not isinstance(offset, int) or offset < 0:
        raise ValueError(
            f"{where}: offset_seconds must be a whole number of seconds from the start, "
            f"0 or more (it is {offset!r})."
        )
    slug = item["persona"]
    if not isinstance(slug, str) or slug not in PERSONAS_BY_SLUG:
        raise ValueError(
            f"{where}: there is no persona {slug!r}. Use one of: {', '.join(PERSONAS_BY_SLUG)}."
        )
    kind = item["kind"]
    if kind not in ("post", "reply"):
        raise ValueError(f"{where}: kind must be 'post' or 'reply' (it is {kind!r}).")
    text = item["text"]
    if not isinstance(text, str) or not text.strip():
        raise ValueError(f"{where}: the text is empty.")
    length = parse_tweet(addressed_to(text, _LONGEST_HANDLE)).weighted_length
    if length > _MAX_WEIGHTED_LENGTH:
        raise ValueError(
            f"{where}: the text is {length} characters as X counts them. "
            f"The limit is {_MAX_WEIGHTED_LENGTH}."
        )
    return ScenarioItem(offset, slug, kind, text)


def _load_scenarios(folder: Path) -> tuple[Scenario, ...]:
    scenarios: list[Scenario] = []
    for path in sorted(folder.glob("*.json")):
        try:
            loaded = load_scenario(json.loads(path.read_text(encoding="utf-8")))
        except ValueError as exc:  # json.JSONDecodeError is a ValueError too
            raise ValueError(f"{path.name}: {exc}") from exc
        if loaded.slug != path.stem:
            raise ValueError(f"{path.name}: the slug {loaded.slug!r} must match the file name.")
        scenarios.append(loaded)
    return tuple(scenarios)


SCENARIOS: tuple[Scenario, ...] = _load_scenarios(_DATA / "scenarios")
_SCENARIOS_BY_SLUG = {s.slug: s for s in SCENARIOS}


def scenario(slug: str) -> Scenario:
    try:
        return _SCENARIOS_BY_SLUG[slug]
    except KeyError:
        raise KeyError(f"No scenario {slug!r}.") from None
