"""Fill a database with load-test data, in bulk: an organisation with its coaches (some
away, with cover), cohorts and trainees, tens of thousands of drafts in every state (with
threads, images, reviews and publications) and one trainee's long private timeline.

    python manage.py seed_load --drafts 50000 --trainees 1000 --timeline-items 10000 \
        --username load-trainee

The options are a stable interface: bench/pages.py and anyone's own load test call it.
It lives in coaching because it writes coaching's reviews and publications as well as
authoring's drafts (coaching builds on sandbox, never the other way).

Rows are written with bulk inserts in batches, as the services would leave them, not
through the services themselves: 50,000 drafts through draft_create and review_approve
would take most of an hour. It only adds: run it on an empty database (or after
``flush``). It refuses to run in production.
"""

from __future__ import annotations

import datetime as dt
import random
import time
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import User
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, transaction
from django.utils import timezone

from coaching.models import Publication, Review
from sandbox import audience, personas
from sandbox.checks import run_checks
from sandbox.models import (
    Cohort,
    Draft,
    DraftRevision,
    Membership,
    Organisation,
    PostImage,
    Scenario,
    ScenarioRun,
    TimelineItem,
    WorkplaceAccount,
)

BATCH = 5_000  # drafts (or timeline entries) per transaction
TRAINEES_PER_COACH = 50
TRAINEES_PER_COHORT = 25
ORGANISATION_SLUG = "load-health-board"

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
THREAD_TEXTS = (
    "Part two: bring your red book and a list of any medicines you take.",
    "And a huge thank you to the volunteers who helped on the day 💙",
    "Update: the clinic will also run on Saturday morning.",
)
PRACTICE_TEXTS = (
    "Ward 3 is closed to visitors today because of norovirus. Please do not visit if you "
    "have been unwell in the last 48 hours. #Norovirus",
    "Honestly some patients are just rude to our reception staff. Sort it out, people!",
    "Our new MRI scanner is now open, cutting waiting times for scans across Kelderby. "
    "https://kelderby.nhs.uk/mri #Imaging",
    "Staff car park closed tomorrow for resurfacing. Park and ride from the retail park "
    "runs every 10 minutes 🚌",
    "We are aware of long waits in A&E tonight. Our staff are working flat out. Thank you "
    "for your patience 🙏 #Kelderby",
)
FIRST_NAMES = ("Aisha", "Ben", "Chloe", "Dev", "Ellen", "Femi", "Grace", "Harry", "Isla", "Jon")
LAST_NAMES = ("Patel", "Jones", "Smith", "Okafor", "Wright", "Khan", "Evans", "Nowak", "Reid")
# About a fifth waiting for a coach, as in the 50,000 drafts with 10,000 waiting.
STATUS_WEIGHTS = {
    "draft": 25,
    "submitted": 14,
    "in_review": 6,
    "changes_requested": 12,
    "approved": 30,
    "rejected": 5,
    "withdrawn": 8,
}
PUBLICATION_WEIGHTS = {"published": 85, "queued": 5, "failed": 6, "unconfirmed": 4}
ITEM_WEIGHTS = {"practice": 30, "persona": 55, "scenario": 15}
IMAGE_SHARE = 0.05
THREAD_SHARE = 0.1


@dataclass
class Cast:
    organisation: Organisation
    account: WorkplaceAccount
    trainees: list[User]
    coach_of: dict[int, User]  # trainee id -> named coach
    timeline_owner: User


@dataclass
class DraftRows:
    drafts: list[Draft] = field(default_factory=list)
    moments: list[dt.datetime] = field(default_factory=list)
    images: list[PostImage] = field(default_factory=list)
    revisions: list[list[DraftRevision]] = field(default_factory=list)
    with_image: list[int] = field(default_factory=list)  # indexes into drafts
    reviews: list[Review | None] = field(default_factory=list)
    publications: list[Publication | None] = field(default_factory=list)


