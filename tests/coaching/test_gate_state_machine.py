"""The approval gate, as a state machine: whatever anyone does, in any order, with the
platform misbehaving, nothing reaches the real account unless a coach approved exactly
that text (or, for a trainee in spot-check mode, the automatic pass approved it).

Hypothesis drives random sequences of every action by every role through the services
(the calls the views and the Celery tasks make) against the X API double over real HTTP,
and after every step checks what is live on the double:

(a) every live post is the text of a revision that was approved *as that revision*: the
    machine keeps its own record of which revision each approving coach was shown, so an
    approval that lands on other text (an edit that slipped in) is caught, rather than
    read back from the database that made the mistake;
(b) every live post is there once: no two live posts are the same post of the same
    revision; every post Sandpit records as live is live, with that text; and a live post
    Sandpit has not recorded is one whose outcome it says it does not know (unconfirmed)
    or one a coach chose to "publish anyway";
(c) an edit made after approval never goes live unless it was itself approved.

A refusal (DomainError, PermissionDenied) is a normal answer: most random actions are not
allowed. Anything else a service raises fails the test.

The machine plays the Celery worker and beat: a worker run is the publish task itself,
sometimes with a fault injected at the double first. Time moves on by back-dating the
stored times the services compare with now (as other tests here do), since nothing in
this project freezes the clock.
"""

from __future__ import annotations

import datetime as dt
import itertools
import sys
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import F, Q
from django.test import override_settings
from django.utils import timezone
from hypothesis import HealthCheck, Phase, note
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from coaching import services as coaching
from coaching import tasks
from coaching.models import AuditEvent, Publication, PublishAttempt, PublishingStop, Review
from doubles.x import XDouble
from sandbox import services as sandbox
from sandbox.errors import DomainError
from sandbox.models import Draft, DraftRevision, WorkplaceAccount
from tests import factories

P = Publication.Status
S = Draft.Status

# Bounded for `make test`: about 30 s on a quiet two-core machine, 40 to 55 s while other
# suites share it. Each example is a fresh organisation; each step is one action, worker
# run or tick of the clock, and every example ends by letting the worker catch up.
EXAMPLES = 40
STEPS = 25

SENTENCES = (
    "Flu jabs are available on Ward 4 this week",
    "The minor injuries unit opens early on Saturday",
    "Our physiotherapy team is recruiting",
    "Thank you to everyone who gave blood this month",
    "The main car park is closed for resurfacing",
    "Visiting times on the children's ward are changing",
    "Meet our new midwives at the open day",
    "The pharmacy is closed for stocktaking on Monday",
)
# A second post, for the drafts that are threads: a thread can stop part-way and resume.
FOLLOW_UPS = (
    "Please share with anyone who may need it",
    "More details are on our website soon",
)

# Everyone who may try anything. The outside coach belongs to another organisation.
PEOPLE = ("trainee", "other_trainee", "coach", "admin", "outside_coach")
REVIEWERS = ("coach", "admin")  # our organisation's REVIEWER_ROLES
# Anyone may try anything, but the person whose job it is tries most often: with everyone
# equally likely, a short run would seldom get a post approved and out. They come first,
# so a failing example shrinks towards them. "author" is the draft's own author.
CREATORS = st.sampled_from(("trainee", "trainee", "other_trainee", *PEOPLE))
AUTHORS = st.sampled_from(("author",) * 5 + PEOPLE)
REVIEWING = st.sampled_from(("coach",) * 3 + ("admin",) + PEOPLE)
# Which draft or publication an action is on: an index into the machine's list of them,
# sorted for each action so that the ones it could apply to come first (a submission
# waiting for review, for an approval). Small numbers are likelier, and any draft can
# still be chosen, so actions on the wrong thing are tried too.
PICK = st.sampled_from((0, 0, 0, 0, 1, 1, 2, 3, 4, 5, 6, 7))
# Whether the author saves an edit while the coach's review page is open, so that the
# decision arrives for a revision that is no longer the newest.
EDITED_MEANWHILE = st.sampled_from((False, False, True))
EDIT_SENTENCE = "Corrected: the clinic opens at nine"
# Few drafts on their way to a decision at once, so the actions pile up on them; a new
# one can start when a coach has decided on others (or they were withdrawn).
MAX_UNDECIDED_DRAFTS = 3
UNDECIDED = (S.DRAFT, S.SUBMITTED, S.IN_REVIEW, S.CHANGES_REQUESTED)
# Rounds of catching up at the end of an example: a thread found live by reconcile needs
# a second worker run for its next post.
SETTLE_ROUNDS = 3
FINISHED = (S.WITHDRAWN, S.REJECTED)
SETTLED = (P.CANCELLED, P.RETRACTED)

