"""Benchmark the private timeline page, and parse_tweet's throughput.

    .venv/bin/python -m bench.timeline [--requests 50] [--json bench/results/timeline.json]

1. The trainee's timeline through Django's test Client, logged in: the full page
   (GET /timeline/) and the fragment htmx polls every 10 s (the same GET with
   ``HX-Request: true``). Median and p95 of the time spent in the client call (Django's
   whole request path, middleware and template rendering included; no network), and the
   queries per request, with 100 and then 10,000 timeline rows in the database. The page
   must make as many queries at 10,000 as at 100 (exit status 1 if not).
   A timeline row is a draft or a timeline item (practice posts, their simulated replies
   and thread parts, persona posts, scenario injects), all of one trainee: the worst case
   for that trainee, whose own history is what the feed's queries sift. Seeded newest first,
   so the 9,900 added for the second size are all older than the first 100: the page
   shows the same 50 entries at both sizes and any difference comes from the data volume.
2. Baseline in the same run, through the same client: /health/live/, a bare view that
   makes one ``SELECT 1``. The ratios are timeline/baseline.
3. parse_tweet over every ``text`` of the twitter-text conformance suite's validate.yml
   (shared/conformance, beside the repository or at $SANDPIT_SHARED_DIR), in texts per
   second, against ``len()`` over the same texts in the same loop.

It creates its own PostgreSQL database (sandpit_bench_timeline_<pid>) and drops it at the
end, even on failure or Ctrl+C. Nothing here touches Redis: the rows are bulk-created with
the ORM, as the services would leave them, rather than through practice_post's task.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import os
import random
import re
import statistics
import sys
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench import _stack

DATABASE_PREFIX = "sandpit_bench_timeline"
REDIS_URL = "redis://127.0.0.1:6379/14"  # settings want one; nothing here connects to it
SIZES = (100, 10_000)
REQUESTS = 50
WARM_UP = 5
QUERY_SAMPLES = 5  # requests under CaptureQueriesContext, apart from the timed ones
PARSE_ROUNDS = 20  # passes over the conformance texts per trial
PARSE_TRIALS = 7

# Posts as a health board's trainee writes them: mentions, hashtags, links, emoji. Each
# gets a number so no two rows share a text.
POST_TEXTS = (
    "Flu vaccine clinics open at Kelderby Health Centre this week 💉 No appointment needed "
    "for over-65s. Details: https://www.nhs.uk/flu #FluJab #Kelderby",
    "Thank you to the night team on Ward 7 at St Mary's for going above and beyond "
    "this winter 💙 @NHSKelderby #NHSThanks",
    "A&E is very busy today. If it is not an emergency, please use NHS 111 online "
    "(https://111.nhs.uk) or your local pharmacy first. #ChooseWell",
    "Our stroke unit has been rated outstanding! Proud of everyone who made it happen "
    "🎉 Read the report: www.cqc.org.uk #Stroke #ProudToBeNHS",
    "Carers' drop-in café, Thursday 10am to 12pm at the Community Hub. Tea, cake and "
    "advice from @KelderbyCouncil. All welcome ☕",
    "We are recruiting! Healthcare assistants, full and part time, at Kelderby General. "
    "Apply by Friday: https://jobs.nhs.uk #NHSJobs",
    "Dementia Awareness Week: join our free session on spotting the early signs and where "
    "to get support. Book at https://kelderby.nhs.uk/events #DAW",
    "Reminder: free NHS health checks for 40 to 74 year olds. Ask at your GP practice "
    "or call 0300 123 4567. #HealthCheck",
)
# Practice posts: some bland, some that set the simulated audience off.
PRACTICE_TEXTS = (
    "Ward 3 is closed to visitors today because of norovirus. Please do not visit if you "
    "have been unwell in the last 48 hours. #Norovirus",
    "Honestly some patients are just rude to our reception staff. Sort it out, people!",
    "Great to see Mrs Patel back on her feet after her hip operation on Ward 4 🎉",
    "Our new MRI scanner is now open, cutting waiting times for scans across Kelderby. "
    "https://kelderby.nhs.uk/mri #Imaging",
    "Vote for better funding for our hospital on Thursday! #LocalElections",
    "Staff car park closed tomorrow for resurfacing. Park and ride from the retail park "
    "runs every 10 minutes 🚌",
    "We are aware of long waits in A&E tonight. Our staff are working flat out. Thank you "
    "for your patience 🙏 #Kelderby",
    "BREAKING: waiting list figures out today and they are NOT good. More soon...",
)
REPLY_TEXTS = (
    "Part two: bring your red book and a list of any medicines you take.",
    "And a huge thank you to the volunteers who helped on the day 💙",
    "Update: the clinic will also run on Saturday morning.",
)
# Draft statuses in about the proportions a busy trainee has them.
STATUS_WEIGHTS = {
    "draft": 28,
    "submitted": 14,
    "in_review": 6,
    "changes_requested": 14,
    "approved": 28,
    "rejected": 5,
    "withdrawn": 5,
}
PUBLICATION_WEIGHTS = {"published": 80, "queued": 10, "failed": 6, "unconfirmed": 4}
ENTRY_WEIGHTS = {"draft": 40, "practice": 20, "persona": 32, "scenario": 8}
SPACING_MINUTES = 40  # between consecutive entries, newest first


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = _stack.command_line(__doc__, "timeline.json")
    parser.add_argument("--requests", type=int, default=REQUESTS, help="timed requests (50)")
    return parser.parse_args(argv)


def bench_env(database: str) -> dict[str, str]:
    env = dict(os.environ)
    for name in ("DJANGO_SETTINGS_MODULE", "DATABASE_URL", "REDIS_URL", "SANDPIT_ENV"):
        env.pop(name, None)
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "sandbox.settings",
            "DATABASE_URL": _stack.database_url(database),
            "REDIS_URL": REDIS_URL,
            # The test client's host; and DEBUG off, as served.
            "DJANGO_ALLOWED_HOSTS": "testserver",
            "DJANGO_DEBUG": "false",
            # One persistent connection for the whole run, so no sample pays a reconnect.
            "DATABASE_CONN_MAX_AGE": "600",
            "SANDPIT_LOG_LEVEL": "WARNING",
        }
    )
    return env


# Seeding -------------------------------------------------------------------------------------


@dataclass
class Node:
    """A timeline item to be created, with the replies that hang off it."""

    item: Any  # TimelineItem
    children: list[Node] = field(default_factory=list)

    def rows(self) -> int:
        return 1 + sum(child.rows() for child in self.children)


@dataclass
class DraftSpec:
    draft: Any  # Draft
    revisions: list[Any]  # DraftRevision, oldest first
    moment: dt.datetime
    review: Any | None = None  # coaching Review: the decision on the current revision
    publication: Any | None = None


@dataclass
class Batch:
    drafts: list[DraftSpec] = field(default_factory=list)
    items: list[Node] = field(default_factory=list)
    rows: int = 0


class TimelineSeeder:
    """Yields the trainee's timeline newest first, one entry (draft, practice post with its
    reactions, persona post) at a time; ``take(n)`` builds exactly n rows of it."""

    def __init__(self, cast: _stack.Cast, scenario_run: Any, now: dt.datetime) -> None:
        from sandbox import audience, personas
        from sandbox.checks import run_checks

        self.cast = cast
        self.scenario_run = scenario_run
        self.now = now
        self.rng = random.Random(20_000)
        self.position = 0  # entries so far: sets each one's moment
        self.serial = 0  # makes every text unique
        self.personas = [p.slug for p in personas.PERSONAS]
        # The audience's plan for each practice text, worked out once (run_checks and the
        # rules are what the real task runs) and reused, as if the same post were
        # practised again.
        self.plans = [
            audience.plan(text, seed=n, findings=run_checks(text)).as_dict()
            for n, text in enumerate(PRACTICE_TEXTS)
        ]

    def _text(self, pool: tuple[str, ...]) -> str:
        self.serial += 1
        return f"{self.rng.choice(pool)} ({self.serial})"

    def _moment(self) -> dt.datetime:
        self.position += 1
        jitter = self.rng.uniform(0, SPACING_MINUTES * 0.8)
        return self.now - dt.timedelta(minutes=self.position * SPACING_MINUTES + jitter)

    def _weighted(self, weights: dict[str, int]) -> str:
        return self.rng.choices(list(weights), weights=list(weights.values()))[0]

    def take(self, rows: int) -> Batch:
        batch = Batch()
        while batch.rows < rows:
            left = rows - batch.rows
            kind = self._weighted(ENTRY_WEIGHTS)
            if kind == "draft":
                batch.drafts.append(self._draft())
                batch.rows += 1
                continue
            node = self._practice() if kind == "practice" else self._persona(kind == "scenario")
            if node.rows() > left:
                # Does not fit: fill up with one-row persona posts so the size is exact.
                node = self._persona(scenario=False)
            batch.items.append(node)
            batch.rows += node.rows()
        return batch

    def _draft(self) -> DraftSpec:
        from coaching.models import Publication, Review
        from sandbox.models import Draft, DraftRevision

        moment = self._moment()
        status = self._weighted(STATUS_WEIGHTS)
        draft = Draft(author=self.cast.trainee, account=self.cast.account, status=status)
        if status not in ("draft", "withdrawn"):
            draft.submitted_at = moment - dt.timedelta(minutes=30)
        count = self.rng.choice((1, 1, 2, 3)) + (1 if status == "changes_requested" else 0)
        revisions = []
        for number in range(1, count + 1):
            text = self._text(POST_TEXTS)
            thread = [self._text(REPLY_TEXTS)] if self.rng.random() < 0.1 else []
            revisions.append(
                DraftRevision(
                    draft=draft,
                    number=number,
                    text=text,
                    thread=thread,
                    content_hash=DraftRevision.hash_posts([text, *thread]),
                )
            )
        spec = DraftSpec(draft, revisions, moment)
        current = revisions[-1]
        decision = {
            "approved": Review.Decision.APPROVE,
            "changes_requested": Review.Decision.REQUEST_CHANGES,
            "rejected": Review.Decision.REJECT,
        }.get(status)
        if decision is not None:
            spec.review = Review(
                draft=draft,
                revision=current,
                reviewer=self.cast.coach,
                decision=decision,
                content_hash=current.content_hash,
            )
        if status == "approved":
            outcome = self._weighted(PUBLICATION_WEIGHTS)
            remote_id = str(1_800_000_000_000 + self.serial) if outcome == "published" else ""
            remote_url = f"https://x.com/{self.cast.account.handle}/status/{remote_id}"
            spec.publication = Publication(
                draft=draft,
                revision=current,
                approval=spec.review,
                account=self.cast.account,
                text=current.text,
                parts=[
                    {
                        "text": post,
                        "remote_id": remote_id,
                        "remote_url": remote_url if remote_id else "",
                    }
                    for post in current.posts
                ],
                content_hash=current.content_hash,
                status=outcome,
                remote_id=remote_id,
                remote_url=remote_url if remote_id else "",
                error="X answered 503 three times." if outcome == "failed" else "",
                published_at=moment if remote_id else None,
            )
        return spec

    def _practice(self) -> Node:
        """A practice post, its thread (now and then), and its audience's reactions, as
        practice_post and audience_simulate leave them: the reactions of recent posts
        partly still in the future."""
        from sandbox.models import TimelineItem

        moment = self._moment()
        which = self.rng.randrange(len(PRACTICE_TEXTS))
        text = f"{PRACTICE_TEXTS[which]} ({self.serial + 1})"
        self.serial += 1
        plan = self.plans[which]
        owner, account = self.cast.trainee, self.cast.account
        head = Node(TimelineItem(owner=owner, account=account, text=text, appear_at=moment))
        head.item.audience = plan
        parent = head
        for _ in range(self.rng.choice((0, 0, 0, 0, 1, 2))):
            part = Node(
                TimelineItem(
                    owner=owner,
                    account=account,
                    kind=TimelineItem.Kind.REPLY,
                    text=self._text(REPLY_TEXTS),
                    parent=parent.item,
                    appear_at=moment,
                )
            )
            parent.children.append(part)
            parent = part
        for reaction in plan["reactions"]:
            head.children.append(
                Node(
                    TimelineItem(
                        owner=owner,
                        persona=reaction["persona"],
                        kind=reaction["kind"],
                        text=reaction["text"],
                        parent=head.item,
                        rule=reaction["rule"],
                        appear_at=moment + dt.timedelta(seconds=reaction["at_seconds"]),
                    )
                )
            )
        return head

    def _persona(self, scenario: bool) -> Node:
        """A post by one of the simulated personas; a scenario's inject now and then,
        sometimes with a reply from another persona."""
        from sandbox.models import TimelineItem

        moment = self._moment()
        node = Node(
            TimelineItem(
                owner=self.cast.trainee,
                persona=self.rng.choice(self.personas),
                text=self._text(POST_TEXTS),
                appear_at=moment,
                scenario_run=self.scenario_run if scenario else None,
            )
        )
        if scenario and self.rng.random() < 0.5:
            node.children.append(
                Node(
                    TimelineItem(
                        owner=self.cast.trainee,
                        persona=self.rng.choice(self.personas),
                        kind=TimelineItem.Kind.REPLY,
                        text=self._text(REPLY_TEXTS),
                        parent=node.item,
                        appear_at=moment + dt.timedelta(minutes=5),
                        scenario_run=self.scenario_run,
                    )
                )
            )
        return node


def save(batch: Batch) -> None:
    """Bulk-create a batch: drafts with their revisions, reviews and publications, then
    timeline items level by level (a reply needs its parent's primary key)."""
    from django.db import connection, transaction

    from coaching.models import Publication, Review
    from sandbox.models import Draft, DraftRevision, TimelineItem

    with transaction.atomic():
        specs = batch.drafts
        Draft.objects.bulk_create([s.draft for s in specs], batch_size=1000)
        DraftRevision.objects.bulk_create([r for s in specs for r in s.revisions], batch_size=1000)
        for spec in specs:
            spec.draft.current_revision = spec.revisions[-1]
        Draft.objects.bulk_update([s.draft for s in specs], ["current_revision"], batch_size=500)
        Review.objects.bulk_create([s.review for s in specs if s.review], batch_size=1000)
        Publication.objects.bulk_create(
            [s.publication for s in specs if s.publication], batch_size=1000
        )
        # auto_now fields take "now" on every save; give each draft its place in time.
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE sandbox_draft AS d SET updated_at = v.moment, "
                "created_at = v.moment - interval '2 hours' "
                "FROM unnest(%s::bigint[], %s::timestamptz[]) AS v(id, moment) "
                "WHERE d.id = v.id",
                [[s.draft.pk for s in specs], [s.moment for s in specs]],
            )
        level = batch.items
        while level:
            TimelineItem.objects.bulk_create([node.item for node in level], batch_size=1000)
            level = [child for node in level for child in node.children]


