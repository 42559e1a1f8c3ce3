"""Authoring writes: creating drafts and adding revisions.

Status changes after authoring belong to coaching.services, which holds the one
state machine; draft_edit asks it to move the draft when an edit must change state.
"""

import datetime as dt
import hashlib
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from importlib import import_module

from allauth.usersessions.models import UserSession
from django.conf import settings
from django.contrib.auth.models import User
from django.contrib.sessions.models import Session
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import Max, Q
from django.utils import timezone

from sandbox import access, audience, media, scenario_scripts, signals, tasks
from sandbox.checks import CheckContext, run_checks
from sandbox.errors import InputProblems, InvalidInput, InvalidState, NotAllowed
from sandbox.models import (
    Cohort,
    Draft,
    DraftRevision,
    Membership,
    PostImage,
    Scenario,
    ScenarioRun,
    TimelineItem,
    WorkplaceAccount,
)
from sandbox.selectors import (
    REVIEWER_ROLES,
    check_context,
    display_name,
    organisation_of_item,
    role_in,
)
from sandbox.tweet_text import parse_tweet

# X lets a thread run to 25 posts.
MAX_THREAD_POSTS = 25
# A scenario plays out within a day.
MAX_SCENARIO_SECONDS = 24 * 60 * 60
# Starting a scenario again for the same trainee within this time is taken to be a
# double click or a resubmitted form, not a second exercise.
SCENARIO_RESTART_GAP = dt.timedelta(minutes=1)


def validate_post_text(text: str, *, position: int | None = None) -> str:
    """The one rule for what may be saved as a post's text."""
    which = "The post" if position is None else f"Post {position} of the thread"
    if not text.strip():
        raise InvalidInput(
            f"Write something before you save: {which.lower()} is empty.", field="text"
        )
    parsed = parse_tweet(text)
    if not parsed.valid:
        over = parsed.weighted_length - 280
        raise InvalidInput(
            f"{which} is {over} character{'s' if over != 1 else ''} over X's limit of 280. "
            "Shorten it, or split it into a thread.",
            field="text",
        )
    return text


def _validate_posts(text: str, thread: Sequence[str]) -> list[str]:
    posts = [text, *thread]
    if len(posts) > MAX_THREAD_POSTS:
        raise InvalidInput(
            f"A thread can have up to {MAX_THREAD_POSTS} posts; this one has {len(posts)}.",
            field="text",
        )
    # Every post is checked, so a thread with two posts too long hears of both at once.
    problems = InputProblems()
    for position, post in enumerate(posts, start=1):
        problems.check(
            partial(validate_post_text, post, position=position if len(posts) > 1 else None)
        )
    problems.raise_any()
    return posts


# Images attached to a post: one list per post of {"id": PostImage id, "alt": alt text}.
PostImages = Sequence[Sequence[Mapping[str, object]]]


def too_many_images(position: int) -> str:
    return (
        f"Post {position} already has {media.MAX_IMAGES_PER_POST} images, as many as X allows. "
        "Remove one before you add another."
    )


def post_image_add(*, by: User, draft: Draft | None, upload: UploadedFile) -> PostImage:
    """Check an uploaded image, strip its metadata and store it privately. Without a draft
    (a new post still in the composer) it belongs to the uploader until a draft claims it."""
    if draft is not None:
        access.require_author(draft, by)
    # Refuse a huge file before reading it into memory; clean_image checks the exact limit.
    size = upload.size or 0
    if size > media.MAX_GIF_BYTES:
        raise InvalidInput(
            f"This file is {size / 1024 / 1024:.0f} MB; X accepts images up to 5 MB "
            "(GIFs up to 15 MB). Make it smaller and try again."
        )
    try:
        clean = media.clean_image(upload.read(), filename=upload.name or "")
    except media.InvalidImage as error:
        raise InvalidInput(error.message) from error
    image = PostImage(
        draft=draft,
        uploaded_by=by,
        content_type=clean.content_type,
        width=clean.width,
        height=clean.height,
        size=len(clean.data),
        sha256=hashlib.sha256(clean.data).hexdigest(),
    )
    # A random name: the trainee's file name can say who or where the photo shows.
    image.file.save(f"{uuid.uuid4().hex}{clean.extension}", ContentFile(clean.data), save=False)
    image.save()
    return image