# What a worker run meets at the double. "refused" is a connection refused (NotSent: the
# post surely did not go); the others strike the create request (see doubles.x.FAULTS):
# 5xx-after, reset and hang-after store the post but lose the answer; 5xx-before stores
# nothing but looks the same from outside; 403-duplicate is a refusal; 429 a rate limit.
# 401 is left out: it parks the account until an admin reconnects it, which would end
# the example's publishing at the first one.
WORKER_FAULTS = st.sampled_from(
    (
        None,
        None,
        None,
        "refused",
        "5xx-before",
        "5xx-after",
        "reset",
        "hang-after",
        "403-duplicate",
        "429",
    )
)
# The double holds a "hang-after" answer for seconds; the publisher gives up sooner.
HANG_READ_TIMEOUT = 0.3
REFUSED_URL = "http://127.0.0.1:9"  # the discard port: nothing listens

_unique = itertools.count(1)
REFUSED = object()


def attempt(service: Callable[..., Any], **kwargs: Any) -> Any:
    """Call a service; a refusal (the person may not, or not now) is an answer, not a
    failure, and returns REFUSED. Anything else propagates and fails the example."""
    try:
        return service(**kwargs)
    except (DomainError, PermissionDenied) as refusal:
        note(f"    refused: {refusal}")
        return REFUSED