def seed_people() -> tuple[_stack.Cast, Any]:
    from django.utils import timezone

    from sandbox.models import Scenario, ScenarioRun

    token = "timeline-bench-token"  # noqa: S105 - never sent anywhere
    cast = _stack.seed(handle="TimelineBoard", token=token, remote_user_id="1")
    scenario = Scenario.objects.create(
        organisation=cast.organisation,
        title="Winter pressures",
        description="A busy night in A&E, as the public sees it.",
        items=[],
        created_by=cast.coach,
    )
    run = ScenarioRun.objects.create(
        scenario=scenario,
        trainee=cast.trainee,
        started_by=cast.coach,
        started_at=timezone.now() - dt.timedelta(days=400),
    )
    return cast, run


def row_counts() -> dict[str, int]:
    from coaching.models import Publication, Review
    from sandbox.models import Draft, DraftRevision, TimelineItem

    return {
        "drafts": Draft.objects.count(),
        "timeline_items": TimelineItem.objects.count(),
        "top_level_items": TimelineItem.objects.filter(parent__isnull=True).count(),
        "revisions": DraftRevision.objects.count(),
        "reviews": Review.objects.count(),
        "publications": Publication.objects.count(),
    }


# Measuring -------------------------------------------------------------------------------------


def summary_ms(samples: list[float]) -> dict[str, float]:
    return {
        "median_ms": round(statistics.median(samples) * 1000, 2),
        "p95_ms": round(_stack.percentile(samples, 0.95) * 1000, 2),
        "samples": len(samples),
    }


