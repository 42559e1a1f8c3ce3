"""Sandpit's own labelled corpus for the risk checks, and how it is scored.

Each ``*.jsonl`` file here holds realistic NHS and council posts written for this project, one
JSON object a line:

    {"text": "...", "expect": ["patient-details"]}                 the codes the post should get
    {"text": "...", "alt": ["an image's description", ""], ...}     its images' alt text
    {"text": "...", "thread": ["the other posts of its thread"], ...}
    {"text": "...", "today": "2026-04-20", "pre_election": [["2026-03-26", "2026-05-07"]], ...}

``expect`` is complete: every code the post should get, from its text or its images'
descriptions, and none other. Each check is scored on every post: a post it flags and should
is a true positive, one it flags and should not a false positive, one it misses a false
negative. The corpus lives with the tests, not in the product: it is how the checks are
measured (tests/sandbox/checks/test_own_corpus.py, bench/checks.py), not something they use.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from sandbox.checks import CODES, CheckContext, MediaInfo, run_checks

HERE = Path(__file__).resolve().parent
GOAL = 0.95


@dataclass(frozen=True)
class Example:
    source: str  # file:line
    text: str
    expect: frozenset[str]
    alt: tuple[str, ...] = ()
    thread: tuple[str, ...] = ()
    today: date | None = None
    pre_election: tuple[tuple[date, date], ...] = ()

    @property
    def context(self) -> CheckContext:
        return CheckContext(
            media=tuple(MediaInfo(alt_text=a) for a in self.alt),
            thread=self.thread,
            today=self.today,
            pre_election_periods=self.pre_election,
        )

    def found(self) -> frozenset[str]:
        return frozenset(f.code for f in run_checks(self.text, context=self.context))


def _example(source: str, raw: dict[str, Any]) -> Example:
    unknown = set(raw["expect"]) - set(CODES)
    if unknown:
        raise ValueError(f"{source}: unknown codes {sorted(unknown)}")
    return Example(
        source=source,
        text=raw["text"],
        expect=frozenset(raw["expect"]),
        alt=tuple(raw.get("alt", ())),
        thread=tuple(raw.get("thread", ())),
        today=date.fromisoformat(raw["today"]) if raw.get("today") else None,
        pre_election=tuple(
            (date.fromisoformat(a), date.fromisoformat(b)) for a, b in raw.get("pre_election", ())
        ),
    )


def load() -> list[Example]:
    examples = []
    for path in sorted(HERE.glob("*.jsonl")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if line.strip():
                examples.append(_example(f"{path.name}:{number}", json.loads(line)))
    return examples


@dataclass
class Score:
    code: str
    true_positives: int = 0
    false_positives: int = 0
    false_negatives: int = 0
    misses: list[str] = field(default_factory=list)  # sources of wrong answers, for reports

    @property
    def positives(self) -> int:
        return self.true_positives + self.false_negatives

    @property
    def precision(self) -> float:
        flagged = self.true_positives + self.false_positives
        return self.true_positives / flagged if flagged else 1.0

    @property
    def recall(self) -> float:
        return self.true_positives / self.positives if self.positives else 1.0

    def meets(self, goal: float = GOAL) -> bool:
        return self.precision >= goal and self.recall >= goal


def score(examples: list[Example]) -> dict[str, Score]:
    scores = {code: Score(code) for code in CODES}
    for example in examples:
        found = example.found()
        for code, s in scores.items():
            expected, got = code in example.expect, code in found
            if expected and got:
                s.true_positives += 1
            elif got:
                s.false_positives += 1
                s.misses.append(f"FP {example.source}")
            elif expected:
                s.false_negatives += 1
                s.misses.append(f"FN {example.source}")
    return scores