class ApprovalGate(RuleBasedStateMachine):
    # Set by the test function: the session's X double.
    double: XDouble

    def __init__(self) -> None:
        super().__init__()
        # Everything an example writes is rolled back at teardown (a savepoint inside the
        # test's transaction), and its account has a handle no other example used, so one
        # example's posts and records can never satisfy or break another's invariant.
        self._atomic = transaction.atomic()
        self._atomic.__enter__()
        n = next(_unique)
        self.handle = f"GateSM{n}"
        self.organisation = factories.OrganisationFactory(
            name=f"Gate Board {n}",
            # Earned autonomy on, and earned by one scored first-pass approval, so that
            # spot-check passes (approvals no coach made) and coaches holding them are
            # a common part of the run; every other post after that is passed.
            autonomy_streak=1,
            autonomy_min_score=3,
            spot_check_every=2,
            spot_check_delay_minutes=5,
        )
        elsewhere = factories.OrganisationFactory(name=f"Gate Elsewhere {n}")
        self.account = factories.AccountFactory(organisation=self.organisation, handle=self.handle)
        self.double.reset()  # no faults or posts left from anything before
        self.double.add_user(self.handle, name=self.organisation.name, token=factories.X_TOKEN)
        self.people: dict[str, User] = {
            "trainee": factories.member(self.organisation, "trainee", username=f"g{n}tara"),
            "other_trainee": factories.member(self.organisation, "trainee", username=f"g{n}otto"),
            "coach": factories.member(self.organisation, "coach", username=f"g{n}cora"),
            "admin": factories.member(self.organisation, "admin", username=f"g{n}ada"),
            "outside_coach": factories.member(elsewhere, "coach", username=f"g{n}olga"),
        }
        # The machine's own record, kept apart from the database under test.
        # Post text -> (draft, revision, post index): every text is unique in an example.
        self.text_of: dict[str, tuple[int, int, int]] = {}
        self.revisions_of: dict[int, list[int]] = {}  # draft -> its revisions, in order
        # Revision -> who approved it while shown exactly it ("spot-check" for a pass).
        self.approved: dict[int, str] = {}
        self.publication_count = 0
        self.undecided_drafts = 0

    def teardown(self) -> None:
        try:
            # Only after a clean run: a step that failed is the failure to report.
            # (Teardown runs in Hypothesis's ``finally``, where exc_info is that failure.)
            if sys.exc_info()[0] is None:
                self._settle()
        finally:
            transaction.set_rollback(True)
            self._atomic.__exit__(None, None, None)

    def _settle(self) -> None:
        """The end of every example: the clock runs on and the beat and the worker catch
        up, with the platform behaving, so every approved post that can go out does, and
        the invariant is checked on that too. Without this, a run in which the random
        steps never happened to start the worker after an approval would prove nothing."""
        note("settling: time passes, the beat sweeps and the worker takes the queue")
        waiting = Publication.objects.filter(
            account=self.account, status__in=(P.QUEUED, P.UNCONFIRMED)
        )
        for _ in range(SETTLE_ROUNDS):
            if not waiting.exists():
                break
            self.time_passes(minutes=90)
            self.beat_sweeps()
            self.worker_takes_the_queue(fault=None)
            self.only_approved_text_is_live_and_only_once()

    # Choosing what to act on ------------------------------------------------------------------

    def _draft(self, pick: int, *apt: str) -> Draft:
        """A fresh copy of a draft (as a view loads one per request): those in one of the
        ``apt`` states first, then the others still open, then the finished ones."""
        drafts = sorted(
            Draft.objects.filter(account=self.account).select_related("current_revision"),
            key=lambda d: (d.status not in apt, d.status in FINISHED, d.pk),
        )
        draft = drafts[pick % len(drafts)]
        note(f"    on draft {draft.pk} ({draft.status}, revision {self._number(draft)})")
        return draft

    def _number(self, draft: Draft) -> int:
        return self.revisions_of[draft.pk].index(draft.current_revision_id) + 1

    def _review_page(self, draft: Draft, edited_meanwhile: bool) -> DraftRevision:
        """The revision a coach's review page shows: the draft's newest when it loads. With
        ``edited_meanwhile`` the author saves an edit before the coach decides, and
        ``draft`` is reloaded, as the view handling the decision loads it."""
        shown = draft.current_revision
        assert shown is not None
        if edited_meanwhile:
            text, _ = self._posts(EDIT_SENTENCE, thread=False)
            if attempt(sandbox.draft_edit, draft=draft, by=draft.author, text=text) is not REFUSED:
                draft.refresh_from_db()
                self._learn(draft)
                note(f"    the author edits meanwhile: revision {self._number(draft)}")
        return shown

    def _publication(self, pick: int, *apt: str) -> Publication:
        """Likewise: those in one of the ``apt`` states first, settled ones last."""
        publications = sorted(
            Publication.objects.filter(account=self.account).select_related("draft", "account"),
            key=lambda p: (p.status not in apt, p.status in SETTLED, p.pk),
        )
        publication = publications[pick % len(publications)]
        note(f"    on publication {publication.pk} ({publication.status})")
        return publication

    # Preconditions read these, which the invariant refreshes after every step (it reads
    # the publications anyway), rather than querying for each rule at each step.

    def _has_publications(self) -> bool:
        return self.publication_count > 0

    def _room_for_a_draft(self) -> bool:
        return self.undecided_drafts < MAX_UNDECIDED_DRAFTS

    def _person(self, who: str, draft: Draft) -> User:
        return draft.author if who == "author" else self.people[who]

    def _posts(self, sentence: str, thread: bool) -> tuple[str, list[str]]:
        n = next(_unique)
        return f"{sentence}, update {n}", [f"{FOLLOW_UPS[n % 2]}, update {n}"] if thread else []

    def _learn(self, draft: Draft) -> None:
        """Record the draft's current revision, which this step has just made."""
        revision = draft.current_revision
        assert revision is not None
        for index, text in enumerate(revision.posts):
            self.text_of[text] = (draft.pk, revision.pk, index)
        self.revisions_of.setdefault(draft.pk, []).append(revision.pk)

    # Authoring --------------------------------------------------------------------------------

    @initialize(
        sentences=st.lists(st.sampled_from(SENTENCES), min_size=3, max_size=3),
        earned_autonomy=st.booleans(),
    )
    def posts_wait_for_review(self, sentences: list[str], earned_autonomy: bool) -> None:
        """Each example starts with both trainees' posts sent for review, so that a short
        run still gets as far as approving and publishing. In half of them the coach has
        approved the trainee's first post with good scores, which earns spot-check mode,
        so her next post is passed with no coach and waits out its delay. Setting up
        through the services, not under test: it must simply work."""
        trainee, other = self.people["trainee"], self.people["other_trainee"]
        first = self._sent(trainee, sentences[0])
        self._sent(other, sentences[1])
        if earned_autonomy:
            shown = first.current_revision
            coaching.review_approve(
                draft=first, by=self.people["coach"], revision=shown, scores=factories.SCORES
            )
            self.approved[shown.pk] = "coach"
            passed = self._sent(trainee, sentences[2])
            assert passed.status == S.APPROVED, "the spot-check pass did not happen"
            self.approved[passed.current_revision_id] = "spot-check"

    def _sent(self, author: User, sentence: str) -> Draft:
        text, _ = self._posts(sentence, thread=False)
        draft = sandbox.draft_create(author=author, account=self.account, text=text)
        coaching.draft_submit(draft=draft, by=author)
        draft.refresh_from_db()
        self._learn(draft)
        return draft

    @precondition(_room_for_a_draft)
    @rule(who=CREATORS, sentence=st.sampled_from(SENTENCES), thread=st.booleans())
    def create(self, who: str, sentence: str, thread: bool) -> None:
        text, more = self._posts(sentence, thread)
        draft = attempt(
            sandbox.draft_create,
            author=self.people[who],
            account=self.account,
            text=text,
            thread=more,
        )
        if draft is not REFUSED:
            self._learn(draft)

    @rule(pick=PICK, who=AUTHORS, sentence=st.sampled_from(SENTENCES), thread=st.booleans())
    def edit(self, pick: int, who: str, sentence: str, thread: bool) -> None:
        """A new revision with different text (every text in an example is unique)."""
        draft = self._draft(pick, S.DRAFT, S.SUBMITTED, S.CHANGES_REQUESTED, S.APPROVED)
        text, more = self._posts(sentence, thread)
        by = self._person(who, draft)
        if attempt(sandbox.draft_edit, draft=draft, by=by, text=text, thread=more) is REFUSED:
            return
        draft.refresh_from_db()
        assert draft.current_revision is not None
        assert draft.current_revision.text == text, "an accepted edit did not become current"
        self._learn(draft)

    @rule(pick=PICK, who=AUTHORS)
    def submit(self, pick: int, who: str) -> None:
        draft = self._draft(pick, S.DRAFT)
        if attempt(coaching.draft_submit, draft=draft, by=self._person(who, draft)) is REFUSED:
            return
        # In spot-check mode a submission may be passed at once, with no coach. A pass may
        # cover only what the trainee sent: the newest revision, by the machine's record.
        sent = self.revisions_of[draft.pk][-1]
        if Review.objects.filter(
            revision_id=sent, reviewer__isnull=True, decision=Review.Decision.APPROVE
        ).exists():
            self.approved.setdefault(sent, "spot-check")

    @rule(pick=PICK, who=AUTHORS)
    def withdraw(self, pick: int, who: str) -> None:
        draft = self._draft(pick)
        attempt(coaching.draft_withdraw, draft=draft, by=self._person(who, draft))

    # Review -----------------------------------------------------------------------------------

    @rule(pick=PICK, who=REVIEWING)
    def claim(self, pick: int, who: str) -> None:
        draft = self._draft(pick, S.SUBMITTED)
        attempt(coaching.review_claim, draft=draft, by=self._person(who, draft))

    def _approve(
        self,
        pick: int,
        who: str,
        edited_meanwhile: bool,
        scored: bool,
        publish_at: dt.datetime | None,
    ) -> None:
        """Approve the revision the coach's page shows, bound to it as the review form
        binds it. Scored approvals feed earned autonomy."""
        draft = self._draft(pick, S.SUBMITTED, S.IN_REVIEW)
        shown = self._review_page(draft, edited_meanwhile)
        by = self._person(who, draft)
        review = attempt(
            coaching.review_approve,
            draft=draft,
            by=by,
            revision=shown,
            scores=factories.SCORES if scored else None,
            publish_at=publish_at,
        )
        # Recorded only for someone entitled to approve this draft: a coach or admin of
        # the organisation who is not its author. Anyone else's approval counts for nothing.
        if review is not REFUSED and who in REVIEWERS and by != draft.author:
            self.approved.setdefault(shown.pk, who)

    # Two rules for approving, so approvals come up often enough for the rest to follow.

    @rule(pick=PICK, who=REVIEWING, edited_meanwhile=EDITED_MEANWHILE, scored=st.booleans())
    def approve(self, pick: int, who: str, edited_meanwhile: bool, scored: bool) -> None:
        self._approve(pick, who, edited_meanwhile, scored, publish_at=None)

    @rule(pick=PICK, other=PICK, who=REVIEWING, edited_meanwhile=EDITED_MEANWHILE)
    def approve_several_from_the_queue(
        self, pick: int, other: int, who: str, edited_meanwhile: bool
    ) -> None:
        """Tick two posts on the queue (the revisions their rows show) and approve them
        together; the first may be edited before the coach presses the button."""
        first = self._draft(pick, S.SUBMITTED, S.IN_REVIEW)
        second = self._draft(other, S.SUBMITTED, S.IN_REVIEW)
        shown = {second.pk: second.current_revision, first.pk: first.current_revision}
        self._review_page(first, edited_meanwhile)
        by = self._person(who, first)
        outcomes = attempt(
            coaching.review_approve_clean,
            by=by,
            chosen=[(pk, revision.pk) for pk, revision in shown.items() if revision],
            scores=factories.SCORES,
        )
        if outcomes is REFUSED:
            return
        for outcome in outcomes:
            draft = first if outcome.draft_id == first.pk else second
            note(f"    draft {outcome.draft_id}: {outcome.message}")
            if outcome.approved and who in REVIEWERS and by != draft.author:
                self.approved.setdefault(shown[outcome.draft_id].pk, who)

    @rule(
        pick=PICK,
        who=REVIEWING,
        edited_meanwhile=EDITED_MEANWHILE,
        scored=st.booleans(),
        minutes=st.sampled_from((10, 45)),
    )
    def approve_for_later(
        self, pick: int, who: str, edited_meanwhile: bool, scored: bool, minutes: int
    ) -> None:
        """Approve, scheduled to publish in ``minutes``."""
        publish_at = timezone.now() + dt.timedelta(minutes=minutes)
        self._approve(pick, who, edited_meanwhile, scored, publish_at=publish_at)

    @rule(
        pick=PICK,
        who=REVIEWING,
        edited_meanwhile=EDITED_MEANWHILE,
        # Rejection ends a draft; asking for changes keeps it going, so comes up more.
        decision=st.sampled_from(("request_changes", "request_changes", "reject")),
    )
    def send_back(self, pick: int, who: str, edited_meanwhile: bool, decision: str) -> None:
        """The other two decisions, on the revision the coach's page shows."""
        draft = self._draft(pick, S.SUBMITTED, S.IN_REVIEW)
        service = (
            coaching.review_request_changes
            if decision == "request_changes"
            else coaching.review_reject
        )
        attempt(
            service,
            draft=draft,
            by=self._person(who, draft),
            note="Please add the clinic times.",
            revision=self._review_page(draft, edited_meanwhile),
        )

    @rule(pick=PICK, who=REVIEWING)
    def hold_spot_check(self, pick: int, who: str) -> None:
        draft = self._draft(pick, S.APPROVED)
        attempt(coaching.spot_check_hold, draft=draft, by=self._person(who, draft))

    # Publishing controls ----------------------------------------------------------------------

    @rule(
        who=REVIEWING,
        action=st.sampled_from(("stop the account", "stop the organisation", "resume", "resume")),
    )
    def emergency_controls(self, who: str, action: str) -> None:
        """Stopping and resuming are one rule, so a run that can stop can also resume (the
        runner switches rules off at random per example, and a stop nobody could lift
        would leave the rest of the example with nothing to publish)."""
        if action != "resume":
            attempt(
                coaching.publishing_stop,
                by=self.people[who],
                organisation_id=self.organisation.pk,
                account=self.account if action == "stop the account" else None,
                reason="Major incident declared",
            )
            return
        # The stop standing, or else the last one lifted (resuming it again is refused).
        stop = (
            PublishingStop.objects.filter(organisation=self.organisation)
            .order_by(F("ended_at").desc(nulls_first=True), "-pk")
            .first()
        )
        if stop is not None:
            attempt(coaching.publishing_resume, by=self.people[who], stop=stop)

    @precondition(_has_publications)
    @rule(pick=PICK, who=REVIEWING)
    def retract(self, pick: int, who: str) -> None:
        publication = self._publication(pick, P.PUBLISHED, P.FAILED)
        attempt(
            coaching.publication_retract,
            publication=publication,
            by=self.people[who],
            reason="Wrong date",
        )

    @precondition(_has_publications)
    @rule(pick=PICK, who=REVIEWING)
    def publish_anyway(self, pick: int, who: str) -> None:
        """Send a failed or unconfirmed post again, accepting the risk of a duplicate."""
        publication = self._publication(pick, P.FAILED, P.UNCONFIRMED)
        attempt(coaching.publication_retry, publication=publication, by=self.people[who])

    # The worker and beat ----------------------------------------------------------------------

    def _worker_run(self, publication_id: int, fault: str | None) -> None:
        """The publish task, as the worker runs it, with ``fault`` waiting at the double
        (or, for "refused", nothing listening)."""
        overrides: dict[str, object] = {}
        if fault == "refused":
            overrides["X_API_BASE_URL"] = REFUSED_URL
        elif fault == "hang-after":
            overrides["PUBLISH_READ_TIMEOUT"] = HANG_READ_TIMEOUT
        if fault not in (None, "refused"):
            self.double.inject(fault)
        try:
            with override_settings(**overrides):
                tasks.publish(publication_id)
        finally:
            # A fault this run did not reach (nothing was due) must not strike a later one.
            self.double.clear_faults()

    @rule(fault=WORKER_FAULTS)
    def worker_takes_the_queue(self, fault: str | None) -> None:
        """The worker takes each queued post's message, oldest first; the fault meets the
        first post that reaches the platform."""
        queued = Publication.objects.filter(account=self.account, status=P.QUEUED)
        for pk in queued.order_by("created_at").values_list("pk", flat=True):
            self._worker_run(pk, fault)
            fault = None

    @precondition(_has_publications)
    @rule(pick=PICK, fault=WORKER_FAULTS)
    def worker_redelivery(self, pick: int, fault: str | None) -> None:
        """A message for one publication, whatever its state now: a redelivery of one long
        settled must do nothing."""
        self._worker_run(self._publication(pick).pk, fault)

    @precondition(_has_publications)
    @rule(pick=PICK, who=st.sampled_from((None, *PEOPLE)))
    def reconcile(self, pick: int, who: str | None) -> None:
        """Checking one post: by the reconcile task (nobody), or from its page."""
        publication = self._publication(pick, P.UNCONFIRMED)
        if who is None:
            tasks.reconcile(publication.pk)
        else:
            attempt(coaching.publication_reconcile, publication=publication, by=self.people[who])

    @rule()
    def beat_sweeps(self) -> None:
        """The beat sweep, and the reconcile tasks it starts. Its messages go after commit,
        which never comes inside this test's transaction, so the machine runs the reconcile
        tasks itself; the worker rules take the publish messages."""
        now = timezone.now()
        due_checks = list(
            Publication.objects.filter(account=self.account, status=P.UNCONFIRMED)
            .filter(Q(not_before__isnull=True) | Q(not_before__lte=now))
            .values_list("pk", flat=True)
        )
        coaching.publication_sweep(now=now)
        for pk in due_checks:
            tasks.reconcile(pk)

    @rule(minutes=st.sampled_from((2, 20, 90)))
    def time_passes(self, minutes: int) -> None:
        """Move the clock on by moving back every stored time it is compared with: backoff
        and rate-limit waits end, scheduled and spot-check posts fall due, a reconcile can
        conclude, and a coach's claim goes stale."""
        ago = dt.timedelta(minutes=minutes)
        Publication.objects.filter(account=self.account).update(
            publish_at=F("publish_at") - ago,
            not_before=F("not_before") - ago,
            enqueued_at=F("enqueued_at") - ago,
            lease_until=F("lease_until") - ago,
        )
        PublishAttempt.objects.filter(publication__account=self.account).update(
            started_at=F("started_at") - ago
        )
        WorkplaceAccount.objects.filter(pk=self.account.pk).update(
            rate_limited_until=F("rate_limited_until") - ago
        )
        Draft.objects.filter(account=self.account).update(claimed_at=F("claimed_at") - ago)

    # The invariant, at the platform -----------------------------------------------------------

    @invariant()
    def only_approved_text_is_live_and_only_once(self) -> None:
        live = self.double.posts_for(self.handle)
        live_by_id = {post.id: post for post in live}
        publications = list(
            Publication.objects.filter(account=self.account).select_related("approval")
        )
        self.publication_count = len(publications)
        self.undecided_drafts = Draft.objects.filter(
            account=self.account, status__in=UNDECIDED
        ).count()

        # (b) What Sandpit records as live is live, once: remote id -> (publication, post).
        recorded: dict[str, tuple[Publication, int]] = {}
        for publication in publications:
            for index, part in enumerate(publication.parts):
                remote_id = part.get("remote_id")
                if not remote_id or part.get("retracted"):
                    continue
                assert remote_id not in recorded, (
                    f"post {remote_id} is recorded by publication {publication.pk} and by "
                    f"publication {recorded[remote_id][0].pk}"
                )
                recorded[remote_id] = (publication, index)
                post = live_by_id.get(remote_id)
                assert post is not None and post.text == part["text"], (
                    f"publication {publication.pk} ({publication.status}) records its post "
                    f"{index + 1} as live as {remote_id}, but the account shows "
                    f"{post.text if post else 'nothing'!r} there"
                )
            if publication.parts:
                assert publication.remote_id == publication.parts[0].get("remote_id", ""), (
                    f"publication {publication.pk}: remote_id is not its first post's"
                )
            if publication.status == P.PUBLISHED:
                assert all(
                    part.get("remote_id") and not part.get("retracted")
                    for part in publication.parts
                ), f"publication {publication.pk} says Live, but not every post of it is"

        places: dict[tuple[int, int, int], str] = {}
        for post in live:
            place = self.text_of.get(post.text)
            assert place is not None, f"live post {post.text!r} is no revision's text"
            draft_id, revision_id, index = place

            # (b) One live post per post of a revision.
            assert place not in places, (
                f"{post.text!r} is live twice: as {places[place]} and as {post.id}"
            )
            places[place] = post.id

            # (a) and (c): approved while shown exactly this revision.
            if revision_id not in self.approved:
                revisions = self.revisions_of[draft_id]
                number = revisions.index(revision_id) + 1
                earlier = [
                    revisions.index(r) + 1 for r in revisions[: number - 1] if r in self.approved
                ]
                assert not earlier, (
                    f"{post.text!r} is live: revision {number} of draft {draft_id}, an edit "
                    f"made after revision {earlier[-1]} was approved, which no coach approved "
                    "while shown it"
                )
                raise AssertionError(
                    f"{post.text!r} is live, but no coach approved revision {number} of "
                    f"draft {draft_id} while shown it"
                )
            revision = DraftRevision.objects.get(pk=revision_id)
            assert Review.objects.filter(
                revision=revision,
                decision=Review.Decision.APPROVE,
                content_hash=revision.content_hash,
            ).exists(), f"{post.text!r} is live with no approval of its revision on record"

            # (b) The publication that recorded it sent this revision, under its approval.
            if post.id in recorded:
                publication, part = recorded[post.id]
                assert (publication.revision_id, part) == (revision_id, index), (
                    f"publication {publication.pk} records {post.text!r} as its post "
                    f"{part + 1}, but that is post {index + 1} of revision {revision_id}"
                )
                assert publication.approval.revision_id == revision_id, (
                    f"publication {publication.pk} sent revision {revision_id} under an "
                    f"approval of revision {publication.approval.revision_id}"
                )
                continue
            # A live post no publication records: allowed only while Sandpit says it cannot
            # tell (unconfirmed), or after a coach chose "publish anyway", accepting the risk
            # of a duplicate (the double refuses the copy; the first stays).
            of_revision = [p for p in publications if p.revision_id == revision_id]
            forced = AuditEvent.objects.filter(
                action=AuditEvent.Action.PUBLICATION_FORCED, publication__in=of_revision
            ).exists()
            assert forced or any(p.status == P.UNCONFIRMED for p in of_revision), (
                f"{post.text!r} is live as {post.id}, which no publication records, yet "
                f"Sandpit calls it {[p.status for p in of_revision]}, not unconfirmed"
            )


@pytest.mark.django_db
def test_only_text_a_coach_approved_ever_reaches_the_account(
    x_double_server: XDouble, settings: Any
) -> None:
    settings.X_API_BASE_URL = x_double_server.base_url
    settings.X_PUBLIC_BASE_URL = x_double_server.base_url
    ApprovalGate.double = x_double_server
    run_state_machine_as_test(
        ApprovalGate,
        settings=hypothesis_settings(
            max_examples=EXAMPLES,
            stateful_step_count=STEPS,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
            # No "explain" phase: each example costs a fraction of a second of HTTP and
            # database work, and shrinking a failure already takes minutes.
            phases=[phase for phase in Phase if phase is not Phase.explain],
        ),
    )