def timings(call: Callable[[], Any], count: int, check: Callable[[Any], None]) -> list[float]:
    """Seconds per call, after a few calls to warm up; ``check`` looks at each result."""
    for _ in range(WARM_UP):
        check(call())
    samples = []
    for _ in range(count):
        started = time.perf_counter()
        result = call()
        samples.append(time.perf_counter() - started)
        check(result)
    return samples


def expect_ok(response: Any) -> None:
    if response.status_code != 200:
        raise SystemExit(f"{response.request['PATH_INFO']} answered {response.status_code}")


class QueryTimer:
    """An execute wrapper (connection.execute_wrapper) timing each query."""

    def __init__(self) -> None:
        self.durations: list[float] = []

    def __call__(self, execute: Callable[..., Any], *args: Any) -> Any:
        started = time.perf_counter()
        try:
            return execute(*args)
        finally:
            self.durations.append(time.perf_counter() - started)


def queries_of(get: Callable[[], Any]) -> dict[str, Any]:
    """Queries per request over a few requests (the count must not vary), with the time
    of each (median over the requests, timed around the driver's execute, as Django's own
    record rounds to the millisecond) and their sum."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    runs = []
    for _ in range(QUERY_SAMPLES):
        timer = QueryTimer()
        with CaptureQueriesContext(connection) as captured, connection.execute_wrapper(timer):
            expect_ok(get())
        durations = timer.durations
        sqls = [q["sql"] for q in captured.captured_queries]
        if len(sqls) != len(durations):
            raise SystemExit(f"{len(sqls)} queries captured but {len(durations)} timed")
        runs.append(list(zip(sqls, durations, strict=True)))
    counts = {len(run) for run in runs}
    if len(counts) != 1:
        raise SystemExit(f"the query count varies from one request to the next: {counts}")
    per_query = [
        {
            "ms": round(statistics.median(run[n][1] for run in runs) * 1000, 3),
            "sql": runs[-1][n][0],
        }
        for n in range(len(runs[0]))
    ]
    return {
        "count": len(runs[0]),
        "db_ms": round(statistics.median(sum(t for _, t in run) for run in runs) * 1000, 2),
        "queries": per_query,
    }


def explain(sql: str) -> list[str]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, COSTS OFF) {sql}")
        return [row[0] for row in cursor.fetchall()]


def measure_timeline(client: Any, owner_id: int, requests: int) -> dict[str, Any]:
    from sandbox import selectors

    pages = {
        "full_page": lambda: client.get("/timeline/"),
        "htmx_feed": lambda: client.get("/timeline/", headers={"HX-Request": "true"}),
    }
    result: dict[str, Any] = {}
    for name, get in pages.items():
        result[name] = {
            **summary_ms(timings(get, requests, expect_ok)),
            "bytes": len(get().content),
            "queries": queries_of(get),
        }
    # The selector alone: the database's share of the page, without the rendering.
    result["feed_for_only"] = summary_ms(
        timings(lambda: selectors.feed_for(owner_id), requests, lambda feed: None)
    )
    feed = selectors.feed_for(owner_id)
    result["feed_entries"] = len(feed)
    result["feed_shown"] = [f"{type(entry).__name__}:{entry.pk}" for entry in feed]
    # The feed's two slowest queries, with PostgreSQL's plan: what grows with the data.
    slowest = sorted(result["htmx_feed"]["queries"]["queries"], key=lambda q: -q["ms"])[:2]
    result["slowest_queries"] = [{**query, "plan": explain(query["sql"])} for query in slowest]
    return result


# parse_tweet -------------------------------------------------------------------------------------


def conformance_texts() -> list[str]:
    import yaml

    shared = os.environ.get("SANDPIT_SHARED_DIR")
    root = Path(shared) if shared else _stack.REPO_ROOT.parent / "shared"
    path = root / "conformance" / "twitter-text" / "validate.yml"
    if not path.is_file():
        raise SystemExit(
            f"Conformance suite not found at {path}: "
            "put shared/ beside the repository or set SANDPIT_SHARED_DIR"
        )
    sections = yaml.safe_load(path.read_text(encoding="utf-8"))["tests"]
    return [case["text"] for cases in sections.values() for case in cases if "text" in case]


def throughput(call: Callable[[str], object], texts: list[str]) -> float:
    """Texts per second: the median of several trials, each a few passes over the texts."""
    for text in texts:  # warm-up: tables, regexes and caches built on first use
        call(text)
    rates = []
    for _ in range(PARSE_TRIALS):
        started = time.perf_counter()
        for _ in range(PARSE_ROUNDS):
            for text in texts:
                call(text)
        rates.append(PARSE_ROUNDS * len(texts) / (time.perf_counter() - started))
    return statistics.median(rates)


def measure_parse_tweet() -> dict[str, Any]:
    from sandbox.tweet_text import parse_tweet

    texts = conformance_texts()
    parse = throughput(parse_tweet, texts)
    baseline = throughput(len, texts)
    encode = throughput(str.encode, texts)
    return {
        "texts": len(texts),
        "characters": sum(len(t) for t in texts),
        "parse_tweet_texts_per_second": round(parse),
        "baseline_len_texts_per_second": round(baseline),
        "baseline_encode_texts_per_second": round(encode),
        "parse_tweet_over_len_time_ratio": round(baseline / parse, 1),
        "parse_tweet_over_encode_time_ratio": round(encode / parse, 1),
        "microseconds_per_text": round(1e6 / parse, 2),
    }


# The run -----------------------------------------------------------------------------------------


def run(args: argparse.Namespace) -> dict[str, Any]:
    _stack.require_postgres()
    wall_start = time.monotonic()
    with contextlib.ExitStack() as stack:
        database = _stack.private_database(DATABASE_PREFIX)
        stack.callback(_stack.drop_database, database)
        _stack.recreate_database(database)
        _stack.setup_django(bench_env(database))
        _stack.migrate()

        from django.db import connection
        from django.test import Client
        from django.utils import timezone

        # WhiteNoise notes that collectstatic never ran; the pages do not need it to.
        warnings.filterwarnings("ignore", message="No directory at")

        cast, scenario_run = seed_people()
        client = Client()
        client.force_login(cast.trainee)
        seeder = TimelineSeeder(cast, scenario_run, timezone.now())

        def live() -> Any:
            return client.get("/health/live/")

        sizes: dict[str, Any] = {}
        baselines: dict[str, Any] = {}
        seeded = 0
        for size in SIZES:
            started = time.monotonic()
            save(seeder.take(size - seeded))
            seeded = size
            seconds = round(time.monotonic() - started, 2)
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")  # as autovacuum would have by now
            print(f"{size} timeline rows seeded in {seconds} s; measuring ...", flush=True)
            sizes[str(size)] = {
                "rows": row_counts(),
                "seed_seconds": seconds,
                **measure_timeline(client, cast.trainee.pk, args.requests),
            }

            baselines[str(size)] = {
                **summary_ms(timings(live, args.requests, expect_ok)),
                "queries": queries_of(live)["count"],
            }

        parse = measure_parse_tweet()

    small, large = (sizes[str(size)] for size in SIZES)
    same_queries = {
        page: small[page]["queries"]["count"] == large[page]["queries"]["count"]
        for page in ("full_page", "htmx_feed")
    }
    same_feed = small["feed_shown"] == large["feed_shown"]
    ratios = {
        f"{page}_over_baseline_{size}": {
            "median": round(
                sizes[str(size)][page]["median_ms"] / baselines[str(size)]["median_ms"], 1
            ),
            "p95": round(sizes[str(size)][page]["p95_ms"] / baselines[str(size)]["p95_ms"], 1),
        }
        for size in SIZES
        for page in ("full_page", "htmx_feed")
    }
    growth = {
        f"{page}_median_{SIZES[1]}_over_{SIZES[0]}": round(
            large[page]["median_ms"] / small[page]["median_ms"], 2
        )
        for page in ("full_page", "htmx_feed", "feed_for_only")
    }
    return {
        "timeline": sizes,
        "baseline_health_live": baselines,
        "ratios": ratios,
        "growth": growth,
        "same_query_count": same_queries,
        "same_entries_shown": same_feed,
        "parse_tweet": parse,
        "config": {
            "database": "PostgreSQL (private database)",
            "django_debug": False,
            "client": "django.test.Client, logged in as the trainee",
            "requests": args.requests,
            "warm_up": WARM_UP,
            "cpus": os.cpu_count(),
            "python": sys.version.split()[0],
        },
        "wall_seconds": round(time.monotonic() - wall_start, 1),
    }


def print_summary(report: dict[str, Any]) -> None:
    lines = ["", "== timeline (Django test client, server time) =="]
    for size, figures in report["timeline"].items():
        rows = figures["rows"]
        base = report["baseline_health_live"][size]
        lines.append(
            f"{int(size):>6} rows ({rows['drafts']} drafts, {rows['timeline_items']} items; "
            f"{figures['feed_entries']} entries shown)"
        )
        for page in ("full_page", "htmx_feed"):
            f = figures[page]
            lines.append(
                f"  {page:14} median {f['median_ms']:>7} ms  p95 {f['p95_ms']:>7} ms  "
                f"{f['queries']['count']:>2} queries ({f['queries']['db_ms']} ms in the DB)"
            )
        f = figures["feed_for_only"]
        lines.append(
            f"  {'feed_for only':14} median {f['median_ms']:>7} ms  p95 {f['p95_ms']:>7} ms"
        )
        lines.append(
            f"  {'/health/live/':14} median {base['median_ms']:>7} ms  p95 {base['p95_ms']:>7} ms  "
            f"{base['queries']:>2} queries (baseline)"
        )
        for query in figures["slowest_queries"]:
            table = re.search(r'FROM "(\w+)"', query["sql"])
            lines.append(
                f"  slow query on {table.group(1) if table else '?':21} {query['ms']:>7} ms"
            )
    for name, ratio in report["ratios"].items():
        lines.append(f"  {name:34} x{ratio['median']} (median), x{ratio['p95']} (p95)")
    for name, ratio in report["growth"].items():
        lines.append(f"  {name:34} x{ratio}")
    for page, same in report["same_query_count"].items():
        verdict = "same" if same else "DIFFERENT (grows with the data)"
        lines.append(f"  query count of {page} at {SIZES[0]} and {SIZES[1]} rows: {verdict}")
    same = "the same" if report["same_entries_shown"] else "NOT the same"
    lines.append(f"  entries shown at {SIZES[0]} and {SIZES[1]} rows: {same}")
    p = report["parse_tweet"]
    lines += [
        "",
        f"== parse_tweet over {p['texts']} conformance texts ({p['characters']} characters) ==",
        f"  parse_tweet      {p['parse_tweet_texts_per_second']:>10} texts/s "
        f"({p['microseconds_per_text']} us each)",
        f"  baseline len()   {p['baseline_len_texts_per_second']:>10} texts/s  "
        f"parse_tweet takes x{p['parse_tweet_over_len_time_ratio']} the time",
        f"  str.encode()     {p['baseline_encode_texts_per_second']:>10} texts/s  "
        f"parse_tweet takes x{p['parse_tweet_over_encode_time_ratio']} the time",
        f"wall time {report['wall_seconds']} s",
    ]
    print("\n".join(lines))


def main(argv: list[str] | None = None) -> int:
    return _stack.run_and_report(parse_args(argv), run, print_summary, _stack.query_count_grew)


if __name__ == "__main__":
    sys.exit(main())
