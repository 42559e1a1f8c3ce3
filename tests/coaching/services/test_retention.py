"""Retention: each rule removes what is past its period and keeps what is not, the dry run
counts exactly what the run then removes, every run is audited with its counts, and what
reached the real account is kept."""

import datetime as dt

import pytest
from allauth.usersessions.models import UserSession
from django.conf import settings
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.utils import timezone

from coaching.models import (
    AuditEvent,
    InboxItem,
    Notification,
    Publication,
    PublishAttempt,
    Review,
)
from coaching.selectors.retention import KINDS, months_before, retention_due
from coaching.services import retention
from sandbox import services
from sandbox.errors import InvalidInput, NotAllowed
from sandbox.models import Draft, Organisation, PostImage, ScenarioRun, TimelineItem
from tests import builders
from tests.factories import inbox_item, make_post_image

pytestmark = pytest.mark.django_db

LONG_AGO = timezone.now() - dt.timedelta(days=400)
RECENTLY = timezone.now() - dt.timedelta(days=30)


def _practice_post(trainee, account, when):
    """A practice post with a simulated reaction under it, and the trainee's practice
    response to that reaction (a draft that holds on to it)."""
    post = services.practice_post(author=trainee, account=account, text="Our new ward opens")
    reaction = TimelineItem.objects.create(
        owner=trainee,
        persona="amara-okafor",
        kind="reply",
        text="Lovely!",
        parent=post,
        appear_at=when,
    )
    response = builders.draft(trainee, account, "Thank you!", in_reply_to=reaction)
    TimelineItem.objects.filter(pk=post.pk).update(appear_at=when)
    return post, reaction, response


def _never_sent(trainee, account, when):
    draft = builders.draft(trainee, account, "An idea for later")
    image = make_post_image(draft)
    Draft.objects.filter(pk=draft.pk).update(updated_at=when)
    return draft, image


def _attempt(publication, when, body="Rejected: duplicate"):
    attempt = PublishAttempt.objects.create(
        publication=publication, request="POST /2/tweets", outcome="rejected", error_body=body
    )
    PublishAttempt.objects.filter(pk=attempt.pk).update(started_at=when)
    return attempt


def _notification(user, when, draft=None):
    notice = Notification.objects.create(user=user, kind="reviewed", message="News", draft=draft)
    Notification.objects.filter(pk=notice.pk).update(created_at=when)
    return notice


def _age_run(run, when):
    ScenarioRun.objects.filter(pk=run.pk).update(started_at=when)
    TimelineItem.objects.filter(scenario_run=run).update(appear_at=when)


@pytest.fixture
def old_and_new(trainee, coach, account, organisation, scenario, private_media):
    """One of everything past its period, and one of everything within it."""
    old_post, old_reaction, old_response = _practice_post(trainee, account, LONG_AGO)
    new_post, _, new_response = _practice_post(trainee, account, RECENTLY)
    old_draft, old_image = _never_sent(trainee, account, LONG_AGO)
    new_draft, new_image = _never_sent(trainee, account, RECENTLY)
    # Sent for review long ago and rejected: it was sent, so "never sent" does not apply.
    rejected = builders.submitted(trainee, account, "Sent long ago")
    Draft.objects.filter(pk=rejected.pk).update(updated_at=LONG_AGO)
    # Reached the real account long ago: the record.
    publication = builders.approved(trainee, coach, account, "Live long ago")
    Publication.objects.filter(pk=publication.pk).update(
        status="published", remote_id="1", published_at=LONG_AGO
    )
    Draft.objects.filter(pk=publication.draft_id).update(updated_at=LONG_AGO)
    old_attempt = _attempt(publication, LONG_AGO)
    new_attempt = _attempt(publication, RECENTLY)
    old_notice = _notification(trainee, timezone.now() - dt.timedelta(days=91))
    new_notice = _notification(trainee, timezone.now() - dt.timedelta(days=89))
    old_run = services.scenario_start(scenario=scenario, trainee=trainee, by=coach)
    inject = old_run.items.get(appear_at=old_run.started_at)
    old_run_response = builders.draft(trainee, account, "That is not true", in_reply_to=inject)
    _age_run(old_run, LONG_AGO)
    new_run = services.scenario_start(scenario=scenario, trainee=coach, by=coach)
    _age_run(new_run, RECENTLY)
    # The public's posts in the inbox: dealt with long ago (one answered), still needing an
    # answer though old, and dealt with recently.
    old_done = inbox_item(account, posted_at=LONG_AGO, state="done")
    old_answered = inbox_item(
        account, posted_at=LONG_AGO, state="done", text="My mum Jane Doe, NHS 943 476 5919"
    )
    builders.answer(trainee, old_answered, "Please message us privately.")
    old_open = inbox_item(account, posted_at=LONG_AGO)
    new_done = inbox_item(account, posted_at=RECENTLY, state="no_reply")
    return {
        "gone": {
            "items": [old_post, old_reaction, inject],
            "drafts": [old_draft, old_response, old_run_response],
            "images": [old_image],
            "runs": [old_run],
            "notices": [old_notice],
            "inbox": [old_done],
        },
        "kept": {
            "items": [new_post],
            "drafts": [new_draft, new_response, rejected, publication.draft],
            "images": [new_image],
            "runs": [new_run],
            "notices": [new_notice],
            "attempts": [new_attempt],
            "inbox": [old_open, new_done],
        },
        "old_answered": old_answered,
        "old_attempt": old_attempt,
        "publication": publication,
    }


