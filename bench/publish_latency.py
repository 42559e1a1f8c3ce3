"""Publish latency and throughput, against a bare Celery round trip measured in the same run.

One worker subprocess (concurrency 2, as in the Procfile; --concurrency) on PostgreSQL
and a private Redis publishes to an X API double with no faults. Figures:

- approve -> live: from the commit of ``review_approve`` to the double storing the post,
  one post at a time (so nothing queues), median and p99;
- sustained publications per second: a batch approved in one transaction (all messages
  leave at its commit), until every publication row is ``published``;
- the baseline: ``coaching.tasks.heartbeat`` (a no-op) ``.delay().get()`` with the Redis
  result backend, median and p99, and no-op tasks per second for a batch of the same size;
- the ratios publish / no-op, i.e. what the pipeline costs over Celery itself; throughput
  is measured in rounds (a publish batch, then a no-op batch), the ratio taken within each
  round and the median reported against the goal (at least 0.30); the exit status is 1
  when it is missed;
- approve -> live for a post with one image (a 1200x675 JPEG with alt text: the worker
  reads it from storage, uploads it, sets its alt text, then creates the post), against
  the text-only median of the same run.

    .venv/bin/python -m bench.publish_latency [--posts 200] [--batch 200] [--image-posts 50]
        [--rounds 5] [--throughput-only]

The worker runs with DEBUG off, as in production.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from bench import _stack

# Suffixed with our pid: concurrent runs must not share (or drop) one database.
DATABASE_PREFIX = "sandpit_latency"
HANDLE = "LatencyBoard"
WARM_UP = 10
# Publications per second against no-op tasks per second in the same run (issue 13).
THROUGHPUT_GOAL = 0.30


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = _stack.command_line(__doc__, "publish_latency.json")
    parser.add_argument("--posts", type=int, default=200, help="posts timed one by one (200)")
    parser.add_argument("--batch", type=int, default=200, help="posts in the throughput batch")
    parser.add_argument(
        "--image-posts", type=int, default=50, help="posts with one image, timed one by one"
    )
    parser.add_argument("--timeout", type=float, default=120.0, help="per-phase limit (s)")
    parser.add_argument(
        "--rounds", type=int, default=5, help="throughput rounds, publish then no-op (5)"
    )
    parser.add_argument(
        "--concurrency",
        type=int,
        default=2,
        help="worker processes, for publish and no-op alike (2, as in the Procfile)",
    )
    parser.add_argument(
        "--throughput-only",
        action="store_true",
        help="skip the one-at-a-time latency phases (the goal is on throughput)",
    )
    args = parser.parse_args(argv)
    if min(args.posts, args.batch, args.image_posts, args.rounds) < 1:
        parser.error("--posts, --batch, --image-posts and --rounds must be at least 1")
    return args


def wait(predicate: Callable[[], bool], timeout: float, what: str, every: float) -> None:
    """Poll a database condition. The interval bounds the timing's resolution; polling
    faster would take CPU from the worker (2 cores), so the intervals are chosen per use."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise _stack.StackError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(every)


def summary(samples: list[float]) -> dict[str, float]:
    return {
        "median_ms": round(statistics.median(samples) * 1000, 2),
        "p99_ms": round(_stack.percentile(samples, 0.99) * 1000, 2),
        "mean_ms": round(statistics.fmean(samples) * 1000, 2),
        "min_ms": round(min(samples) * 1000, 2),
        "max_ms": round(max(samples) * 1000, 2),
        "samples": len(samples),
    }


def approve_timed(cast: _stack.Cast, draft: Any) -> float:
    """Approve; return the monotonic time of the commit. Our on_commit hook is registered
    before review_approve's, so it runs first after COMMIT, before the message is sent."""
    from django.db import transaction

    committed: list[float] = []
    with transaction.atomic():
        transaction.on_commit(lambda: committed.append(time.monotonic()))
        _stack.approve(cast, draft)
    return committed[0]