def _validate_images(
    images: PostImages,
    *,
    posts: int,
    author: User,
    draft: Draft | None,
    sandbox_only: bool = False,
) -> list[list[dict[str, object]]]:
    """The images as a revision stores them, each checked: at most four a post, each with
    alt text, and each uploaded for this draft (or by its author, for a new draft). Must
    run inside the transaction that saves the revision: it locks the images it claims."""
    if sandbox_only and any(images):
        # The practice timeline shows no images yet; refusing beats dropping them unseen.
        raise InvalidInput(
            "A practice response cannot have images yet: it is posted only in your practice "
            "timeline, which does not show them. Remove the images to save it.",
            field="upload-0",
        )
    if len(images) > posts:
        raise InvalidInput("There are images for a post that is not there.", field="text")
    attached: list[list[dict[str, object]]] = []
    # Every image is checked: each one missing its alt text is named beside its own box.
    problems = InputProblems()
    for position, entries in enumerate(images, start=1):
        if len(entries) > media.MAX_IMAGES_PER_POST:
            problems.found.append(
                InvalidInput(too_many_images(position), field=f"upload-{position - 1}")
            )
        post: list[dict[str, object]] = []
        for entry in entries:
            image_id = entry["id"]
            try:
                alt = media.validate_alt_text(str(entry.get("alt", "")))
            except media.InvalidImage as error:
                problems.found.append(
                    InvalidInput(error.message, field=f"alt-{position - 1}-{image_id}")
                )
                continue
            post.append({"id": image_id, "alt": alt})
        attached.append(post)
    problems.raise_any()
    ids = {entry["id"] for post in attached for entry in post}
    if not ids:
        return []
    mine = Q(draft=draft) if draft is not None else Q(pk__in=[])
    usable = set(
        PostImage.objects.select_for_update()
        .filter(mine | Q(draft__isnull=True, uploaded_by=author), pk__in=ids)
        .values_list("pk", flat=True)
    )
    if usable != ids:
        raise InvalidInput(
            "One of the images is not available any more. Remove it and attach it again."
        )
    return attached + [[] for _ in range(posts - len(attached))]


def _claim_images(draft: Draft, images: list[list[dict[str, object]]]) -> None:
    """Images uploaded in the composer before the draft existed now belong to it."""
    ids = [entry["id"] for post in images for entry in post]
    if ids:
        PostImage.objects.filter(pk__in=ids, draft__isnull=True).update(draft=draft)


# An image uploaded in the composer but never saved with a draft (the tab was closed) is
# kept this long, so a trainee who comes back the same day still has it.
UNATTACHED_IMAGE_LIFETIME = dt.timedelta(hours=24)


def post_images_discard_unattached(*, now: dt.datetime | None = None) -> int:
    """Delete images no draft ever claimed, and their files. A draft saving one at this
    moment holds its row lock (``_validate_images``), so the delete re-checks it after
    that commit and leaves it alone."""
    cutoff = (now or timezone.now()) - UNATTACHED_IMAGE_LIFETIME
    with transaction.atomic():
        doomed = list(
            PostImage.objects.select_for_update(skip_locked=True).filter(
                draft__isnull=True, created_at__lt=cutoff
            )
        )
        PostImage.objects.filter(pk__in=[image.pk for image in doomed], draft__isnull=True).delete()
        # Files go only once the rows are surely gone.
        for image in doomed:
            transaction.on_commit(partial(image.file.storage.delete, image.file.name))
    return len(doomed)


def sessions_clear_expired() -> int:
    """Remove expired sessions (what ``manage.py clearsessions`` does), then the
    "where you are signed in" rows (allauth.usersessions: address and browser) whose
    session is gone. Returns how many of those rows went."""
    engine = import_module(settings.SESSION_ENGINE)
    engine.SessionStore.clear_expired()
    if settings.SESSION_ENGINE != "django.contrib.sessions.backends.db":
        return 0
    deleted, _ = UserSession.objects.exclude(
        session_key__in=Session.objects.values("session_key")
    ).delete()
    return deleted


