"""Chaos benchmark: "never twice, never lost" under worker kills and a Redis restart.

Approves N posts (unique texts) through the real services while a real Celery worker
publishes them to an X API double that fails the way X does (10% 5xx before storing, 3%
5xx after storing, 5% 429, 2% accept-then-hang). Meanwhile it SIGKILLs the worker's whole
process group at random moments (restarting it at once) and restarts Redis once, losing
every message in it. Then it waits for every publication to settle and checks the double:

- duplicates: a text stored twice, or a create the double refused as duplicate content
  (no such fault is injected, so each one means Sandpit sent a post twice);
- lost: an approved post that is neither published nor visibly failed/unconfirmed.

Also reported, without failing the run: posts marked failed that are live at the double,
published rows whose remote id the double does not have, posts reconciled more than once,
and the longest broker queue.

It counts the task messages put on Redis (by watching it with MONITOR), and reports the
sending messages per post beside the goal (at most 1.2): ``publish`` (one post each) and
``resume_publishing`` (one account's waiting posts each) together, so a re-send cannot
hide by changing its task. The publish messages are also counted by why they were sent.

Exit status 1 if either is non-zero, the run timed out, or the messages per post miss
the goal. Everything it starts (its own
database, redis-server, X double, worker and beat) is torn down at the end, even on Ctrl+C.

    .venv/bin/python -m bench.chaos_publish [--posts 500] [--kills K] [--seed S]
"""

from __future__ import annotations

import argparse
import contextlib
import random
import secrets
import shutil
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench import _stack

# Suffixed with our pid: concurrent runs must not share (or drop) one database.
DATABASE_PREFIX = "sandpit_chaos"
HANDLE = "ChaosBoard"
FAULT_PROBABILITIES = {"5xx-before": 0.10, "5xx-after": 0.03, "429": 0.05, "hang-after": 0.02}
READ_TIMEOUT = 2
# Longer than the client's read timeout, so "hang-after" really ends in a read timeout.
HANG_SECONDS = 4.0
RATE_LIMIT_RESET_SECONDS = 2
# The double's real per-user create limit is 200 per 15 minutes; 500 posts would hit it
# and wait a quarter of an hour. A short window keeps the injected 429s the only ones.
RATE_LIMIT_WINDOW_SECONDS = 5
REDIS_DOWN_SECONDS = 1.5
# Task messages that send posts (coaching.tasks.publish and resume_publishing) per approved
# post, counted at Redis (first sends, retries after a failure, the sweep's and the rate
# limit's resumes, redeliveries after a kill): the backlog must never multiply itself
# (issue 13).
MESSAGES_PER_POST_GOAL = 1.2
# Recovery timings, short so that a run settles in about a minute. STUCK_SENDING must
# exceed connect (5 s, fixed) + read timeout, or a slow live request would be "stuck".
TIMINGS = {
    "SANDPIT_SWEEP_SECONDS": "1",
    "SANDPIT_REQUEUE_AFTER_SECONDS": "5",
    "SANDPIT_PUBLISH_READ_TIMEOUT": str(READ_TIMEOUT),
    "SANDPIT_STUCK_SENDING_SECONDS": "8",
    "SANDPIT_RECONCILE_EVERY_SECONDS": "2",
    "SANDPIT_RECONCILE_GRACE_SECONDS": "6",
    # Messages held by a killed worker come back after this long, within the run.
    "CELERY_BROKER_VISIBILITY_TIMEOUT": "30",
}