def measure_publish_latency(
    cast: _stack.Cast, double: _stack.CountingXDouble, texts: list[str], timeout: float
) -> tuple[list[float], list[float]]:
    """Approve -> stored at the double, and approve -> row published, one post at a time."""
    from coaching.models import Publication

    drafts = [_stack.write_and_submit(cast, text) for text in texts]
    to_double: list[float] = []
    to_row: list[float] = []
    for draft, text in zip(drafts, texts, strict=True):
        committed = approve_timed(cast, draft)
        # Timed by the double itself (its store timestamp), no polling involved.
        to_double.append(double.wait_for_text(text, timeout) - committed)
        # The row turns "published" a moment after the double answers; waiting for it
        # too keeps the next post from overlapping this one's bookkeeping.
        published = Publication.objects.filter(draft=draft, status=Publication.Status.PUBLISHED)
        wait(published.exists, timeout, f"publication of {text!r}", every=0.005)
        to_row.append(time.monotonic() - committed)
    return to_double, to_row


def _stamp(times: list[float]) -> None:
    times.append(time.monotonic())


def photo_bytes() -> bytes:
    """A photo-sized JPEG (a gradient, so it compresses like a picture, not a flat fill)."""
    from PIL import Image

    image = Image.linear_gradient("L").resize((1200, 675)).convert("RGB")
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=85)
    return buffer.getvalue()


def measure_image_publish_latency(
    cast: _stack.Cast, double: _stack.CountingXDouble, texts: list[str], timeout: float
) -> tuple[list[float], int]:
    """Approve -> stored at the double for posts with one image each; returns the samples
    and the image's size. The image goes into the approved parts in the approval's own
    transaction, as the composer's approval writes it."""
    import hashlib

    from django.core.files.base import ContentFile
    from django.db import transaction

    from coaching.models import Publication
    from sandbox.models import PostImage

    data = photo_bytes()
    samples: list[float] = []
    images: list[PostImage] = []
    try:
        for text in texts:
            draft = _stack.write_and_submit(cast, text)
            image = PostImage(
                draft=draft,
                uploaded_by=cast.trainee,
                content_type="image/jpeg",
                width=1200,
                height=675,
                size=len(data),
                sha256=hashlib.sha256(data).hexdigest(),
            )
            image.file.save("bench-photo.jpg", ContentFile(data), save=True)
            images.append(image)
            committed: list[float] = []
            with transaction.atomic():
                transaction.on_commit(partial(_stamp, committed))
                _stack.approve(cast, draft)
                publication = Publication.objects.get(draft=draft)
                parts = [dict(publication.parts[0], images=[{"id": image.pk, "alt": "A chart"}])]
                Publication.objects.filter(pk=publication.pk).update(parts=parts)
            samples.append(double.wait_for_text(text, timeout) - committed[0])
            published = Publication.objects.filter(pk=publication.pk, status="published")
            wait(published.exists, timeout, f"publication of {text!r}", every=0.005)
    finally:
        for image in images:
            image.file.delete(save=False)
    return samples, len(data)


def measure_publish_throughput(
    cast: _stack.Cast, double: _stack.CountingXDouble, texts: list[str], timeout: float
) -> dict[str, float]:
    from django.db import transaction

    from coaching.models import Publication

    drafts = [_stack.write_and_submit(cast, text) for text in texts]
    committed: list[float] = []
    # One transaction: every approval commits at once and all the messages leave together
    # at commit, so the clock measures the pipeline draining, not our approving.
    with transaction.atomic():
        transaction.on_commit(lambda: committed.append(time.monotonic()))
        for draft in drafts:
            _stack.approve(cast, draft)
    start = committed[0]
    ids = [draft.pk for draft in drafts]
    done = Publication.objects.filter(draft_id__in=ids, status=Publication.Status.PUBLISHED)
    wait(lambda: done.count() == len(ids), timeout, "the batch to be published", every=0.05)
    all_published = time.monotonic() - start
    last_stored = max(double.stored_at[text] for text in texts) - start
    return {
        "posts": len(texts),
        "seconds_to_all_published": round(all_published, 3),
        "per_second": round(len(texts) / all_published, 1),
        "seconds_to_all_at_double": round(last_stored, 3),
        "per_second_at_double": round(len(texts) / last_stored, 1),
    }


def measure_noop_latency(count: int) -> list[float]:
    from coaching import tasks

    samples = []
    for _ in range(count):
        started = time.monotonic()
        tasks.heartbeat.delay().get(timeout=10)
        samples.append(time.monotonic() - started)
    return samples


