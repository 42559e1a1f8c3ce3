"""`manage.py riskcheck` as a real subprocess: JSON lines in, JSON lines out."""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
from typing import Any

import pytest

from tests.sandbox.checks.helpers import REPO_ROOT, corpus_missing_message, load_corpus

ENV = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings", "PYTHONUNBUFFERED": ""}
COMMAND = [sys.executable, "manage.py", "riskcheck"]


def riskcheck(stdin: bytes, *args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [*COMMAND, *args], input=stdin, capture_output=True, cwd=REPO_ROOT, env=ENV, timeout=120
    )


def output_lines(result: subprocess.CompletedProcess[bytes]) -> list[dict[str, Any]]:
    assert result.returncode == 0, result.stderr.decode()
    return [json.loads(line) for line in result.stdout.decode().splitlines()]


def test_the_corpus_through_the_command() -> None:
    examples = load_corpus()
    if examples is None:
        pytest.fail(corpus_missing_message())
    stdin = "".join(json.dumps({"id": e["id"], "text": e["text"]}) + "\n" for e in examples)

    lines = output_lines(riskcheck(stdin.encode()))

    assert [line["id"] for line in lines] == [e["id"] for e in examples]
    for example, line in zip(examples, lines, strict=True):
        found = {f["code"] for f in line["findings"]}
        assert set(example["must"]) <= found, example["id"]
        assert not set(example["must_not"]) & found, example["id"]
        for finding in line["findings"]:
            assert finding.keys() == {"code", "severity", "start", "end", "message"}


def test_bad_lines_get_an_error_line_and_the_run_carries_on() -> None:
    stdin = b"\n".join(
        [
            b"not json",
            b'{"id": "no-text"}',
            b'{"id": "n", "text": 42}',
            b"[1, 2]",
            b'{"id": "latin1", "text": "caf\xe9"}',
            b"[" * 100_000,
            b"",
            b'{"id": "ok", "text": "Call 07700 900123"}',
        ]
    )

    lines = output_lines(riskcheck(stdin))

    assert [(line["id"], "error" in line) for line in lines] == [
        (None, True),
        ("no-text", True),
        ("n", True),
        (None, True),
        (None, True),
        (None, True),
        ("ok", False),
    ]
    assert lines[1]["error"] == 'This line has no "text".'
    assert [f["code"] for f in lines[-1]["findings"]] == ["phone-number"]


def test_escaped_lone_surrogates_are_checked_and_written_back_as_json() -> None:
    lines = output_lines(riskcheck(b'{"id": 1, "text": "\\ud800 Oh shit"}\n'))
    assert [f["code"] for f in lines[0]["findings"]] == ["profanity"]


def test_the_election_check_follows_today_and_the_periods_given() -> None:
    stdin = b'{"id": 1, "text": "Remember to vote on Thursday"}\n'
    period = ["--pre-election", "2026-03-26:2026-05-07"]

    during = output_lines(riskcheck(stdin, "--today", "2026-04-20", *period))
    after = output_lines(riskcheck(stdin, "--today", "2026-05-08", *period))
    second = output_lines(
        riskcheck(
            stdin, "--today", "2027-04-20", *period, "--pre-election", "2027-04-01:2027-05-06"
        )
    )

    assert [f["code"] for f in during[0]["findings"]] == ["pre-election-period"]
    assert after[0]["findings"] == []
    assert [f["code"] for f in second[0]["findings"]] == ["pre-election-period"]


@pytest.mark.parametrize(
    "args",
    [
        ["--today", "2026-13-01"],
        ["--pre-election", "2026-05-07"],
        ["--pre-election", "2026-05-07:2026-03-26"],
    ],
)
def test_bad_options_are_refused_with_a_message(args: list[str]) -> None:
    result = riskcheck(b"", *args)
    assert result.returncode != 0
    assert b"error: argument" in result.stderr


def test_each_answer_comes_out_before_the_next_post_goes_in() -> None:
    with subprocess.Popen(
        COMMAND, stdin=subprocess.PIPE, stdout=subprocess.PIPE, cwd=REPO_ROOT, env=ENV
    ) as process:
        assert process.stdin is not None and process.stdout is not None
        for n in range(3):
            process.stdin.write(json.dumps({"id": n, "text": "Oh shit"}).encode() + b"\n")
            process.stdin.flush()
            ready, _, _ = select.select([process.stdout], [], [], 60)
            assert ready, "no answer while the input was still open"
            assert json.loads(process.stdout.readline())["id"] == n
        process.stdin.close()
        assert process.wait(timeout=60) == 0
