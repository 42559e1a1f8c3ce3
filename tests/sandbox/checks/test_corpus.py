"""Every labelled example in the shared risk corpus: each must code found, no must_not code."""

from __future__ import annotations

from typing import Any

import pytest

from sandbox.checks import CODES
from tests.sandbox.checks.helpers import codes, corpus_missing_message, load_corpus


def _examples() -> list[Any]:
    examples = load_corpus()
    if examples is None:
        return [pytest.param(None, id="risk-corpus-missing")]
    return [pytest.param(e, id=str(e.get("id"))) for e in examples]


@pytest.mark.parametrize("example", _examples())
def test_corpus_example(example: dict[str, Any] | None) -> None:
    if example is None:
        pytest.fail(corpus_missing_message())
    unknown = set(example["must"]) | set(example["must_not"])
    assert unknown <= set(CODES), f"the corpus names codes the engine lacks: {unknown - set(CODES)}"

    found = codes(example["text"])

    assert set(example["must"]) <= found, f"missing {set(example['must']) - found}"
    assert not set(example["must_not"]) & found, f"wrongly found {set(example['must_not']) & found}"