@dataclass
class Chaos:
    """What was done to the stack, for the report."""

    worker_kills: int = 0
    redis_restarts: int = 0
    kill_times: list[float] = field(default_factory=list)
    redis_down_at: float | None = None
    approvals_while_redis_down: int = 0
    max_queue_length: int = 0
    # Messages in Redis when it was stopped (queued, plus held unacked by a worker): the
    # sweep must send each again, so they are the floor of the re-sends.
    messages_lost_with_redis: int = 0
    queue_samples: list[tuple[float, int]] = field(default_factory=list)

    origin: float = field(default_factory=time.monotonic)

    def clock(self) -> float:
        """Seconds since the first approval."""
        return time.monotonic() - self.origin

    def kill(self, worker: _stack.CeleryProcess) -> None:
        worker.kill()
        worker.start()  # at once: a supervisor would restart it too
        self.worker_kills += 1
        self.kill_times.append(round(self.clock(), 2))

    def messages_in(self, redis_url: str) -> int:
        import redis

        client = redis.Redis.from_url(redis_url, socket_connect_timeout=0.5)
        try:
            return int(client.llen("celery")) + int(client.hlen("unacked"))  # type: ignore[arg-type]
        finally:
            client.close()

    def sample_queue(self, redis_url: str) -> None:
        """How many task messages wait in Redis: shows whether the sweep's re-sends of
        queued rows pile up behind messages that were never lost."""
        import redis

        try:
            client = redis.Redis.from_url(redis_url, socket_connect_timeout=0.2)
            length = client.llen("celery")
            client.close()
        except redis.RedisError:
            return
        assert isinstance(length, int)  # the synchronous client
        self.max_queue_length = max(self.max_queue_length, length)
        self.queue_samples.append((round(time.monotonic() - self.origin, 1), length))


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = _stack.command_line(__doc__, "chaos_publish.json")
    parser.add_argument("--posts", type=int, default=500, help="posts to approve (500)")
    parser.add_argument(
        "--kills",
        type=int,
        default=None,
        help="worker kills; default: one every 3-8 s while approving and draining",
    )
    parser.add_argument("--seed", type=int, default=None, help="seed for faults and timing")
    parser.add_argument(
        "--timeout", type=float, default=300.0, help="give up settling after this long (s)"
    )
    parser.add_argument(
        "--spread",
        type=float,
        default=None,
        help="seconds over which approvals are spread (default max(10, posts/8))",
    )
    parser.add_argument("--keep-logs", action="store_true", help="keep worker/beat/redis logs")
    args = parser.parse_args(argv)
    if args.posts < 1:
        parser.error("--posts must be at least 1")
    if args.kills is not None and args.kills < 0:
        parser.error("--kills must be 0 or more")
    return args


def kill_schedule(rng: random.Random, spread: float, kills: int | None) -> list[float]:
    """Seconds after the first approval at which to kill the worker."""
    if kills is None:
        times, t = [], rng.uniform(3, 8)
        while t < spread:
            times.append(t)
            t += rng.uniform(3, 8)
        return times
    # K kills, one in each K-th of the approval window, away from its edges so the
    # restarted worker has had time to boot and take work before the next one.
    return [spread * (i + rng.uniform(0.25, 0.75)) / kills for i in range(kills)]