def measure_noop_throughput(count: int, timeout: float) -> dict[str, float]:
    from coaching import tasks

    started = time.monotonic()
    results = [tasks.heartbeat.delay() for _ in range(count)]
    for result in results:
        result.get(timeout=timeout)
    elapsed = time.monotonic() - started
    return {"tasks": count, "seconds": round(elapsed, 3), "per_second": round(count / elapsed, 1)}


def run(args: argparse.Namespace) -> dict[str, Any]:
    _stack.require_postgres()
    _stack.quiet_database()
    workdir = Path(tempfile.mkdtemp(prefix="sandpit-latency-"))
    wall_start = time.monotonic()
    with contextlib.ExitStack() as stack:
        stack.callback(shutil.rmtree, workdir, ignore_errors=True)
        redis = _stack.RedisServer(workdir)
        stack.callback(redis.stop)
        redis.start()
        # No faults. X's real create limit (200 per 15 minutes, which the double enforces)
        # would stop the run half-way; a one-second window keeps it out of the figures.
        double = _stack.CountingXDouble(rate_limit_window_seconds=1)
        stack.callback(double.stop)
        double.start()
        token = "latency-bench-token"  # noqa: S105 - the double's, not a secret
        remote_user_id = double.add_user(HANDLE, token=token)

        database = _stack.private_database(DATABASE_PREFIX)
        stack.callback(_stack.drop_database, database)
        _stack.recreate_database(database)
        env = _stack.stack_env(database=database, redis_url=redis.url, x_base_url=double.base_url)
        _stack.setup_django(env)
        _stack.migrate()
        cast = _stack.seed(handle=HANDLE, token=token, remote_user_id=remote_user_id)

        # No beat: nothing here loses messages, and a sweep every 30 s would only add noise.
        worker = _stack.worker_process(env, workdir, concurrency=args.concurrency)
        stack.callback(worker.stop)
        worker.start()
        _stack.wait_for_worker(worker, timeout=60)

        # Warm up both paths: the pool child's first task opens its DB connection and
        # imports lazily; the first publish also builds the HTTP client.
        measure_noop_latency(WARM_UP)
        measure_publish_latency(
            cast, double, [f"Warm-up post {i}" for i in range(WARM_UP)], args.timeout
        )

        latency: dict[str, Any] = {}
        if not args.throughput_only:
            latency = measure_latencies(cast, double, args)
        # Rounds of publish then no-op, each ratio taken within its round: the machine's
        # load drifts over a run, so neighbouring batches are compared, then the median.
        rounds = []
        for number in range(1, args.rounds + 1):
            print(f"round {number}: publish throughput, batch of {args.batch} ...")
            publish_rate = measure_publish_throughput(
                cast, double,
                [f"Batch post {i} of round {number}: clinic update" for i in range(args.batch)],
                args.timeout,
            )  # fmt: skip
            print(f"round {number}: no-op throughput, batch of {args.batch} ...")
            noop_rate = measure_noop_throughput(args.batch, args.timeout)
            rounds.append(
                {
                    "publish": publish_rate,
                    "noop": noop_rate,
                    "ratio": round(publish_rate["per_second"] / noop_rate["per_second"], 3),
                }
            )

    ratio = statistics.median(r["ratio"] for r in rounds)
    report: dict[str, Any] = {
        "throughput": {
            "publish_per_second_median": statistics.median(
                r["publish"]["per_second"] for r in rounds
            ),
            "noop_per_second_median": statistics.median(r["noop"]["per_second"] for r in rounds),
            "ratio_median": ratio,
            "ratio_goal": THROUGHPUT_GOAL,
            "goal_met": ratio >= THROUGHPUT_GOAL,
            "rounds": rounds,
        },
        "config": {
            "worker_concurrency": args.concurrency,
            "debug": False,
            "database": "PostgreSQL",
            "broker": "private redis-server",
            "x_double_faults": "none",
            "batch": args.batch,
        },
    }
    report.update(latency)
    report["wall_seconds"] = round(time.monotonic() - wall_start, 1)
    return report