def _answered_item(
    *,
    author: User,
    account: WorkplaceAccount,
    in_reply_to: TimelineItem | None,
    quote_of: TimelineItem | None,
) -> TimelineItem | None:
    """The one rule for answering a post in a private timeline (a practice reply or
    quote, or a response drafted for the coach): only a post in the author's own timeline
    that has arrived, answered as an account of the organisation it belongs to."""
    if in_reply_to is not None and quote_of is not None:
        raise InvalidInput("Reply to a post or quote it, not both at once.", field="kind")
    item = in_reply_to or quote_of
    if item is None:
        return None
    verb = "reply to" if in_reply_to is not None else "quote"
    if item.owner_id != author.pk or item.appear_at > timezone.now():
        raise NotAllowed(f"You can only {verb} posts in your own timeline.")
    if organisation_of_item(item) not in (None, account.organisation_id):
        raise NotAllowed(
            f"That post is part of another organisation's practice, so you cannot {verb} it "
            f"as @{account.handle}."
        )
    return item


def draft_create(
    *,
    author: User,
    account: WorkplaceAccount,
    text: str,
    thread: Sequence[str] = (),
    images: PostImages = (),
    in_reply_to: TimelineItem | None = None,
    quote_of: TimelineItem | None = None,
) -> Draft:
    """A new draft. With ``in_reply_to`` or ``quote_of`` it is a response to a post in the
    author's private timeline: reviewed like any draft, but only ever posted there."""
    access.require_member(author, account.organisation_id)
    _answered_item(author=author, account=account, in_reply_to=in_reply_to, quote_of=quote_of)
    # The posts and the images are both checked before refusing: every problem at once.
    problems = InputProblems()
    posts = problems.check(partial(_validate_posts, text, thread)) or [text, *thread]
    draft = Draft(author=author, account=account, in_reply_to=in_reply_to, quote_of=quote_of)
    with transaction.atomic():
        attached = problems.check(
            partial(
                _validate_images,
                images,
                posts=len(posts),
                author=author,
                draft=None,
                sandbox_only=draft.is_sandbox_only,
            )
        )
        problems.raise_any()
        assert attached is not None
        draft.save()
        _claim_images(draft, attached)
        revision = DraftRevision.objects.create(
            draft=draft,
            number=1,
            text=text,
            thread=list(thread),
            images=attached,
            content_hash=DraftRevision.hash_posts(posts, attached),
        )
        draft.current_revision = revision
        draft.save(update_fields=["current_revision"])
    return draft


def draft_edit(
    *, draft: Draft, by: User, text: str, thread: Sequence[str] = (), images: PostImages = ()
) -> Draft:
    """Add a revision. Editing after changes were requested returns the draft to the
    trainee's desk; editing after approval voids the approval (coaching decides both, on
    the draft_revised signal). Changing only an image or its alt text is an edit like any
    other."""
    access.require_author(draft, by)
    problems = InputProblems()
    posts = problems.check(partial(_validate_posts, text, thread)) or [text, *thread]
    with transaction.atomic():
        # Lock the draft so two tabs saving at once get consecutive revision numbers.
        locked = Draft.objects.select_for_update().get(pk=draft.pk)
        if locked.status not in Draft.EDITABLE_STATUSES:
            raise InvalidState(
                f"This draft is {locked.get_status_display().lower()} and can no longer be "
                "edited. Start a new draft instead; your text is still in the box."
            )
        attached = problems.check(
            partial(
                _validate_images,
                images,
                posts=len(posts),
                author=by,
                draft=locked,
                sandbox_only=locked.is_sandbox_only,
            )
        )
        problems.raise_any()
        assert attached is not None
        content_hash = DraftRevision.hash_posts(posts, attached)
        current = locked.current_revision
        if current is not None and current.content_hash == content_hash:
            return locked  # Nothing changed: no new revision, no change of state.
        _claim_images(locked, attached)
        number = (locked.revisions.aggregate(n=Max("number"))["n"] or 0) + 1
        revision = DraftRevision.objects.create(
            draft=locked,
            number=number,
            text=text,
            thread=list(thread),
            images=attached,
            content_hash=content_hash,
        )
        signals.draft_revised.send(sender=Draft, draft=locked, revision=revision)
    locked.refresh_from_db()
    return locked


# The private timeline ---------------------------------------------------------------------