def run(args: argparse.Namespace) -> dict[str, Any]:
    seed = args.seed if args.seed is not None else secrets.randbelow(2**31)
    rng = random.Random(seed)
    spread = args.spread if args.spread is not None else max(10.0, args.posts / 8)
    kills_at = kill_schedule(rng, spread, args.kills)
    # Redis goes down once, mid-run, while approvals carry on (their messages are lost).
    redis_down_at = spread * rng.uniform(0.35, 0.65)

    _stack.require_postgres()
    workdir = Path(tempfile.mkdtemp(prefix="sandpit-chaos-"))
    keep_logs = args.keep_logs
    wall_start = time.monotonic()
    with contextlib.ExitStack() as stack:

        def logs() -> None:
            # Decided at the end: kept when the run failed (or --keep-logs), else removed.
            if keep_logs:
                print(f"logs kept in {workdir}", file=sys.stderr)
            else:
                shutil.rmtree(workdir, ignore_errors=True)

        stack.callback(logs)

        try:
            redis = _stack.RedisServer(workdir)
            stack.callback(redis.stop)
            redis.start()
            messages = _stack.BrokerMessageCounter(redis.url).start()
            stack.callback(messages.stop)

            double = _stack.CountingXDouble(
                hang_seconds=HANG_SECONDS,
                rate_limit_reset_seconds=RATE_LIMIT_RESET_SECONDS,
                rate_limit_window_seconds=RATE_LIMIT_WINDOW_SECONDS,
            )
            stack.callback(double.stop)
            double.start()
            token = secrets.token_urlsafe(24)
            remote_user_id = double.add_user(HANDLE, name="Chaos Health Board", token=token)
            double.set_probabilities(FAULT_PROBABILITIES, seed=seed)

            database = _stack.private_database(DATABASE_PREFIX)
            stack.callback(_stack.drop_database, database)
            _stack.recreate_database(database)
            env = _stack.stack_env(
                database=database, redis_url=redis.url, x_base_url=double.base_url, extra=TIMINGS
            )
            _stack.setup_django(env)
            enqueue_failures = _stack.RobustOnCommitCounter().install()
            _stack.migrate()
            cast = _stack.seed(handle=HANDLE, token=token, remote_user_id=remote_user_id)

            worker = _stack.worker_process(env, workdir, concurrency=2)
            beat = _stack.beat_process(env, workdir)
            stack.callback(beat.stop)
            stack.callback(worker.stop)
            worker.start()
            beat.start()
            print(
                f"chaos: {args.posts} posts over {spread:.0f} s, "
                f"{len(kills_at)} worker kill(s), 1 Redis restart, seed {seed}"
            )
            boot = _stack.wait_for_worker(worker, timeout=60)
            print(f"worker answered after {boot:.1f} s; approving")

            chaos = Chaos()
            # Unique texts (the double refuses a repeat as X does), and unique per run. The
            # seed is written in hex after a letter: as ten bare digits it is an NHS number
            # one time in eleven, which the risk checks rightly refuse to send for review.
            texts = [
                f"Chaos post {i + 1} of {args.posts} (run R{seed:x}): clinic update"
                for i in range(args.posts)
            ]
            drafts = [_stack.write_and_submit(cast, text) for text in texts]
            approve_and_disrupt(
                cast,
                drafts,
                spread,
                kills_at,
                redis_down_at,
                worker,
                redis,
                chaos,
                enqueue_failures,
            )
            approved_at = time.monotonic()
            print(f"approved {len(drafts)} in {approved_at - chaos.origin:.0f} s; settling")
            # Random kills carry on into the drain for half as long again as approving.
            kills_until = 1.5 * spread if args.kills is None else 0.0
            settled = wait_until_settled(
                len(drafts), args.timeout, chaos, redis, worker, kills_until, rng
            )
            report = collect(
                drafts=drafts,
                double=double,
                chaos=chaos,
                settled=settled,
                seed=seed,
                spread=spread,
                enqueue_failures=enqueue_failures.count,
                messages=messages,
            )
            report["wall_seconds"] = round(time.monotonic() - wall_start, 1)
            report["settle_seconds"] = round(time.monotonic() - approved_at, 1)
            report["worker_starts"] = worker.starts
            if not report["ok"]:
                keep_logs = True
                report["logs"] = str(workdir)
        except Exception:
            keep_logs = True  # the logs are what explains a crash of the harness
            raise
    return report


def approve_and_disrupt(
    cast: _stack.Cast,
    drafts: list[Any],
    spread: float,
    kills_at: list[float],
    redis_down_at: float,
    worker: _stack.CeleryProcess,
    redis: _stack.RedisServer,
    chaos: Chaos,
    enqueue_failures: _stack.RobustOnCommitCounter,
) -> None:
    """One loop in this (main) thread does approvals and disruptions on a shared timeline,
    so a kill can land while approvals are committing and enqueuing, as in production."""
    step = spread / len(drafts)
    events: list[tuple[float, str]] = [(t, "kill") for t in kills_at]
    events += [(redis_down_at, "redis-down"), (redis_down_at + REDIS_DOWN_SECONDS, "redis-up")]
    events.sort()
    start = chaos.origin = time.monotonic()
    index = 0
    last_sample = 0.0
    while index < len(drafts) or events:
        now = time.monotonic() - start
        next_approval = index * step if index < len(drafts) else float("inf")
        if events and events[0][0] <= min(now, next_approval):
            _, kind = events.pop(0)
            if kind == "kill":
                chaos.kill(worker)
            elif kind == "redis-down":
                chaos.messages_lost_with_redis = chaos.messages_in(redis.url)
                redis.stop()
                chaos.redis_down_at = round(now, 2)
            else:
                redis.start()
                chaos.redis_restarts += 1
            continue
        if index < len(drafts) and next_approval <= now:
            before = enqueue_failures.count
            _stack.approve(cast, drafts[index])
            if redis.process is None or enqueue_failures.count > before:
                chaos.approvals_while_redis_down += 1
            index += 1
            continue
        if now - last_sample >= 0.5:
            chaos.sample_queue(redis.url)
            last_sample = now
        upcoming = min(next_approval, events[0][0] if events else float("inf"))
        time.sleep(max(0.0, min(0.05, upcoming - now)))


