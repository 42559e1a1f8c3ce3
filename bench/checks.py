"""Benchmark the content checks: run_checks on one post, and riskcheck's throughput.

    .venv/bin/python -m bench.checks

1. run_checks on one realistic 280-character post, many times: median and p95, against a
   baseline measured the same way in the same run (re.findall(r"\\w+") over the same text).
   Also over distinct posts, so the engine's small caches (phone numbers, syllables) miss.
2. riskcheck's throughput: corpus-like posts piped through the real command in a subprocess,
   against a subprocess that only parses and echoes JSON lines through Python.

Prints the figures and writes them to bench/results/checks.json. No Django setup is needed for
part 1: the engine is pure Python.
"""

from __future__ import annotations

import json
import os
import platform
import random
import re
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

from sandbox.checks import run_checks  # noqa: E402

RESULTS = REPO_ROOT / "bench" / "results" / "checks.json"
REPETITIONS = 5_000
DISTINCT_POSTS = 1_000
PIPED_POSTS = 5_000

POST = (
    "Join us at St Mary's on Saturday for #MentalHealthAwareness week 🎉 Drop-in sessions "
    "10am to 4pm, no appointment needed. Call 0141 211 4000 or visit "
    "https://www.nhsinform.scot/mental-health for details. Thanks to @NHSGGC staff and all "
    "the volunteers who made it happen today! #NHS"
)
ECHO = (
    "import json, sys\n"
    "for line in sys.stdin.buffer:\n"
    "    item = json.loads(line)\n"
    "    sys.stdout.write(json.dumps({'id': item['id'], 'findings': []}) + '\\n')\n"
    "    sys.stdout.flush()\n"
)


def timings_ns(call: Callable[[], object], repetitions: int) -> list[int]:
    for _ in range(100):
        call()
    out = []
    for _ in range(repetitions):
        started = time.perf_counter_ns()
        call()
        out.append(time.perf_counter_ns() - started)
    return out


def summary_us(samples: list[int]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "median_us": round(statistics.median(ordered) / 1000, 2),
        "p95_us": round(ordered[int(len(ordered) * 0.95) - 1] / 1000, 2),
    }


def distinct_posts(count: int) -> list[str]:
    rng = random.Random(280)
    words = ["flu", "vaccine", "winter", "carers", "dementia", "stroke", "asthma", "kindness"]
    posts = []
    for n in range(count):
        number = f"0141 {rng.randrange(200, 999)} {rng.randrange(1000, 9999)}"
        post = POST.replace("0141 211 4000", number).replace("Saturday", f"day {n}")
        posts.append(post.replace("MentalHealthAwareness", rng.choice(words) + str(n)))
    return posts


def corpus_texts() -> list[str]:
    shared = os.environ.get("SANDPIT_SHARED_DIR")
    path = (Path(shared) if shared else REPO_ROOT.parent / "shared") / "risk-corpus/examples.jsonl"
    if not path.is_file():
        sys.exit(
            f"Risk corpus not found at {path}: "
            "put shared/ beside the repository or set SANDPIT_SHARED_DIR"
        )
    return [
        json.loads(line)["text"] for line in path.read_text(encoding="utf-8").splitlines() if line
    ]


def piped(command: list[str], stdin: bytes) -> tuple[float, int]:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings"}
    started = time.perf_counter()
    result = subprocess.run(command, input=stdin, capture_output=True, cwd=REPO_ROOT, env=env)
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        sys.exit(f"{' '.join(command)} failed:\n{result.stderr.decode()}")
    return elapsed, result.stdout.count(b"\n")


def throughput(command: list[str], stdin: bytes, posts: int) -> dict[str, float]:
    empty, _ = piped(command, b"")
    full, lines = piped(command, stdin)
    if lines != posts:
        sys.exit(f"{' '.join(command)} wrote {lines} lines for {posts} posts")
    return {
        "seconds": round(full, 3),
        "startup_seconds": round(empty, 3),
        "posts_per_second": round(posts / full, 1),
        # Startup is paid once per batch; this is the rate once running.
        "posts_per_second_after_startup": round(posts / max(full - empty, 1e-9), 1),
    }


def main() -> None:
    print(f"One post of {len(POST)} characters, {REPETITIONS} runs each")
    baseline = summary_us(timings_ns(lambda: re.findall(r"\w+", POST), REPETITIONS))
    same = summary_us(timings_ns(lambda: run_checks(POST), REPETITIONS))
    posts = iter(distinct_posts(DISTINCT_POSTS + 100))
    distinct = summary_us(timings_ns(lambda: run_checks(next(posts)), DISTINCT_POSTS))
    ratio = round(same["median_us"] / baseline["median_us"], 1)
    for label, figures in (
        ("baseline re.findall(r'\\w+')", baseline),
        ("run_checks, same post", same),
        ("run_checks, distinct posts", distinct),
    ):
        print(f"  {label:29} median {figures['median_us']:>8} us   p95 {figures['p95_us']:>8} us")
    print(f"  run_checks median is {ratio}x the baseline")

    texts = corpus_texts()
    stdin = "".join(
        json.dumps({"id": f"b{n}", "text": texts[n % len(texts)]}) + "\n"
        for n in range(PIPED_POSTS)
    ).encode()
    print(f"\n{PIPED_POSTS} corpus posts piped through a subprocess")
    echo = throughput([sys.executable, "-c", ECHO], stdin, PIPED_POSTS)
    command = throughput([sys.executable, "manage.py", "riskcheck"], stdin, PIPED_POSTS)
    for name, figures in (("baseline echo", echo), ("riskcheck", command)):
        print(
            f"  {name:14} {figures['posts_per_second']:>9} posts/s, "
            f"{figures['posts_per_second_after_startup']:>9} posts/s after "
            f"{figures['startup_seconds']} s startup"
        )

    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(
        json.dumps(
            {
                "python": platform.python_version(),
                "machine": platform.machine(),
                "post_chars": len(POST),
                "repetitions": REPETITIONS,
                "baseline_findall": baseline,
                "run_checks_same_post": same,
                "run_checks_distinct_posts": distinct,
                "run_checks_vs_baseline_median": ratio,
                "piped_posts": PIPED_POSTS,
                "echo_subprocess": echo,
                "riskcheck": command,
                "riskcheck_vs_echo_after_startup": round(
                    command["posts_per_second_after_startup"]
                    / echo["posts_per_second_after_startup"],
                    3,
                ),
            },
            indent=2,
        )
        + "\n",
        encoding="utf-8",
    )
    print(f"\nWrote {RESULTS.relative_to(REPO_ROOT)}")


if __name__ == "__main__":
    main()