def practice_post(
    *,
    author: User,
    account: WorkplaceAccount,
    text: str,
    thread: Sequence[str] = (),
    in_reply_to: TimelineItem | None = None,
    quote_of: TimelineItem | None = None,
    draft: Draft | None = None,
) -> TimelineItem:
    """Post to the trainee's private timeline only: no coach, nothing leaves Sandpit. Risky
    posts are allowed on purpose, so the simulated audience can show what would happen.
    ``in_reply_to`` answers a post already in the trainee's timeline (a persona's, say);
    ``quote_of`` quotes one, as a post of its own. ``draft`` is the approved response
    this posts (coaching.services.review_approve)."""
    access.require_member(author, account.organisation_id)
    _answered_item(author=author, account=account, in_reply_to=in_reply_to, quote_of=quote_of)
    _validate_posts(text, thread)
    now = timezone.now()
    kind = TimelineItem.Kind.POST
    if in_reply_to is not None:
        kind = TimelineItem.Kind.REPLY
    elif quote_of is not None:
        kind = TimelineItem.Kind.QUOTE
    with transaction.atomic():
        head = TimelineItem.objects.create(
            owner=author,
            account=account,
            text=text,
            appear_at=now,
            kind=kind,
            parent=in_reply_to,
            quote_of=quote_of,
            draft=draft,
        )
        parent = head
        for post in thread:
            parent = TimelineItem.objects.create(
                owner=author,
                account=account,
                kind=TimelineItem.Kind.REPLY,
                text=post,
                parent=parent,
                appear_at=now,
            )
        transaction.on_commit(partial(tasks.simulate_audience.delay, head.pk), robust=True)
    return head


def audience_simulate(*, item_id: int) -> None:
    """Plan the audience's reactions to a practice post and put them in the timeline,
    each arriving at its planned time. Runs once per post (the plan is written with a
    conditional update), however often the task is delivered."""
    item = TimelineItem.objects.filter(pk=item_id, audience__isnull=True).first()
    if item is None:
        return
    organisation_id = item.account.organisation_id if item.account else None
    context = check_context(organisation_id) if organisation_id else CheckContext()
    plan = audience.plan(item.text, seed=item.pk, findings=run_checks(item.text, context=context))
    with transaction.atomic():
        claimed = TimelineItem.objects.filter(pk=item.pk, audience__isnull=True).update(
            audience=plan.as_dict()
        )
        if not claimed:
            return
        TimelineItem.objects.bulk_create(
            TimelineItem(
                owner_id=item.owner_id,
                persona=reaction.persona,
                kind=reaction.kind,
                text=reaction.text,
                parent=item,
                rule=reaction.rule,
                appear_at=item.appear_at + dt.timedelta(seconds=reaction.at_seconds),
            )
            for reaction in plan.reactions
        )


def parse_scenario_script(script: str) -> list[dict[str, object]]:
    """Coaches write a scenario one item a line: ``minutes | persona | text``, with
    ``reply:`` before the text for a reply to the scenario's previous post. Every line that
    is wrong is reported at once."""
    problems = InputProblems()
    items: list[dict[str, object]] = []
    for number, line in enumerate(script.splitlines(), start=1):
        if line.strip():
            item = problems.check(partial(_scenario_line, number, line))
            if item is not None:
                items.append(item)
    problems.raise_any()
    if not items:
        raise InvalidInput("Write at least one line.", field="script")
    return items


def _scenario_line(number: int, line: str) -> dict[str, object]:
    parts = [part.strip() for part in line.split("|", 2)]
    if len(parts) != 3:
        raise InvalidInput(
            f"Line {number}: write it as 'minutes | persona | text'.", field="script"
        )
    minutes, persona, text = parts
    try:
        offset = round(float(minutes) * 60)
        if not 0 <= offset <= MAX_SCENARIO_SECONDS:
            raise ValueError(minutes)
    except (ValueError, OverflowError) as exc:
        raise InvalidInput(
            f"Line {number}: '{minutes}' is not a number of minutes from 0 to "
            f"{MAX_SCENARIO_SECONDS // 60}.",
            field="script",
        ) from exc
    kind = "post"
    if text.lower().startswith("reply:"):
        kind, text = "reply", text[len("reply:") :].strip()
    return {"offset_seconds": offset, "persona": persona, "kind": kind, "text": text}