def wait_until_settled(
    expected: int,
    timeout: float,
    chaos: Chaos,
    redis: _stack.RedisServer,
    worker: _stack.CeleryProcess,
    kills_until: float,
    rng: random.Random,
) -> bool:
    """Until every publication is published or failed (unconfirmed ones reconciled).

    With random kills (no --kills), killing goes on while posts are still queued or being
    sent, up to ``kills_until`` (seconds on the chaos clock), so the drain after the last
    approval is also exercised; the cut-off guarantees the run can settle.
    """
    from coaching.models import Publication

    P = Publication.Status
    deadline = time.monotonic() + timeout
    last_print = 0.0
    next_kill = chaos.clock() + rng.uniform(3, 8)
    while True:
        counts = Counter(Publication.objects.values_list("status", flat=True))
        chaos.sample_queue(redis.url)
        done = counts[P.PUBLISHED] + counts[P.FAILED]
        if done >= expected:
            return True
        now = time.monotonic()
        if now - last_print > 5:
            print("  " + ", ".join(f"{status} {n}" for status, n in sorted(counts.items())))
            last_print = now
        if now > deadline:
            return False
        in_flight = counts[P.QUEUED] + counts[P.SENDING]
        if in_flight and next_kill <= chaos.clock() < kills_until:
            chaos.kill(worker)
            next_kill = chaos.clock() + rng.uniform(3, 8)
        time.sleep(0.5)


def explain_failed_but_live(failed_live: list[Any], posts: list[Any]) -> list[dict[str, Any]]:
    """For each post marked failed although it is live: how many newer posts the account
    had when the reconcile looked (it reads only the newest 100)."""
    import datetime as dt

    from coaching.models import AuditEvent

    def when(post: Any) -> dt.datetime:
        return dt.datetime.fromisoformat(post.created_at.replace("Z", "+00:00"))

    by_text = {post.text: post for post in posts}
    out = []
    for publication in failed_live:
        post = by_text[publication.text]
        check = (
            AuditEvent.objects.filter(
                publication=publication, action=AuditEvent.Action.PUBLICATION_RECONCILED
            )
            .order_by("created_at")
            .last()
        )
        newer = (
            sum(1 for other in posts if when(post) < when(other) <= check.created_at)
            if check
            else None
        )
        attempts = list(publication.attempts.order_by("started_at"))
        out.append(
            {
                "publication": publication.pk,
                "stored_at": post.created_at,
                "checked_at": check.created_at.isoformat() if check else None,
                "newer_posts_when_checked": newer,
                "attempts": [
                    f"{a.outcome}/{a.status_code} at {a.started_at:%H:%M:%S.%f}"[:-3]
                    for a in attempts
                ],
            }
        )
    return out


def failure_reason(error: str) -> str:
    """Group failure messages into a few readable reasons."""
    if "duplicate content" in error:
        return "the platform refused duplicate content (sent twice)"
    if error.startswith("Checked the account: the post is not there"):
        return "reconciled: not on the account (X failed before storing it)"
    if error.startswith("Could not reach the platform after"):
        return "could not reach the platform after retries"
    if error.startswith("The platform said:"):
        return error[:100]
    return error[:100] or "(no message)"


