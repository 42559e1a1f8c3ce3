"""Authoring writes: creating drafts and adding revisions.

Status changes after authoring belong to coaching.services, which holds the one
state machine; draft_edit asks it to move the draft when an edit must change state.
"""

import datetime as dt
from collections.abc import Sequence
from functools import partial

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from sandbox import audience, tasks
from sandbox.checks import CheckContext, run_checks
from sandbox.errors import InvalidInput, InvalidState, NotAllowed
from sandbox.models import (
    Cohort,
    Draft,
    DraftRevision,
    Membership,
    Scenario,
    ScenarioRun,
    TimelineItem,
    WorkplaceAccount,
)
from sandbox.selectors import REVIEWER_ROLES, check_context, role_in
from sandbox.tweet_text import parse_tweet

# X lets a thread run to 25 posts.
MAX_THREAD_POSTS = 25
# A scenario plays out within a day.
MAX_SCENARIO_SECONDS = 24 * 60 * 60


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
    for position, post in enumerate(posts, start=1):
        validate_post_text(post, position=position if len(posts) > 1 else None)
    return posts


def draft_create(
    *, author: User, account: WorkplaceAccount, text: str, thread: Sequence[str] = ()
) -> Draft:
    if role_in(author, account.organisation_id) is None:
        raise NotAllowed("You can only write drafts for your own organisation's accounts.")
    posts = _validate_posts(text, thread)
    with transaction.atomic():
        draft = Draft.objects.create(author=author, account=account)
        revision = DraftRevision.objects.create(
            draft=draft,
            number=1,
            text=text,
            thread=list(thread),
            content_hash=DraftRevision.hash_posts(posts),
        )
        draft.current_revision = revision
        draft.save(update_fields=["current_revision"])
    return draft


