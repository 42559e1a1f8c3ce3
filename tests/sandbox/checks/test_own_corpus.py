"""Sandpit's own labelled corpus (tests/sandbox/checks/corpus): every check at 0.95 or better.

`python -m bench.checks` prints the same figures with the posts each check gets wrong.
"""

from __future__ import annotations

from collections import Counter

import pytest

from sandbox.checks import CODES
from tests.sandbox.checks.corpus import GOAL, load, score

EXAMPLES = load()
SCORES = score(EXAMPLES)


def test_the_corpus_is_large_and_mostly_negative() -> None:
    assert len(EXAMPLES) >= 400
    assert sum(1 for e in EXAMPLES if not e.expect) >= len(EXAMPLES) / 2
    assert len({e.text for e in EXAMPLES}) >= len(EXAMPLES) - 10  # a few texts differ by context


def test_every_check_has_positives_to_be_measured_on() -> None:
    positives = Counter(code for e in EXAMPLES for code in e.expect)
    assert {code: positives[code] for code in CODES if positives[code] < 4} == {}


@pytest.mark.parametrize("code", CODES)
def test_each_check_meets_the_goal_on_the_corpus(code: str) -> None:
    s = SCORES[code]
    wrong = "\n".join(s.misses)
    assert s.precision >= GOAL, f"{code} precision {s.precision:.3f}:\n{wrong}"
    assert s.recall >= GOAL, f"{code} recall {s.recall:.3f}:\n{wrong}"