class Command(BaseCommand):
    help = "Bulk-load a realistic volume of drafts, trainees and timeline items (load tests)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--drafts", type=int, default=50_000)
        parser.add_argument("--trainees", type=int, default=1_000)
        parser.add_argument("--timeline-items", type=int, default=10_000)
        parser.add_argument(
            "--username", default="load-trainee", help="the trainee whose timeline gets the items"
        )
        parser.add_argument("--coach", default="load-coach", help="the username of a coach")
        parser.add_argument("--seed", type=int, default=13, help="for the random choices")

    def handle(self, *args: Any, **options: Any) -> None:
        if settings.PRODUCTION:
            raise CommandError("seed_load writes made-up people and posts; not in production.")
        if connection.vendor != "postgresql":
            raise CommandError("seed_load needs PostgreSQL (set DATABASE_URL).")
        if options["trainees"] < 1 or options["drafts"] < 0 or options["timeline_items"] < 0:
            raise CommandError("--trainees must be at least 1; --drafts and --timeline-items 0+.")
        if Organisation.objects.filter(slug=ORGANISATION_SLUG).exists():
            raise CommandError("This database already has load data; run it on an empty one.")
        started = time.monotonic()
        loader = Loader(random.Random(options["seed"]), timezone.now())  # noqa: S311
        cast = loader.people(options["trainees"], options["username"], options["coach"])
        done = 0
        while done < options["drafts"]:
            size = min(BATCH, options["drafts"] - done)
            loader.save_drafts(loader.drafts(cast, size))
            done += size
            self.stdout.write(f"  {done} drafts", ending="\r")
        loader.timeline(cast, options["timeline_items"])
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        self.stdout.write(
            f"\nLoaded {options['trainees']} trainees, {options['drafts']} drafts and "
            f"{options['timeline_items']} timeline items for {options['username']} "
            f"in {time.monotonic() - started:.1f} s."
        )