EXPECTED = {
    "practice_posts": 1,
    "scenario_runs": 1,
    "drafts_never_sent": 1,
    "practice_responses": 2,
    "images": 1,
    "notifications": 1,
    "attempt_bodies": 1,
    "inbox_posts": 2,
}


def test_the_dry_run_counts_what_the_run_then_removes(
    old_and_new, admin, organisation, django_capture_on_commit_callbacks
):
    preview = retention.retention_preview(by=admin, organisation_id=organisation.pk)
    assert preview == EXPECTED
    image_file = old_and_new["gone"]["images"][0].file
    assert image_file.storage.exists(image_file.name)

    with django_capture_on_commit_callbacks(execute=True):
        applied = retention.retention_apply()

    assert applied[organisation.pk] == preview
    gone = old_and_new["gone"]
    assert not TimelineItem.objects.filter(pk__in=[i.pk for i in gone["items"]]).exists()
    assert not Draft.objects.filter(pk__in=[d.pk for d in gone["drafts"]]).exists()
    assert not PostImage.objects.filter(pk__in=[i.pk for i in gone["images"]]).exists()
    assert not image_file.storage.exists(image_file.name), "the image's file goes too"
    assert not ScenarioRun.objects.filter(pk__in=[r.pk for r in gone["runs"]]).exists()
    assert not Notification.objects.filter(pk__in=[n.pk for n in gone["notices"]]).exists()
    old_and_new["old_attempt"].refresh_from_db()
    assert old_and_new["old_attempt"].error_body == ""
    assert old_and_new["old_attempt"].outcome == "rejected", "the attempt itself stays"
    assert not InboxItem.objects.filter(pk__in=[i.pk for i in gone["inbox"]]).exists()
    answered = InboxItem.objects.get(pk=old_and_new["old_answered"].pk)
    assert (answered.text, answered.author_name, answered.risks) == ("", "", [])
    assert answered.answers.exists() and answered.remote_id, "the answer's record stays"

    kept = old_and_new["kept"]
    assert TimelineItem.objects.filter(pk__in=[i.pk for i in kept["items"]]).count() == 1
    assert Draft.objects.filter(pk__in=[d.pk for d in kept["drafts"]]).count() == 4
    assert PostImage.objects.filter(pk__in=[i.pk for i in kept["images"]]).count() == 1
    assert ScenarioRun.objects.filter(pk__in=[r.pk for r in kept["runs"]]).count() == 1
    assert Notification.objects.filter(pk__in=[n.pk for n in kept["notices"]]).count() == 1
    assert (
        InboxItem.objects.filter(pk__in=[i.pk for i in kept["inbox"]]).exclude(text="").count() == 2
    )
    kept["attempts"][0].refresh_from_db()
    assert kept["attempts"][0].error_body == "Rejected: duplicate"
    # What reached the real account is the record: the post, its review, its publication.
    publication = old_and_new["publication"]
    assert Publication.objects.filter(pk=publication.pk, status="published").exists()
    assert Review.objects.filter(draft_id=publication.draft_id, decision="approve").exists()

    # The next run finds nothing, and says so.
    assert retention.retention_preview(by=admin, organisation_id=organisation.pk) == dict.fromkeys(
        KINDS, 0
    )


def test_a_legal_hold_keeps_everything_until_it_is_lifted(old_and_new, organisation, admin):
    organisation.records_on_hold = True
    organisation.save(update_fields=["records_on_hold"])
    assert organisation.pk not in retention.retention_apply()
    assert retention.retention_preview(by=admin, organisation_id=organisation.pk) == EXPECTED
    organisation.records_on_hold = False
    organisation.save(update_fields=["records_on_hold"])
    assert retention.retention_apply()[organisation.pk] == EXPECTED


def test_every_run_is_audited_with_its_counts(old_and_new, organisation, other_organisation):
    retention.retention_apply()
    retention.retention_apply()
    events = list(
        AuditEvent.objects.filter(
            organisation=organisation, action=AuditEvent.Action.RETENTION_APPLIED
        ).order_by("pk")
    )
    assert [event.detail for event in events] == [
        retention.describe_counts(EXPECTED),
        retention.describe_counts(dict.fromkeys(KINDS, 0)),
    ]
    assert "1 practice posts" in events[0].detail and events[0].actor is None
    # Every organisation's run is audited, even one with nothing to remove.
    assert (
        AuditEvent.objects.filter(
            organisation=other_organisation, action=AuditEvent.Action.RETENTION_APPLIED
        ).count()
        == 2
    )