def measure_latencies(
    cast: _stack.Cast, double: _stack.CountingXDouble, args: argparse.Namespace
) -> dict[str, Any]:
    print(f"publish latency, {args.posts} posts one at a time ...")
    to_double, to_row = measure_publish_latency(
        cast, double, [f"Latency post {i}: clinic update" for i in range(args.posts)],
        args.timeout,
    )  # fmt: skip
    # The worker runs in the checkout (see _stack) and reads images from the same
    # storage as this process: with a relative MEDIA_ROOT, that needs the same cwd.
    os.chdir(_stack.REPO_ROOT)
    print(f"publish latency with one image, {args.image_posts} posts one at a time ...")
    measure_image_publish_latency(
        cast, double, [f"Warm-up image post {i}" for i in range(3)], args.timeout
    )
    with_image, image_bytes = measure_image_publish_latency(
        cast, double, [f"Image post {i}: clinic chart" for i in range(args.image_posts)],
        args.timeout,
    )  # fmt: skip
    print(f"no-op round trip, {args.posts} tasks one at a time ...")
    noop = measure_noop_latency(args.posts)
    publish = summary(to_double)
    baseline = summary(noop)
    image = summary(with_image)
    return {
        "approve_to_live_at_double": publish,
        "approve_to_live_with_one_image": image
        | {
            "image_bytes": image_bytes,
            "median_over_text_only": round(image["median_ms"] / publish["median_ms"], 2),
        },
        "approve_to_row_published": summary(to_row),
        "noop_round_trip": baseline,
        "ratios": {
            "latency_median_publish_over_noop": round(
                publish["median_ms"] / baseline["median_ms"], 2
            ),
            "latency_p99_publish_over_noop": round(publish["p99_ms"] / baseline["p99_ms"], 2),
        },
    }


def print_summary(report: dict[str, Any]) -> None:
    rate = report["throughput"]
    concurrency = report["config"]["worker_concurrency"]
    lines = ["", f"== publish_latency (1 worker, concurrency {concurrency}, DEBUG off) =="]
    if "approve_to_live_at_double" in report:
        live, row = report["approve_to_live_at_double"], report["approve_to_row_published"]
        noop, ratios = report["noop_round_trip"], report["ratios"]
        img = report["approve_to_live_with_one_image"]
        lines += [
            f"approve -> live at double   median {live['median_ms']} ms, "
            f"p99 {live['p99_ms']} ms  ({live['samples']} posts)",
            f"approve -> row published    median {row['median_ms']} ms, p99 {row['p99_ms']} ms",
            f"approve -> live, one image  median {img['median_ms']} ms, "
            f"p99 {img['p99_ms']} ms  ({img['samples']} posts, {img['image_bytes']} bytes; "
            f"median x{img['median_over_text_only']} of text only)",
            f"no-op .delay().get()        median {noop['median_ms']} ms, p99 {noop['p99_ms']} ms",
            f"latency ratios              median x{ratios['latency_median_publish_over_noop']}, "
            f"p99 x{ratios['latency_p99_publish_over_noop']}",
        ]
    for number, r in enumerate(rate["rounds"], start=1):
        lines.append(
            f"round {number}                     publish {r['publish']['per_second']}/s, "
            f"no-op {r['noop']['per_second']}/s, ratio {r['ratio']}"
        )
    lines += [
        f"publish throughput, median  {rate['publish_per_second_median']} posts/s",
        f"no-op throughput, median    {rate['noop_per_second_median']} tasks/s",
        f"publish / no-op, median     {rate['ratio_median']}  (goal >= {rate['ratio_goal']}: "
        f"{'met' if rate['goal_met'] else 'MISSED'})",
        f"wall time                   {report['wall_seconds']} s",
    ]
    print("\n".join(lines))


def failed(report: dict[str, Any]) -> str | None:
    rate = report["throughput"]
    if rate["goal_met"]:
        return None
    return (
        f"publications per second are {rate['ratio_median']} of a no-op task's rate, "
        f"under the goal of {rate['ratio_goal']}"
    )


def main(argv: list[str] | None = None) -> int:
    return _stack.run_and_report(parse_args(argv), run, print_summary, failed)


if __name__ == "__main__":
    sys.exit(main())