def scenario_save(
    *,
    by: User,
    organisation_id: int,
    title: str,
    description: str,
    items: list[dict[str, object]],
    scenario: Scenario | None = None,
) -> Scenario:
    access.require_reviewer(by, organisation_id)
    title = title.strip()
    if not title:
        raise InvalidInput("Give the scenario a title.", field="title")
    try:
        # The description is optional here; the shared validator wants one, so lend the title.
        scenario_scripts.load_scenario(
            {"slug": "draft", "title": title, "description": description or title, "items": items}
        )
    except ValueError as exc:
        raise InvalidInput(str(exc), field="script") from exc
    scenario = scenario or Scenario(organisation_id=organisation_id, created_by=by)
    scenario.title, scenario.description, scenario.items = title, description.strip(), items
    scenario.save()
    return scenario


def scenario_start(*, scenario: Scenario, trainee: User, by: User) -> ScenarioRun:
    """Start a scenario in one trainee's timeline: its items arrive at their offsets.
    Starting it again for them within a minute returns the run already started."""
    access.require_reviewer(by, scenario.organisation_id)
    if role_in(trainee, scenario.organisation_id) is None:
        raise NotAllowed("That person is not in this organisation.")
    with transaction.atomic():
        _lock_for_starting(scenario)
        now = timezone.now()
        recent = _recent_runs(scenario, [trainee.pk], now).get(trainee.pk)
        return recent or _start_run(scenario, trainee_id=trainee.pk, by=by, now=now)


@dataclass(frozen=True)
class CohortAssignment:
    started: list[ScenarioRun]
    # Trainees for whom the scenario had started less than a minute before: left alone.
    already_started: list[ScenarioRun]


def scenario_assign_cohort(*, scenario: Scenario, cohort: Cohort, by: User) -> CohortAssignment:
    """Start a scenario for every trainee in a cohort, all or none, each with their own
    run. A trainee whose run of it began less than a minute ago (a double click, a
    resubmitted form) is not started twice; an hour later, it is a new exercise."""
    access.require_reviewer(by, scenario.organisation_id)
    if cohort.organisation_id != scenario.organisation_id:
        raise NotAllowed("That cohort is not in this scenario's organisation.")
    with transaction.atomic():
        _lock_for_starting(scenario)
        trainee_ids = list(
            Membership.objects.filter(
                cohort=cohort,
                organisation_id=scenario.organisation_id,
                role=Membership.Role.TRAINEE,
                is_active=True,
            )
            .order_by("user_id")
            .values_list("user_id", flat=True)
        )
        if not trainee_ids:
            raise InvalidInput(
                f"There are no trainees in {cohort.name} yet. Add them to the cohort in the "
                "admin pages first.",
                field="cohort",
            )
        now = timezone.now()
        recent = _recent_runs(scenario, trainee_ids, now)
        started = [
            _start_run(scenario, trainee_id=trainee_id, by=by, now=now, cohort=cohort)
            for trainee_id in trainee_ids
            if trainee_id not in recent
        ]
    return CohortAssignment(started=started, already_started=list(recent.values()))


def _lock_for_starting(scenario: Scenario) -> None:
    # Two submissions at once (a double click) queue here, so the second one sees the
    # first one's runs and does not start them again.
    Scenario.objects.select_for_update().filter(pk=scenario.pk).first()


def _recent_runs(
    scenario: Scenario, trainee_ids: Sequence[int], now: dt.datetime
) -> dict[int, ScenarioRun]:
    runs = ScenarioRun.objects.filter(
        scenario=scenario,
        trainee_id__in=trainee_ids,
        started_at__gt=now - SCENARIO_RESTART_GAP,
    ).order_by("started_at")
    return {run.trainee_id: run for run in runs}


def _start_run(
    scenario: Scenario,
    *,
    trainee_id: int,
    by: User,
    now: dt.datetime,
    cohort: Cohort | None = None,
) -> ScenarioRun:
    run = ScenarioRun.objects.create(
        scenario=scenario, trainee_id=trainee_id, started_by=by, started_at=now, cohort=cohort
    )
    last_post: TimelineItem | None = None
    # The account the trainee answers the scenario as (account_for_response's rule).
    account = (
        WorkplaceAccount.objects.filter(
            organisation_id=scenario.organisation_id, organisation__memberships__user_id=trainee_id
        )
        .order_by("pk")
        .first()
    )
    handle = account.handle if account else scenario_scripts.DEFAULT_ACCOUNT_HANDLE
    for entry in sorted(scenario.items, key=lambda e: int(e["offset_seconds"])):
        is_reply = entry["kind"] == "reply" and last_post is not None
        item = TimelineItem.objects.create(
            owner_id=trainee_id,
            persona=str(entry["persona"]),
            kind=TimelineItem.Kind.REPLY if is_reply else TimelineItem.Kind.POST,
            text=scenario_scripts.addressed_to(str(entry["text"]), handle),
            parent=last_post if is_reply else None,
            appear_at=now + dt.timedelta(seconds=int(entry["offset_seconds"])),
            scenario_run=run,
        )
        if not is_reply:
            last_post = item
    return run