def test_each_organisation_keeps_for_its_own_periods(old_and_new, organisation, admin):
    # Keeping practice for 24 months spares the 400-day-old post, draft and response.
    retention.retention_set(
        by=admin,
        organisation_id=organisation.pk,
        periods={**_periods(organisation), "keep_practice_months": 24},
    )
    counts = retention.retention_preview(by=admin, organisation_id=organisation.pk)
    assert counts["practice_posts"] == 0 and counts["drafts_never_sent"] == 0
    assert counts["practice_responses"] == 1, "the old run's response still goes with the run"
    # Keeping notifications for 7 days takes the 89-day-old one too.
    retention.retention_set(
        by=admin,
        organisation_id=organisation.pk,
        periods={**_periods(organisation), "keep_notifications_days": 7},
    )
    assert (
        retention.retention_preview(by=admin, organisation_id=organisation.pk)["notifications"] == 2
    )


def test_a_scenario_run_waits_for_its_last_post(scenario, trainee, coach, organisation):
    run = services.scenario_start(scenario=scenario, trainee=trainee, by=coach)
    _age_run(run, LONG_AGO)
    last = run.items.order_by("-pk").first()
    TimelineItem.objects.filter(pk=last.pk).update(appear_at=RECENTLY)
    due = retention_due(Organisation.objects.get(pk=organisation.pk), timezone.now())
    assert due.counts()["scenario_runs"] == 0


def _periods(organisation):
    organisation.refresh_from_db()
    return {name: getattr(organisation, name) for name in Organisation.RETENTION_FIELDS}


def test_the_defaults_are_the_ones_documented(organisation):
    assert _periods(organisation) == {
        "keep_practice_months": 12,
        "keep_notifications_days": 90,
        "keep_attempt_bodies_months": 12,
        "keep_scenario_runs_months": 12,
        "keep_inbox_months": 12,
    }


def test_only_the_organisations_admin_changes_retention(organisation, coach, outside_coach):
    for person in (coach, outside_coach):
        with pytest.raises(NotAllowed):
            retention.retention_set(
                by=person, organisation_id=organisation.pk, periods=_periods(organisation)
            )
        with pytest.raises(NotAllowed):
            retention.retention_preview(by=person, organisation_id=organisation.pk)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("keep_practice_months", 0, "Enter a number of months from 1 to 120."),
        ("keep_practice_months", 121, "Enter a number of months from 1 to 120."),
        ("keep_notifications_days", 6, "Enter a number of days from 7 to 3650."),
        ("keep_scenario_runs_months", 500, "Enter a number of months from 1 to 120."),
    ],
)
def test_a_period_out_of_bounds_is_refused_with_a_clear_message(
    organisation, admin, field, value, message
):
    with pytest.raises(InvalidInput, match=message) as caught:
        retention.retention_set(
            by=admin,
            organisation_id=organisation.pk,
            periods={**_periods(organisation), field: value},
        )
    assert caught.value.field == field
    assert _periods(organisation)[field] != value
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.RETENTION_CHANGED).exists()


def test_a_change_is_audited(organisation, admin):
    changed = retention.retention_set(
        by=admin,
        organisation_id=organisation.pk,
        periods={**_periods(organisation), "keep_notifications_days": 30},
    )
    assert changed == ["Notifications (days): 90 → 30"]
    event = AuditEvent.objects.get(action=AuditEvent.Action.RETENTION_CHANGED)
    assert event.actor == admin and event.detail == "Notifications (days): 90 → 30"


def test_months_before_lands_on_a_real_day():
    moment = dt.datetime(2027, 5, 31, 12, tzinfo=dt.UTC)
    assert months_before(moment, 3) == dt.datetime(2027, 2, 28, 12, tzinfo=dt.UTC)
    assert months_before(moment, 12) == dt.datetime(2026, 5, 31, 12, tzinfo=dt.UTC)
    assert months_before(moment, 17) == dt.datetime(2025, 12, 31, 12, tzinfo=dt.UTC)


def test_expired_sessions_and_their_sign_in_rows_are_cleared(trainee):
    live, expired = SessionStore(), SessionStore()
    live.create()
    expired.create()
    Session.objects.filter(session_key=expired.session_key).update(
        expire_date=timezone.now() - dt.timedelta(seconds=1)
    )
    for key in (live.session_key, expired.session_key):
        UserSession.objects.create(user=trainee, session_key=key, ip="192.0.2.1", user_agent="x")

    assert services.sessions_clear_expired() == 1

    assert list(Session.objects.values_list("session_key", flat=True)) == [live.session_key]
    assert list(UserSession.objects.values_list("session_key", flat=True)) == [live.session_key]


def test_the_beat_schedule_runs_retention_and_clears_sessions_every_day():
    tasks = {entry["task"]: entry["schedule"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    for name in ("coaching.tasks.apply_retention", "sandbox.tasks.clear_expired_sessions"):
        schedule = tasks[name]
        assert len(schedule.hour) == 1 and len(schedule.minute) == 1, "once a day"
        assert settings.CELERY_TASK_ROUTES[name] == {"queue": "control"}