def draft_edit(*, draft: Draft, by: User, text: str, thread: Sequence[str] = ()) -> Draft:
    """Add a revision. Editing after changes were requested returns the draft to the
    trainee's desk; editing after approval voids the approval (coaching.services)."""
    from coaching import services as coaching_services

    if draft.author_id != by.pk:
        raise NotAllowed("Only the author of a draft can edit it.")
    posts = _validate_posts(text, thread)
    with transaction.atomic():
        # Lock the draft so two tabs saving at once get consecutive revision numbers.
        locked = Draft.objects.select_for_update().get(pk=draft.pk)
        if locked.status not in Draft.EDITABLE_STATUSES:
            raise InvalidState(
                f"This draft is {locked.get_status_display().lower()} and can no longer be "
                "edited. Start a new draft instead; your text is still in the box."
            )
        content_hash = DraftRevision.hash_posts(posts)
        current = locked.current_revision
        if current is not None and current.content_hash == content_hash:
            return locked  # Nothing changed: no new revision, no change of state.
        number = (locked.revisions.aggregate(n=Max("number"))["n"] or 0) + 1
        revision = DraftRevision.objects.create(
            draft=locked, number=number, text=text, thread=list(thread), content_hash=content_hash
        )
        coaching_services.draft_revised(draft=locked, revision=revision)
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
) -> TimelineItem:
    """Post to the trainee's private timeline only: no coach, nothing leaves Sandpit. Risky
    posts are allowed on purpose, so the simulated audience can show what would happen.
    ``in_reply_to`` answers a post already in the trainee's timeline (a persona's, say)."""
    if role_in(author, account.organisation_id) is None:
        raise NotAllowed("You can only practise as your own organisation's accounts.")
    if in_reply_to is not None and in_reply_to.owner_id != author.pk:
        raise NotAllowed("You can only reply to posts in your own timeline.")
    _validate_posts(text, thread)
    now = timezone.now()
    with transaction.atomic():
        head = TimelineItem.objects.create(
            owner=author,
            account=account,
            text=text,
            appear_at=now,
            kind=TimelineItem.Kind.REPLY if in_reply_to else TimelineItem.Kind.POST,
            parent=in_reply_to,
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


def _require_coach_of(user: User, organisation_id: int) -> None:
    if role_in(user, organisation_id) not in REVIEWER_ROLES:
        raise NotAllowed("Only coaches and admins can manage scenarios.")


def parse_scenario_script(script: str) -> list[dict[str, object]]:
    """Coaches write a scenario one item a line: ``minutes | persona | text``, with
    ``reply:`` before the text for a reply to the scenario's previous post."""
    items: list[dict[str, object]] = []
    for number, line in enumerate(script.splitlines(), start=1):
        if not line.strip():
            continue
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
        items.append({"offset_seconds": offset, "persona": persona, "kind": kind, "text": text})
    if not items:
        raise InvalidInput("Write at least one line.", field="script")
    return items


def scenario_save(
    *,
    by: User,
    organisation_id: int,
    title: str,
    description: str,
    items: list[dict[str, object]],
    scenario: Scenario | None = None,
) -> Scenario:
    _require_coach_of(by, organisation_id)
    title = title.strip()
    if not title:
        raise InvalidInput("Give the scenario a title.", field="title")
    try:
        # The description is optional here; the shared validator wants one, so lend the title.
        audience.load_scenario(
            {"slug": "draft", "title": title, "description": description or title, "items": items}
        )
    except ValueError as exc:
        raise InvalidInput(str(exc), field="script") from exc
    scenario = scenario or Scenario(organisation_id=organisation_id, created_by=by)
    scenario.title, scenario.description, scenario.items = title, description.strip(), items
    scenario.save()
    return scenario


def scenario_start(*, scenario: Scenario, trainee: User, by: User) -> ScenarioRun:
    """Start a scenario in one trainee's timeline: its items arrive at their offsets."""
    _require_coach_of(by, scenario.organisation_id)
    if role_in(trainee, scenario.organisation_id) is None:
        raise NotAllowed("That person is not in this organisation.")
    now = timezone.now()
    with transaction.atomic():
        run = ScenarioRun.objects.create(
            scenario=scenario, trainee=trainee, started_by=by, started_at=now
        )
        last_post: TimelineItem | None = None
        for entry in sorted(scenario.items, key=lambda e: int(e["offset_seconds"])):
            is_reply = entry["kind"] == "reply" and last_post is not None
            item = TimelineItem.objects.create(
                owner=trainee,
                persona=str(entry["persona"]),
                kind=TimelineItem.Kind.REPLY if is_reply else TimelineItem.Kind.POST,
                text=str(entry["text"]),
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


def _name(user: User) -> str:
    return user.get_full_name() or user.username


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
        raise NotAllowed("Only coaches and admins can set when they are away.")
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
    cover = None
    if away_from is not None and cover_coach_id is not None:
        if cover_coach_id == by.pk:
            raise InvalidInput(
                "Choose another coach to cover for you, not yourself.", field="cover_coach"
            )
        cover_membership = (
            Membership.objects.filter(
                user_id=cover_coach_id, organisation_id=organisation_id, role__in=REVIEWER_ROLES
            )
            .select_related("user")
            .first()
        )
        if cover_membership is None:
            raise InvalidInput(
                "Choose a coach of your organisation to cover for you.", field="cover_coach"
            )
        cover = cover_membership.user
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
    if role_in(by, organisation_id) != Membership.Role.ADMIN:
        raise NotAllowed("Only an admin of the organisation can assign coaches.")
    if membership.role != Membership.Role.TRAINEE:
        raise InvalidInput(f"{_name(membership.user)} is not a trainee here.")
    coach = (
        Membership.objects.filter(
            user_id=coach_id, organisation_id=organisation_id, role__in=REVIEWER_ROLES
        )
        .select_related("user")
        .first()
    )
    if coach is None or coach.user_id == membership.user_id:
        raise InvalidInput(
            f"Choose a coach of {membership.organisation} for {_name(membership.user)}.",
            field="coach",
        )
    cohort = None
    if cohort_id is not None:
        cohort = Cohort.objects.filter(pk=cohort_id, organisation_id=organisation_id).first()
        if cohort is None:
            raise InvalidInput(
                f"Choose one of {membership.organisation}'s cohorts.", field="cohort"
            )
    membership.coach = coach.user
    membership.cohort = cohort
    membership.save(update_fields=["coach", "cohort"])
    return membership