def collect(
    *,
    drafts: list[Any],
    double: _stack.CountingXDouble,
    chaos: Chaos,
    settled: bool,
    seed: int,
    spread: float,
    enqueue_failures: int,
    messages: _stack.BrokerMessageCounter,
) -> dict[str, Any]:
    from coaching.models import AuditEvent, Publication, PublishAttempt
    from sandbox.models import Draft

    P = Publication.Status
    approved_ids = {draft.pk for draft in drafts}
    publications = list(Publication.objects.filter(draft_id__in=approved_ids))
    by_draft: dict[int, list[Publication]] = {}
    for publication in publications:
        by_draft.setdefault(publication.draft_id, []).append(publication)

    posts = double.posts_for(HANDLE)
    stored_texts = [post.text for post in posts]
    stored_by_id = {post.id: post for post in posts}
    stored_text_set = set(stored_texts)
    texts_twice = _stack.duplicated(stored_texts)
    duplicate_rejections = len(double.duplicate_rejections)

    statuses = Counter(p.status for p in publications)
    # Lost: approved, but no publication that says what happened (published, failed,
    # or unconfirmed: a state a coach sees and can act on). Queued or sending at the end
    # means the pipeline dropped it.
    visible = {P.PUBLISHED, P.FAILED, P.UNCONFIRMED}
    lost = sorted(
        draft_id
        for draft_id in approved_ids
        if not any(p.status in visible for p in by_draft.get(draft_id, []))
    )
    failed = [p for p in publications if p.status == P.FAILED]
    published = [p for p in publications if p.status == P.PUBLISHED]
    # A published row whose remote id is not at the double (or carries another text)
    # would be a lie on the trainee's page.
    published_not_at_double = [
        p.pk
        for p in published
        if p.remote_id not in stored_by_id or stored_by_id[p.remote_id].text != p.text
    ]
    # A failed row whose text is live is a post that went out but is reported as not.
    failed_but_live = [p.pk for p in failed if p.text in stored_text_set]
    failed_but_live_detail = explain_failed_but_live(
        [p for p in failed if p.text in stored_text_set], posts
    )
    ours = {p.text for p in publications}
    strays = [text for text in stored_texts if text not in ours]

    unknown_attempts = PublishAttempt.objects.filter(
        publication__in=publications, outcome=PublishAttempt.Outcome.UNKNOWN
    )
    reconciled = AuditEvent.objects.filter(
        action=AuditEvent.Action.PUBLICATION_RECONCILED, publication__in=publications
    )
    attempt_outcomes = Counter(
        PublishAttempt.objects.filter(publication__in=publications).values_list(
            "outcome", flat=True
        )
    )
    from django.conf import settings

    duplicates = len(texts_twice) + duplicate_rejections
    sending = messages.count("coaching.tasks.publish") + messages.count(
        "coaching.tasks.resume_publishing"
    )
    report: dict[str, Any] = {
        "posts_approved": Draft.objects.filter(
            pk__in=approved_ids, reviews__decision="approve"
        ).count(),
        "published": len(published),
        "failed": len(failed),
        "failed_reasons": dict(Counter(failure_reason(p.error) for p in failed).most_common()),
        "unconfirmed_at_end": statuses[P.UNCONFIRMED],
        "statuses": dict(statuses),
        "duplicates": duplicates,
        "duplicates_detail": {
            "texts_stored_more_than_once": len(texts_twice),
            "duplicate_content_rejections_at_double": duplicate_rejections,
            "texts": sorted(set(texts_twice) | set(double.duplicate_rejections))[:20],
        },
        "lost": len(lost),
        "lost_draft_ids": lost[:50],
        "went_unconfirmed": unknown_attempts.values("publication").distinct().count(),
        "reconciled": {
            "total": reconciled.count(),
            "found_live": reconciled.filter(detail__startswith="Found").count(),
            "marked_failed": reconciled.filter(detail__startswith="Not on").count(),
            # Two reconcile tasks for one row (the sweep re-sends them) should settle it
            # once; more than one audit event means the loser wrote one anyway.
            "publications_reconciled_more_than_once": sum(
                1
                for n in Counter(reconciled.values_list("publication", flat=True)).values()
                if n > 1
            ),
        },
        "published_remote_ids_at_double": not published_not_at_double,
        "published_not_at_double": published_not_at_double[:20],
        "failed_but_live_at_double": len(failed_but_live),
        "failed_but_live_ids": failed_but_live[:20],
        "failed_but_live_detail": failed_but_live_detail[:20],
        "broker_messages": {
            "sending_per_post": round(sending / len(drafts), 3),
            "sending_per_post_goal": MESSAGES_PER_POST_GOAL,
            "publish_per_post": round(messages.count("coaching.tasks.publish") / len(drafts), 3),
            "resumes": messages.count("coaching.tasks.resume_publishing"),
            "all_tasks_per_post": round(sum(messages.by_task.values()) / len(drafts), 3),
            "lost_with_redis": chaos.messages_lost_with_redis,
            "sending_per_post_besides_those_redis_lost": round(
                (sending - chaos.messages_lost_with_redis) / len(drafts), 3
            ),
            "by_task": dict(sorted(messages.by_task.items())),
            "publish_by_kind": dict(sorted(messages.publish_by_kind.items())),
        },
        "max_broker_queue_length": chaos.max_queue_length,
        "broker_queue_samples": chaos.queue_samples[::4],
        "stray_posts_at_double": len(strays),
        "posts_at_double": len(stored_texts),
        "attempt_outcomes": dict(attempt_outcomes),
        "create_requests_at_double": double.create_requests,
        "faults_injected": dict(sorted(double.fault_counts.items())),
        "worker_kills": chaos.worker_kills,
        "kill_times_s": chaos.kill_times,
        "redis_restarts": chaos.redis_restarts,
        "redis_down_at_s": chaos.redis_down_at,
        "approvals_while_redis_down": chaos.approvals_while_redis_down,
        "enqueue_failures_while_redis_down": enqueue_failures,
        "settled": settled,
        "seed": seed,
        "approve_spread_s": round(spread, 1),
        "config": {
            "fault_probabilities": FAULT_PROBABILITIES,
            "hang_seconds": HANG_SECONDS,
            "rate_limit_reset_seconds": RATE_LIMIT_RESET_SECONDS,
            "worker_concurrency": 2,
            **{name.lower(): value for name, value in TIMINGS.items()},
            "publish_connect_timeout": settings.PUBLISH_CONNECT_TIMEOUT,
        },
    }
    report["messages_ok"] = report["broker_messages"]["sending_per_post"] <= MESSAGES_PER_POST_GOAL
    report["ok"] = settled and duplicates == 0 and not lost and report["messages_ok"]
    return report