# Cover and assignment ----------------------------------------------------------------------


def _coach_membership(user: User, organisation_id: int) -> Membership | None:
    return Membership.objects.filter(
        user=user, organisation_id=organisation_id, role__in=REVIEWER_ROLES
    ).first()


def _clean_away(away_from: dt.date | None, away_until: dt.date | None) -> None:
    if away_from is None and away_until is not None:
        raise InvalidInput(
            "Enter the first day you are away, as well as the last.", field="away_from"
        )
    if away_from is not None and away_until is not None and away_until < away_from:
        raise InvalidInput(
            "The last day away must be the same as or after the first day away.",
            field="away_until",
        )
    if away_until is not None and away_until < timezone.localdate():
        raise InvalidInput(
            "The last day away has already passed. Enter a date from today on, or clear "
            "both dates if you are back.",
            field="away_until",
        )


def _cover_coach(*, by: User, organisation_id: int, pk: int) -> User:
    if pk == by.pk:
        raise InvalidInput(
            "Choose another coach to cover for you, not yourself.", field="cover_coach"
        )
    cover_membership = (
        Membership.objects.filter(
            user_id=pk,
            organisation_id=organisation_id,
            role__in=REVIEWER_ROLES,
            is_active=True,
        )
        .select_related("user")
        .first()
    )
    if cover_membership is None:
        raise InvalidInput(
            "Choose a coach of your organisation to cover for you.", field="cover_coach"
        )
    return cover_membership.user


def coach_availability_set(
    *,
    by: User,
    organisation_id: int,
    away_from: dt.date | None,
    away_until: dt.date | None,
    cover_coach_id: int | None,
) -> Membership:
    """A coach marks themselves away (or back, with no dates). While away, their trainees'
    posts go to the cover coach, or to the coach pool (coaching.selectors.CoachDirectory)."""
    membership = _coach_membership(by, organisation_id)
    if membership is None:
        raise NotAllowed(access.REVIEWER_ONLY)
    # The dates and the cover are both checked before refusing: every problem at once.
    problems = InputProblems()
    problems.check(partial(_clean_away, away_from, away_until))
    cover = None
    if away_from is not None and cover_coach_id is not None:
        cover = problems.check(
            partial(_cover_coach, by=by, organisation_id=organisation_id, pk=cover_coach_id)
        )
    problems.raise_any()
    membership.away_from, membership.away_until = away_from, away_until
    membership.cover_coach = cover
    membership.save(update_fields=["away_from", "away_until", "cover_coach"])
    return membership


def trainee_assign(
    *, by: User, membership: Membership, coach_id: int, cohort_id: int | None
) -> Membership:
    """An admin names a trainee's coach (who must coach in the same organisation) and,
    optionally, their cohort."""
    organisation_id = membership.organisation_id
    access.require_admin(by, organisation_id)
    if membership.role != Membership.Role.TRAINEE:
        raise InvalidInput(f"{display_name(membership.user)} is not a trainee here.")
    coach = (
        Membership.objects.filter(
            user_id=coach_id,
            organisation_id=organisation_id,
            role__in=REVIEWER_ROLES,
            is_active=True,
        )
        .select_related("user")
        .first()
    )
    # The coach and the cohort are both checked before refusing: every problem at once.
    problems = InputProblems()
    if coach is None or coach.user_id == membership.user_id:
        problems.found.append(
            InvalidInput(
                f"Choose a coach of {membership.organisation} for {display_name(membership.user)}.",
                field="coach",
            )
        )
    cohort = None
    if cohort_id is not None:
        cohort = Cohort.objects.filter(pk=cohort_id, organisation_id=organisation_id).first()
        if cohort is None:
            problems.found.append(
                InvalidInput(f"Choose one of {membership.organisation}'s cohorts.", field="cohort")
            )
    problems.raise_any()
    assert coach is not None
    membership.coach = coach.user
    membership.cohort = cohort
    membership.save(update_fields=["coach", "cohort"])
    return membership
