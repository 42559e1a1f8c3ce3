"""Shared by the checks tests: where the risk corpus lives, and short ways to ask the engine."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from sandbox.checks import CheckContext, Finding, run_checks

REPO_ROOT = Path(__file__).resolve().parents[3]


def corpus_path() -> Path:
    shared = os.environ.get("SANDPIT_SHARED_DIR")
    root = Path(shared) if shared else REPO_ROOT.parent / "shared"
    return root / "risk-corpus" / "examples.jsonl"


def corpus_missing_message() -> str:
    return (
        f"Risk corpus not found or empty at {corpus_path()}: put shared/ beside the repository "
        "or set SANDPIT_SHARED_DIR to the shared folder."
    )


def load_corpus() -> list[dict[str, Any]] | None:
    """The labelled examples, or None when the file is missing or holds none."""
    path = corpus_path()
    if not path.is_file():
        return None
    lines = path.read_text(encoding="utf-8").splitlines()
    examples = [json.loads(line) for line in lines if line.strip()]
    return examples or None


def findings(text: str, code: str, **context: Any) -> list[Finding]:
    return [f for f in run_checks(text, context=CheckContext(**context)) if f.code == code]


def spans(text: str, code: str, **context: Any) -> list[str]:
    """The pieces of text a check points at."""
    return [text[f.start : f.end] for f in findings(text, code, **context)]


def codes(text: str, **context: Any) -> set[str]:
    return {f.code for f in run_checks(text, context=CheckContext(**context))}