class Loader:
    def __init__(self, rng: random.Random, now: dt.datetime) -> None:
        self.rng = rng
        self.now = now
        self.serial = 0  # makes every text unique, as real posts are
        self.password = make_password(None)  # unusable: sign in by session only
        self.personas = [p.slug for p in personas.PERSONAS]
        # The audience's plan for each practice text, worked out once with the real rules.
        self.plans = [
            audience.plan(text, seed=n, findings=run_checks(text)).as_dict()
            for n, text in enumerate(PRACTICE_TEXTS)
        ]

    def _text(self, pool: tuple[str, ...]) -> str:
        self.serial += 1
        return f"{self.rng.choice(pool)} ({self.serial})"

    def _weighted(self, weights: dict[str, int]) -> str:
        return self.rng.choices(list(weights), weights=list(weights.values()))[0]

    # People ---------------------------------------------------------------------------------

    @transaction.atomic
    def people(self, trainee_count: int, username: str, coach_name: str) -> Cast:
        # Load-test people are signed in by making a session, with no second factor, so the
        # organisation does not require one (every real organisation does by default).
        organisation = Organisation.objects.create(
            name="Load Health Board", slug=ORGANISATION_SLUG, second_factor_required=False
        )
        account = WorkplaceAccount.objects.create(
            organisation=organisation,
            platform=WorkplaceAccount.Platform.X,
            handle="LoadBoard",
            display_name="Load Health Board",
            remote_user_id="4000",
            access_token="load-test-token",  # noqa: S106 - never sent anywhere
        )
        coach_count = max(2, trainee_count // TRAINEES_PER_COACH)
        coaches = User.objects.bulk_create(
            [
                self._user(coach_name if n == 0 else f"{coach_name}-{n}", n)
                for n in range(coach_count)
            ]
        )
        trainees = User.objects.bulk_create(
            [
                self._user(username if n == 0 else f"{username}-{n}", n + 7)
                for n in range(trainee_count)
            ]
        )
        cohorts = Cohort.objects.bulk_create(
            [
                Cohort(organisation=organisation, name=f"Intake {n + 1}")
                for n in range(max(1, trainee_count // TRAINEES_PER_COHORT))
            ]
        )
        today = timezone.localdate(self.now)
        memberships = []
        for n, coach in enumerate(coaches):
            away = n % 10 == 1  # one coach in ten is away today, covered by the next
            memberships.append(
                Membership(
                    user=coach,
                    organisation=organisation,
                    role=Membership.Role.COACH,
                    away_from=today - dt.timedelta(days=1) if away else None,
                    away_until=today + dt.timedelta(days=3) if away else None,
                    cover_coach=coaches[(n + 1) % coach_count] if away else None,
                )
            )
        coach_of: dict[int, User] = {}
        for n, trainee in enumerate(trainees):
            # Every twentieth trainee has no named coach: their posts go to the pool.
            named: User | None = None if n % 20 == 19 else coaches[n % coach_count]
            if named is not None:
                coach_of[trainee.pk] = named
            memberships.append(
                Membership(
                    user=trainee,
                    organisation=organisation,
                    role=Membership.Role.TRAINEE,
                    cohort=cohorts[n % len(cohorts)],
                    coach=named,
                )
            )
        Membership.objects.bulk_create(memberships, batch_size=1000)
        return Cast(organisation, account, trainees, coach_of, trainees[0])

    def _user(self, username: str, n: int) -> User:
        return User(
            username=username,
            first_name=FIRST_NAMES[n % len(FIRST_NAMES)],
            last_name=LAST_NAMES[(n // len(FIRST_NAMES)) % len(LAST_NAMES)],
            password=self.password,
        )

    # Drafts ---------------------------------------------------------------------------------

    def drafts(self, cast: Cast, count: int) -> DraftRows:
        rows = DraftRows()
        for _ in range(count):
            author = self.rng.choice(cast.trainees)
            coach = cast.coach_of.get(author.pk) or next(iter(cast.coach_of.values()))
            status = self._weighted(STATUS_WEIGHTS)
            waiting = status in ("submitted", "in_review")
            # Waiting drafts over the last three days (a third past the 24-hour target);
            # the rest over the last year.
            moment = self.now - dt.timedelta(
                minutes=self.rng.uniform(1, 3 * 24 * 60 if waiting else 365 * 24 * 60)
            )
            draft = Draft(author=author, account=cast.account, status=status)
            if status not in ("draft", "withdrawn"):
                draft.submitted_at = draft.first_submitted_at = moment
            if status == "in_review":
                draft.claimed_by, draft.claimed_at = coach, moment
            revisions = []
            for number in range(1, self.rng.choice((1, 1, 1, 2)) + 1):
                text = self._text(POST_TEXTS)
                thread = [self._text(THREAD_TEXTS)] if self.rng.random() < THREAD_SHARE else []
                revisions.append(
                    DraftRevision(
                        draft=draft,
                        number=number,
                        text=text,
                        thread=thread,
                        content_hash=DraftRevision.hash_posts([text, *thread]),
                    )
                )
            if self.rng.random() < IMAGE_SHARE:
                rows.with_image.append(len(rows.drafts))
                rows.images.append(
                    PostImage(
                        draft=draft,
                        uploaded_by=author,
                        file=f"post-images/load/{self.serial}.png",
                        content_type="image/png",
                        width=1200,
                        height=675,
                        size=84_000,
                        sha256=f"{self.serial:064x}",
                    )
                )
            rows.drafts.append(draft)
            rows.moments.append(moment)
            rows.revisions.append(revisions)
            review = publication = None
            decision = {
                "approved": Review.Decision.APPROVE,
                "changes_requested": Review.Decision.REQUEST_CHANGES,
                "rejected": Review.Decision.REJECT,
            }.get(status)
            if decision is not None:
                review = Review(
                    draft=draft,
                    revision=revisions[-1],
                    reviewer=coach,
                    decision=decision,
                    safe=self.rng.randint(2, 4),
                    person_centred=self.rng.randint(2, 4),
                    effective=self.rng.randint(2, 4),
                )
            if status == "approved":
                publication = self._publication(cast, draft, review)
            rows.reviews.append(review)
            rows.publications.append(publication)
        return rows

    def _publication(self, cast: Cast, draft: Draft, review: Review | None) -> Publication:
        outcome = self._weighted(PUBLICATION_WEIGHTS)
        remote_id = str(1_800_000_000_000 + self.serial) if outcome == "published" else ""
        remote_url = f"https://x.com/{cast.account.handle}/status/{remote_id}" if remote_id else ""
        return Publication(
            draft=draft,
            approval=review,
            account=cast.account,
            status=outcome,
            remote_id=remote_id,
            remote_url=remote_url,
            error="X answered 503 three times." if outcome == "failed" else "",
        )

    @transaction.atomic
    def save_drafts(self, rows: DraftRows) -> None:
        Draft.objects.bulk_create(rows.drafts, batch_size=1000)
        PostImage.objects.bulk_create(rows.images, batch_size=1000)
        # A revision names its images (and its hash covers them), so images come first.
        for index, image in zip(rows.with_image, rows.images, strict=True):
            current = rows.revisions[index][-1]
            current.images = [[{"id": image.pk, "alt": "A nurse giving a flu jab."}]]
            current.content_hash = DraftRevision.hash_posts(current.posts, current.images)
        DraftRevision.objects.bulk_create(
            [revision for revisions in rows.revisions for revision in revisions], batch_size=1000
        )
        reviews = []
        for revisions, review in zip(rows.revisions, rows.reviews, strict=True):
            if review is not None:
                review.revision = revisions[-1]
                review.content_hash = revisions[-1].content_hash
                reviews.append(review)
        Review.objects.bulk_create(reviews, batch_size=1000)
        publications = []
        for revisions, publication in zip(rows.revisions, rows.publications, strict=True):
            if publication is not None:
                current = revisions[-1]
                publication.revision = current
                publication.text = current.text
                publication.content_hash = current.content_hash
                publication.parts = [
                    {"text": post, "remote_id": publication.remote_id, "remote_url": ""}
                    for post in current.posts
                ]
                publications.append(publication)
        Publication.objects.bulk_create(publications, batch_size=1000)
        # auto_now fields take "now" on insert; one UPDATE gives each draft its place in
        # time and its current revision.
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE sandbox_draft AS d SET updated_at = v.moment, created_at = v.created, "
                "current_revision_id = v.revision "
                "FROM unnest(%s::bigint[], %s::timestamptz[], %s::timestamptz[], %s::bigint[]) "
                "AS v(id, moment, created, revision) WHERE d.id = v.id",
                [
                    [draft.pk for draft in rows.drafts],
                    rows.moments,
                    [moment - dt.timedelta(hours=2) for moment in rows.moments],
                    [revisions[-1].pk for revisions in rows.revisions],
                ],
            )

    # One trainee's timeline -----------------------------------------------------------------

    def timeline(self, cast: Cast, count: int) -> None:
        owner, account = cast.timeline_owner, cast.account
        scenario = Scenario.objects.create(
            organisation=cast.organisation, title="Winter pressures", items=[]
        )
        run = ScenarioRun.objects.create(
            scenario=scenario, trainee=owner, started_at=self.now - dt.timedelta(days=400)
        )
        made = 0
        while made < count:
            size = min(BATCH, count - made)
            levels: list[list[TimelineItem]] = [[], [], []]
            rows = 0
            while rows < size:
                moment = self.now - dt.timedelta(minutes=self.rng.uniform(1, 365 * 24 * 60))
                kind = self._weighted(ITEM_WEIGHTS)
                if kind == "practice" and size - rows >= 1 + len(self.plans[0]["reactions"]) + 1:
                    which = self.rng.randrange(len(PRACTICE_TEXTS))
                    plan = self.plans[which]
                    self.serial += 1
                    head = TimelineItem(
                        owner=owner,
                        account=account,
                        text=f"{PRACTICE_TEXTS[which]} ({self.serial})",
                        appear_at=moment,
                        audience=plan,
                    )
                    levels[0].append(head)
                    rows += 1
                    for reaction in plan["reactions"][: size - rows]:
                        levels[1].append(
                            TimelineItem(
                                owner=owner,
                                persona=reaction["persona"],
                                kind=reaction["kind"],
                                text=reaction["text"],
                                parent=head,
                                rule=reaction["rule"],
                                appear_at=moment + dt.timedelta(seconds=reaction["at_seconds"]),
                            )
                        )
                        rows += 1
                    continue
                item = TimelineItem(
                    owner=owner,
                    persona=self.rng.choice(self.personas),
                    text=self._text(POST_TEXTS),
                    appear_at=moment,
                    scenario_run=run if kind == "scenario" else None,
                )
                levels[0].append(item)
                rows += 1
                if kind == "scenario" and rows < size and self.rng.random() < 0.5:
                    levels[1].append(
                        TimelineItem(
                            owner=owner,
                            persona=self.rng.choice(self.personas),
                            kind=TimelineItem.Kind.REPLY,
                            text=self._text(THREAD_TEXTS),
                            parent=item,
                            appear_at=moment + dt.timedelta(minutes=5),
                            scenario_run=run,
                        )
                    )
                    rows += 1
            with transaction.atomic():
                for level in levels:
                    TimelineItem.objects.bulk_create(level, batch_size=1000)
            made += rows
