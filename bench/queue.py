"""Benchmark the coach's approval queue and the trainee's portfolio as the drafts pile up.

    .venv/bin/python -m bench.queue [--requests 50] [--json bench/results/queue.json]

Seeds one organisation with 1,000 trainees, 20 coaches (one away with a cover coach, one
away with none, so routing takes every path) and 10 cohorts, then 100 drafts, measures,
tops up to 50,000 drafts and measures again. Drafts are bulk-created with their revisions
and, for decided ones, a review with rubric scores, as the services would leave them.

Measured through Django's test Client, logged in (server time: the whole request path,
middleware and template rendering, no network), median and p95 of the timed requests and
the queries per request:
- the queue as the coach first sees it (routed to them), its htmx rows fragment, and the
  queue with every filter set (everyone, a cohort, an account, waiting over 4 hours);
- the portfolio, the trainee's own (URL name ``portfolio``) and a coach's view of it
  (``trainee_portfolio``), if this checkout has that page; if not it says so and skips it;
- baselines in the same run: a bare Django view (no queries, just the middleware) and
  /health/live/ (one ``SELECT 1``).
Each page must make as many queries at 50,000 drafts as at 100 (exit status 1 if not).

It creates its own PostgreSQL database (sandpit_bench_queue_<pid>) and drops it at the end,
even on failure or Ctrl+C. Nothing here touches Redis.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import os
import random
import sys
import time
import types
import warnings
from typing import Any

from bench import _stack
from bench import timeline as timeline_bench  # the same timing and query-count helpers

DATABASE_PREFIX = "sandpit_bench_queue"
SIZES = (100, 50_000)
TRAINEES = 1_000
COACHES = 20
COHORTS = 10
REQUESTS = 50
# Every MEASURED_SHARE-th draft is the measured trainee's, so their portfolio grows too.
MEASURED_SHARE = 50
STATUS_WEIGHTS = {
    "draft": 20,
    "submitted": 15,
    "in_review": 5,
    "changes_requested": 15,
    "approved": 35,
    "rejected": 5,
    "withdrawn": 5,
}
DECISIONS = {"approved": "approve", "changes_requested": "request_changes", "rejected": "reject"}
TAGS = ("tone", "accuracy", "confidentiality", "accessibility", "plain_english", "timing")
TEXTS = timeline_bench.POST_TEXTS


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = _stack.command_line(__doc__, "queue.json")
    parser.add_argument("--requests", type=int, default=REQUESTS, help="timed requests (50)")
    return parser.parse_args(argv)


# Seeding -------------------------------------------------------------------------------------


class Cast:
    """The organisation, its account, its coaches, cohorts and trainees."""

    def __init__(self) -> None:
        from django.contrib.auth.models import User

        from sandbox.models import Cohort, Membership, Organisation, WorkplaceAccount

        today = dt.date.today()
        # Signed in by force_login, with no second factor: the organisation does not require one.
        self.organisation = Organisation.objects.create(
            name="Bench Health Board", slug="bench", second_factor_required=False
        )
        self.account = WorkplaceAccount.objects.create(
            organisation=self.organisation, handle="BenchBoard", display_name="Bench Health Board"
        )
        self.coaches = User.objects.bulk_create(
            User(username=f"coach{n:02}", first_name=f"Coach {n}") for n in range(COACHES)
        )
        self.trainees = User.objects.bulk_create(
            User(username=f"trainee{n:04}", first_name=f"Trainee {n}") for n in range(TRAINEES)
        )
        self.cohorts = Cohort.objects.bulk_create(
            Cohort(organisation=self.organisation, name=f"Intake {n + 1}") for n in range(COHORTS)
        )
        self.coach = self.coaches[0]  # whose queue is measured: covers for coaches[1]
        self.trainee = self.trainees[0]  # whose portfolio is measured
        away = {
            self.coaches[1].pk: (self.coach, today - dt.timedelta(days=1)),
            self.coaches[2].pk: (None, today - dt.timedelta(days=3)),
        }
        memberships = [
            Membership(
                user=coach,
                organisation=self.organisation,
                role="coach",
                away_from=away[coach.pk][1] if coach.pk in away else None,
                away_until=today + dt.timedelta(days=5) if coach.pk in away else None,
                cover_coach=away[coach.pk][0] if coach.pk in away else None,
            )
            for coach in self.coaches
        ]
        memberships += [
            Membership(
                user=trainee,
                organisation=self.organisation,
                role="trainee",
                # Every 25th trainee has no named coach: theirs go to the pool.
                coach=None if n % 25 == 24 else self.coaches[n % COACHES],
                cohort=self.cohorts[n % COHORTS],
            )
            for n, trainee in enumerate(self.trainees)
        ]
        Membership.objects.bulk_create(memberships)


class DraftSeeder:
    def __init__(self, cast: Cast) -> None:
        self.cast = cast
        self.rng = random.Random(50_000)
        self.now = dt.datetime.now(dt.UTC)
        self.serial = 0

    def author(self) -> Any:
        if self.serial % MEASURED_SHARE == 0:
            return self.cast.trainee
        return self.cast.trainees[self.rng.randrange(1, TRAINEES)]

    def save(self, count: int) -> None:
        from django.db import transaction

        from coaching.models import Review
        from sandbox.models import Draft, DraftRevision

        drafts, revisions, reviews = [], [], []
        for _ in range(count):
            self.serial += 1
            status = self.rng.choices(list(STATUS_WEIGHTS), list(STATUS_WEIGHTS.values()))[0]
            waiting = status in ("submitted", "in_review")
            # Waiting posts over the last three days (so some are past the 24-hour review
            # target); the rest over the last year.
            age = dt.timedelta(minutes=self.rng.uniform(5, 3 * 24 * 60 if waiting else 525_600))
            draft = Draft(
                author=self.author(),
                account=self.cast.account,
                status=status,
                submitted_at=None if status == "draft" else self.now - age,
                claimed_by=self.cast.coaches[3] if status == "in_review" else None,
                claimed_at=self.now - age / 2 if status == "in_review" else None,
            )
            text = f"{self.rng.choice(TEXTS)} ({self.serial})"
            revision = DraftRevision(
                draft=draft, number=1, text=text, content_hash=DraftRevision.hash_text(text)
            )
            drafts.append(draft)
            revisions.append(revision)
            if status in DECISIONS:
                reviews.append(
                    Review(
                        draft=draft,
                        revision=revision,
                        reviewer=self.cast.coaches[self.rng.randrange(COACHES)],
                        decision=DECISIONS[status],
                        content_hash=revision.content_hash,
                        safe=self.rng.randint(1, 4),
                        person_centred=self.rng.randint(1, 4),
                        effective=self.rng.randint(1, 4),
                        tags=self.rng.sample(TAGS, self.rng.randint(0, 2)),
                    )
                )
        with transaction.atomic():
            Draft.objects.bulk_create(drafts, batch_size=1000)
            DraftRevision.objects.bulk_create(revisions, batch_size=1000)
            for draft, revision in zip(drafts, revisions, strict=True):
                draft.current_revision = revision
            Draft.objects.bulk_update(drafts, ["current_revision"], batch_size=1000)
            Review.objects.bulk_create(reviews, batch_size=1000)


# Measuring -------------------------------------------------------------------------------------


def install_bare_view() -> str:
    """A URLconf with every real URL plus /bench/bare/: a view that makes no query and
    renders no template, so its time is the framework's and the middleware's alone."""
    from django.http import HttpRequest, HttpResponse
    from django.test.utils import override_settings
    from django.urls import include, path

    def bare(request: HttpRequest) -> HttpResponse:
        return HttpResponse("ok", content_type="text/plain")

    module = types.ModuleType("bench_queue_urls")
    module.urlpatterns = [path("bench/bare/", bare), path("", include("sandbox.urls"))]  # type: ignore[attr-defined]
    sys.modules[module.__name__] = module
    override_settings(ROOT_URLCONF=module.__name__).enable()
    return "/bench/bare/"


def page_urls(cast: Cast) -> tuple[dict[str, tuple[Any, str, dict[str, str]]], list[str]]:
    """name -> (client, url, headers); and the pages this checkout does not have."""
    from django.test import Client
    from django.urls import NoReverseMatch, reverse

    coach, trainee = Client(), Client()
    coach.force_login(cast.coach)
    trainee.force_login(cast.trainee)
    queue = reverse("queue")
    filtered = f"{queue}?scope=all&cohort={cast.cohorts[0].pk}&account={cast.account.pk}&age=4h"
    pages: dict[str, tuple[Any, str, dict[str, str]]] = {
        "queue_mine": (coach, queue, {}),
        "queue_rows_htmx": (coach, queue, {"HX-Request": "true"}),
        "queue_all_filtered": (coach, filtered, {}),
    }
    missing = []
    for name, client, args in (
        ("portfolio_own", trainee, ("portfolio", [])),
        ("portfolio_coach_view", coach, ("trainee_portfolio", [cast.trainee.pk])),
    ):
        try:
            pages[name] = (client, reverse(args[0], args=args[1]), {})
        except NoReverseMatch:
            missing.append(name)
    return pages, missing


def measure(pages: dict[str, tuple[Any, str, dict[str, str]]], requests: int) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for name, (client, url, headers) in pages.items():

        def get(client: Any = client, url: str = url, headers: dict[str, str] = headers) -> Any:
            return client.get(url, headers=headers)

        timed = timeline_bench.timings(get, requests, timeline_bench.expect_ok)
        queries = timeline_bench.queries_of(get)
        result[name] = {
            "url": url,
            **timeline_bench.summary_ms(timed),
            "bytes": len(get().content),
            "queries": queries["count"],
            "db_ms": queries["db_ms"],
            # What grows with the data, if anything: the slowest queries, as sent.
            "slowest_queries": sorted(queries["queries"], key=lambda q: -q["ms"])[:3],
        }
    return result


def baseline(bare_url: str, requests: int) -> dict[str, Any]:
    from django.test import Client

    client = Client()
    return measure(
        {"bare_view": (client, bare_url, {}), "health_live": (client, "/health/live/", {})},
        requests,
    )


def row_counts() -> dict[str, int]:
    from coaching.models import Review
    from sandbox.models import Draft, Membership

    return {
        "trainees": Membership.objects.filter(role="trainee").count(),
        "drafts": Draft.objects.count(),
        "waiting": Draft.objects.filter(status__in=("submitted", "in_review")).count(),
        "reviews": Review.objects.count(),
    }


# The run -----------------------------------------------------------------------------------------


def run(args: argparse.Namespace) -> dict[str, Any]:
    _stack.require_postgres()
    wall_start = time.monotonic()
    with contextlib.ExitStack() as stack:
        database = _stack.private_database(DATABASE_PREFIX)
        stack.callback(_stack.drop_database, database)
        _stack.recreate_database(database)
        env = timeline_bench.bench_env(database)
        env["REDIS_URL"] = timeline_bench.REDIS_URL
        _stack.setup_django(env)
        _stack.migrate()

        from django.db import connection

        # WhiteNoise notes that collectstatic never ran; the pages do not need it to.
        warnings.filterwarnings("ignore", message="No directory at")

        bare_url = install_bare_view()
        cast = Cast()
        seeder = DraftSeeder(cast)
        pages, missing = page_urls(cast)
        for name in missing:
            print(f"{name}: portfolio page not present in this checkout; skipped", flush=True)

        sizes: dict[str, Any] = {}
        seeded = 0
        for size in SIZES:
            started = time.monotonic()
            seeder.save(size - seeded)
            seeded = size
            seconds = round(time.monotonic() - started, 2)
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")  # as autovacuum would have by now
            print(f"{size} drafts seeded in {seconds} s; measuring ...", flush=True)
            sizes[str(size)] = {
                "rows": row_counts(),
                "seed_seconds": seconds,
                "pages": measure(pages, args.requests),
                "baseline": baseline(bare_url, args.requests),
            }

    small, large = (sizes[str(size)] for size in SIZES)
    same_queries = {
        name: small["pages"][name]["queries"] == large["pages"][name]["queries"]
        for name in small["pages"]
    }
    ratios = {
        f"{name}_over_bare_view_{size}": round(
            figures["pages"][name]["median_ms"] / figures["baseline"]["bare_view"]["median_ms"], 1
        )
        for size, figures in sizes.items()
        for name in figures["pages"]
    }
    return {
        "sizes": sizes,
        "same_query_count": same_queries,
        "median_over_bare_view": ratios,
        "skipped": {name: "portfolio page not present" for name in missing},
        "config": {
            "database": "PostgreSQL (private database)",
            "django_debug": False,
            "client": "django.test.Client, logged in",
            "trainees": TRAINEES,
            "coaches": COACHES,
            "cohorts": COHORTS,
            "requests": args.requests,
            "warm_up": timeline_bench.WARM_UP,
            "cpus": os.cpu_count(),
            "python": sys.version.split()[0],
        },
        "wall_seconds": round(time.monotonic() - wall_start, 1),
    }


def print_summary(report: dict[str, Any]) -> None:
    lines = ["", "== queue and portfolio (Django test client, server time) =="]
    for size, figures in report["sizes"].items():
        rows = figures["rows"]
        lines.append(
            f"{int(size):>6} drafts ({rows['waiting']} waiting, {rows['reviews']} reviews, "
            f"{rows['trainees']} trainees)"
        )
        for group in ("pages", "baseline"):
            for name, f in figures[group].items():
                label = f"{name}{' (baseline)' if group == 'baseline' else ''}"
                lines.append(
                    f"  {label:26} median {f['median_ms']:>7} ms  p95 {f['p95_ms']:>7} ms  "
                    f"{f['queries']:>2} queries ({f['db_ms']} ms in the DB)"
                )
    for name, same in report["same_query_count"].items():
        verdict = "same" if same else "DIFFERENT (grows with the data)"
        lines.append(f"  query count of {name} at {SIZES[0]} and {SIZES[1]} drafts: {verdict}")
    for name, reason in report["skipped"].items():
        lines.append(f"  {name}: {reason}")
    lines.append(f"wall time {report['wall_seconds']} s")
    print("\n".join(lines))


def main(argv: list[str] | None = None) -> int:
    return _stack.run_and_report(parse_args(argv), run, print_summary, _stack.query_count_grew)


if __name__ == "__main__":
    sys.exit(main())