def print_summary(report: dict[str, Any]) -> None:
    rec = report["reconciled"]
    dup = report["duplicates_detail"]
    msgs = report["broker_messages"]
    lines = [
        "",
        "== chaos_publish ==",
        f"posts approved              {report['posts_approved']}",
        f"published                   {report['published']}",
        f"failed                      {report['failed']}",
        *(f"  {n:4d}  {reason}" for reason, n in report["failed_reasons"].items()),
        f"unconfirmed at the end      {report['unconfirmed_at_end']}",
        f"DUPLICATES at the double    {report['duplicates']}"
        f"  (texts stored twice {dup['texts_stored_more_than_once']}, "
        f"duplicate-content refusals {dup['duplicate_content_rejections_at_double']})",
        f"LOST                        {report['lost']}",
        f"went unconfirmed            {report['went_unconfirmed']}",
        f"reconciled                  {rec['total']} "
        f"({rec['found_live']} found live, {rec['marked_failed']} marked failed; "
        f"{rec['publications_reconciled_more_than_once']} publications audited twice)",
        f"published ids at double     {'all' if report['published_remote_ids_at_double'] else 'NOT ALL'}",  # noqa: E501
        f"failed but live at double   {report['failed_but_live_at_double']}",
        f"faults injected             {report['faults_injected']}"
        f" of {report['create_requests_at_double']} creates",
        f"sending messages per post   {msgs['sending_per_post']}"
        f"  (goal <= {msgs['sending_per_post_goal']}: "
        f"{'met' if report['messages_ok'] else 'MISSED'}; publish and resume together)",
        f"publish messages per post   {msgs['publish_per_post']}, and "
        f"{msgs['resumes']} resume messages",
        f"  besides the {msgs['lost_with_redis']} Redis lost when it stopped: "
        f"{msgs['sending_per_post_besides_those_redis_lost']} per post",
        *(f"  {n:4d}  {kind}" for kind, n in msgs["publish_by_kind"].items()),
        f"all task messages per post  {msgs['all_tasks_per_post']}  {msgs['by_task']}",
        f"broker queue, longest       {report['max_broker_queue_length']} messages",
        f"worker kills                {report['worker_kills']}  at {report['kill_times_s']} s",
        f"redis restarts              {report['redis_restarts']}"
        f"  ({report['approvals_while_redis_down']} approvals while it was down)",
        f"wall time                   {report.get('wall_seconds')} s"
        f" (settling {report.get('settle_seconds')} s)",
        f"verdict                     {'OK' if report['ok'] else 'FAILED'}",
    ]
    if not report["settled"]:
        lines.append(f"  timed out with {report['statuses']}")
    if report["failed_but_live_at_double"]:
        lines.append(
            f"  WARNING: {report['failed_but_live_at_double']} post(s) marked failed are live "
            "at the double (see failed_but_live_detail in the JSON)"
        )
    if report.get("logs"):
        lines.append(f"  logs kept in {report['logs']}")
    print("\n".join(lines))


def failed(report: _stack.Report) -> str | None:
    if report["ok"]:
        return None
    if not report["messages_ok"]:
        return (
            f"{report['broker_messages']['sending_per_post']} sending messages per post, "
            f"over the goal of {MESSAGES_PER_POST_GOAL}"
        )
    return "posts were lost, sent twice or left unsettled (see the verdict above)"


def main(argv: list[str] | None = None) -> int:
    return _stack.run_and_report(parse_args(argv), run, print_summary, failed)


if __name__ == "__main__":
    sys.exit(main())
