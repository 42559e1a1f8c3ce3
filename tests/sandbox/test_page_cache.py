"""Kept pages (sandbox/page_cache.py): a poll with nothing new is answered from the cache,
and nothing anyone changes, and nothing due by time, is ever missing from the next one."""

import datetime as dt
import random
import re
import time

import pytest
from django.core.cache import cache
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from redis.exceptions import RedisError

from sandbox import page_cache
from sandbox.audience import Curve
from sandbox.models import Draft, Membership, TimelineItem
from sandbox.personas import PERSONAS
from tests.factories import PASSWORD, signed_in

FEED = {"HX-Request": "true"}
PERSONA = PERSONAS[0].slug


def _poll(client: Client, url: str, headers: dict[str, str] | None = None) -> tuple[str, list[str]]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, headers=headers or {})
    assert response.status_code == 200
    return response.content.decode(), [q["sql"] for q in queries.captured_queries]


def _settled(client: Client, url: str, headers: dict[str, str] | None = None) -> str:
    """A session's first page makes its CSRF secret and is not kept; the second is."""
    _poll(client, url, headers)
    return _poll(client, url, headers)[0]


def _generation(organisation_id: int) -> str:
    return page_cache._generations([page_cache.organisation_key(organisation_id)])[0]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("who", "url", "headers"),
    [
        ("trainee", "timeline", {}),
        ("trainee", "timeline", FEED),
        ("coach", "queue", {}),
        ("coach", "queue", FEED),
    ],
)
def test_a_poll_with_nothing_new_reads_only_the_session(
    request, client, submitted, who, url, headers
):
    signed_in(client, request.getfixturevalue(who))
    page = _settled(client, reverse(url), headers)
    again, queries = _poll(client, reverse(url), headers)
    assert again == page
    # The session (and its idle mark, refreshed by each page read in the tests), its user
    # and their memberships: what every signed-in page reads.
    statements = [sql for sql in queries if sql.startswith(("SELECT", "UPDATE"))]
    read = {re.search(r'(?:FROM|UPDATE) "(\w+)"', sql).group(1) for sql in statements}
    assert read == {"django_session", "auth_user", "sandbox_membership"}


@pytest.mark.django_db
def test_a_change_made_through_a_page_shows_in_the_next_poll(client, trainee, coach, submitted):
    coach_client = signed_in(Client(), coach)
    assert submitted.current_revision.text in _settled(coach_client, reverse("queue"), FEED)
    signed_in(client, trainee)
    client.post(reverse("draft_withdraw", args=[submitted.pk]))
    submitted.refresh_from_db()
    assert submitted.status == Draft.Status.WITHDRAWN
    assert submitted.current_revision.text not in _poll(coach_client, reverse("queue"), FEED)[0]


@pytest.mark.django_db
def test_a_change_made_outside_any_page_shows_in_the_next_poll(client, trainee, draft):
    signed_in(client, trainee)
    assert "Withdrawn" not in _settled(client, reverse("timeline"), FEED)
    # As a task or a command writes: no request, so every organisation's pages start afresh.
    TimelineItem.objects.create(
        owner=trainee,
        account=draft.account,
        kind=TimelineItem.Kind.POST,
        persona=PERSONA,
        text="Seen from a task",
        appear_at=timezone.now(),
    )
    assert "Seen from a task" in _poll(client, reverse("timeline"), FEED)[0]


@pytest.mark.django_db(transaction=True)
def test_a_write_moves_on_only_the_writers_organisations(
    client, organisation, other_organisation, other_account
):
    from tests.factories import member

    outsider = member(other_organisation, "trainee")
    signed_in(client, outsider)
    ours, theirs = _generation(organisation.pk), _generation(other_organisation.pk)
    response = client.post(
        reverse("timeline"),
        {"text": "A draft in the other organisation", "account": other_account.pk, "save": ""},
    )
    assert response.status_code == 302
    assert _generation(organisation.pk) == ours
    assert _generation(other_organisation.pk) != theirs


@pytest.mark.django_db
def test_writes_by_staff_or_nobody_signed_in_move_on_every_organisation(
    rf, superuser, trainee, organisation
):
    signed_in_staff, anonymous, member = rf.get("/"), rf.get("/"), rf.get("/")
    signed_in_staff.user, member.user = superuser, trainee
    assert page_cache._scope_of(signed_in_staff) == [page_cache.INSTALLATION]
    assert page_cache._scope_of(anonymous) == [page_cache.INSTALLATION]
    assert page_cache._scope_of(None) == [page_cache.INSTALLATION]
    assert page_cache._scope_of(member) == [page_cache.organisation_key(organisation.pk)]


@pytest.mark.django_db
def test_each_session_gets_a_page_with_its_own_csrf_token(trainee, account):
    first, second = Client(enforce_csrf_checks=True), Client(enforce_csrf_checks=True)
    for client in (first, second):
        client.login(username=trainee.username, password=PASSWORD)
        _settled(client, reverse("timeline"))
    page = _poll(second, reverse("timeline"))[0]
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    assert token
    response = second.post(
        reverse("timeline"),
        {"csrfmiddlewaretoken": token.group(1), "text": "Kept per session", "account": account.pk},
    )
    assert response.status_code == 302  # the token from the kept page is this session's
    assert Draft.objects.filter(revisions__text="Kept per session").exists()


@pytest.mark.django_db
def test_a_page_showing_a_message_is_never_kept(client, trainee, account):
    signed_in(client, trainee)
    _settled(client, reverse("timeline"))
    response = client.post(
        reverse("timeline"), {"text": "Saved with a message", "account": account.pk}, follow=True
    )
    assert "Saved to your timeline." in response.content.decode()
    assert "Saved to your timeline." not in _poll(client, reverse("timeline"))[0]


@pytest.mark.django_db
def test_a_post_due_to_appear_is_shown_once_it_is_due(client, trainee, account):
    signed_in(client, trainee)
    due = timezone.now() + dt.timedelta(seconds=1.5)
    TimelineItem.objects.create(
        owner=trainee,
        account=account,
        kind=TimelineItem.Kind.POST,
        persona=PERSONA,
        text="Arrives in a moment",
        appear_at=due,
    )
    assert "Arrives in a moment" not in _settled(client, reverse("timeline"), FEED)
    assert "Arrives in a moment" not in _poll(client, reverse("timeline"), FEED)[0]
    time.sleep(max(0.0, (due - timezone.now()).total_seconds()) + 0.1)
    assert "Arrives in a moment" in _poll(client, reverse("timeline"), FEED)[0]


@pytest.mark.django_db
def test_without_the_cache_pages_are_rendered_as_usual(client, trainee, monkeypatch):
    signed_in(client, trainee)
    _settled(client, reverse("timeline"))

    def unreachable(*args, **kwargs):
        raise RedisError("Connection refused")

    monkeypatch.setattr(cache, "get_many", unreachable)
    monkeypatch.setattr(cache, "set_many", unreachable)
    response = client.get(reverse("timeline"))
    assert response.status_code == 200
    assert 'name="csrfmiddlewaretoken"' in response.content.decode()


def test_a_curves_next_rise_is_the_first_second_its_value_is_higher():
    rng = random.Random(7)
    for _ in range(300):
        curve = Curve(
            total=rng.randint(1, 5000),
            midpoint_seconds=rng.uniform(0, 3600),
            steepness=rng.uniform(0.0005, 0.5),
        )
        seconds = rng.randint(0, 7200)
        value = curve.value_at(seconds)
        rise = curve.next_rise_after(seconds)
        if rise is None:
            assert curve.value_at(seconds + 10**8) == value
            continue
        assert rise > seconds
        assert all(curve.value_at(t) == value for t in range(max(seconds, rise - 300), rise))
        assert curve.value_at(rise) > value


@pytest.mark.django_db(transaction=True)
def test_a_task_naming_its_organisation_moves_on_only_that_one(
    organisation, other_organisation, draft
):
    everyone, ours, theirs = (
        page_cache._generations([page_cache.INSTALLATION])[0],
        _generation(organisation.pk),
        _generation(other_organisation.pk),
    )
    with page_cache.writes_for(organisation.pk):
        Draft.objects.filter(pk=draft.pk).update(updated_at=timezone.now())
        Draft.objects.filter(pk=draft.pk).update(updated_at=timezone.now())
        assert _generation(organisation.pk) == ours  # once, as the task's block ends
    assert _generation(organisation.pk) != ours
    assert _generation(other_organisation.pk) == theirs
    assert page_cache._generations([page_cache.INSTALLATION])[0] == everyone


@pytest.mark.django_db(transaction=True)
def test_an_update_that_matches_nothing_moves_nothing_on(draft):
    everyone = page_cache._generations([page_cache.INSTALLATION])[0]
    Draft.objects.filter(pk=draft.pk, status=Draft.Status.APPROVED).update(
        updated_at=timezone.now()
    )
    assert page_cache._generations([page_cache.INSTALLATION])[0] == everyone
    Draft.objects.filter(pk=draft.pk).update(updated_at=timezone.now())
    assert page_cache._generations([page_cache.INSTALLATION])[0] != everyone


def test_every_kind_of_write_is_seen_and_reads_are_not():
    from coaching.services import sending

    def writes(sql: str, rowcount: int = 1) -> bool:
        return page_cache.changes_shown_rows(sql, rowcount)

    assert writes('INSERT INTO "sandbox_draft" ("text") VALUES (%s)')
    assert writes('INSERT OR IGNORE INTO "coaching_notification" ("message") VALUES (%s)')
    assert writes('UPDATE "sandbox_draft" SET "status" = %s')
    assert writes('DELETE FROM "sandbox_draft" WHERE "id" = %s')
    assert writes('TRUNCATE "sandbox_draft", "sandbox_membership";')
    # Publishing's own statements: a data-modifying WITH, whatever its last part matched.
    assert writes(sending._CLAIM_WITH_ATTEMPT)
    assert writes(sending._FINISH_PUBLISHED, rowcount=0)
    # Not plainly a read, and no table named: taken to change everything.
    assert writes("/* a comment first */ UPDATE sandbox_draft SET status = 'x'")
    assert writes("COPY sandbox_draft FROM STDIN")
    assert not writes('SELECT "sandbox_draft"."id" FROM "sandbox_draft" FOR UPDATE')
    assert not writes('WITH recent AS (SELECT 1 AS "updated") SELECT * FROM recent')
    assert not writes('UPDATE "django_session" SET "session_data" = %s')
    assert not writes('UPDATE "sandbox_draft" SET "status" = %s WHERE "status" = %s', 0)
    assert not writes('SAVEPOINT "s1"') and not writes('RELEASE SAVEPOINT "s1"')


@pytest.mark.django_db
def test_the_queue_marks_a_post_past_its_target_once_it_is(client, coach, organisation, submitted):
    organisation.review_target_hours = 1
    organisation.save()
    due = timezone.now() + dt.timedelta(seconds=1.5)
    Draft.objects.filter(pk=submitted.pk).update(submitted_at=due - dt.timedelta(hours=1))
    signed_in(client, coach)
    past_target = "Past target</strong>"
    assert past_target not in _settled(client, reverse("queue"), FEED)
    assert past_target not in _poll(client, reverse("queue"), FEED)[0]
    time.sleep(max(0.0, (due - timezone.now()).total_seconds()) + 0.1)
    assert past_target in _poll(client, reverse("queue"), FEED)[0]


@pytest.mark.django_db(transaction=True)
def test_a_write_rolled_back_moves_nothing_on(organisation, draft):
    everyone = page_cache._generations([page_cache.INSTALLATION])[0]
    with pytest.raises(RuntimeError), transaction.atomic():
        Draft.objects.filter(pk=draft.pk).update(updated_at=timezone.now())
        raise RuntimeError("the service refused")
    assert page_cache._generations([page_cache.INSTALLATION])[0] == everyone


@pytest.mark.django_db(transaction=True)
def test_a_viewer_in_two_organisations_sees_a_change_in_either(
    client, trainee, other_organisation, other_account
):
    Membership.objects.create(user=trainee, organisation=other_organisation, role="trainee")
    signed_in(client, trainee)
    assert "From the other organisation" not in _settled(client, reverse("timeline"), FEED)
    with page_cache.writes_for(other_organisation.pk):
        TimelineItem.objects.create(
            owner=trainee,
            account=other_account,
            persona=PERSONA,
            text="From the other organisation",
            appear_at=timezone.now(),
        )
    assert "From the other organisation" in _poll(client, reverse("timeline"), FEED)[0]


@pytest.mark.django_db
def test_nobody_is_given_a_page_kept_for_someone_else(trainee, other_trainee, account):
    from sandbox import services

    for person in (trainee, other_trainee):
        services.draft_create(author=person, account=account, text=f"Only for {person.username}")
    clients = {person: signed_in(Client(), person) for person in (trainee, other_trainee)}
    for client in clients.values():
        _settled(client, reverse("timeline"), FEED)
    for person, client in clients.items():
        page = _poll(client, reverse("timeline"), FEED)[0]
        others = [p for p in clients if p != person]
        assert f"Only for {person.username}" in page
        assert all(f"Only for {other.username}" not in page for other in others)


@pytest.mark.django_db
def test_one_slot_per_session_and_view_whatever_the_query_string(client, trainee):
    signed_in(client, trainee)
    _settled(client, reverse("timeline"), FEED)
    slots = lambda: set(cache._cache.get_client(None).scan_iter(match="*page:*"))  # noqa: E731
    before = slots()
    for n in range(5):
        _poll(client, f"{reverse('timeline')}?n={n}", FEED)
    assert slots() == before


@pytest.mark.django_db
def test_a_write_succeeds_whatever_happens_to_the_cache(draft, monkeypatch):
    def unreachable(*args, **kwargs):
        raise RedisError("Connection refused")

    def broken(request):
        raise ValueError("an unexpected failure working out the scope")

    monkeypatch.setattr(cache, "set_many", unreachable)
    monkeypatch.setattr(page_cache, "_scope_of", broken)
    assert Draft.objects.filter(pk=draft.pk).update(updated_at=timezone.now()) == 1


@pytest.mark.django_db
def test_the_queue_shows_a_lapsed_claim_and_a_post_old_enough_once_they_are(
    client, coach, second_coach, submitted, settings
):
    moment = timezone.now() + dt.timedelta(seconds=1.5)
    Draft.objects.filter(pk=submitted.pk).update(
        status=Draft.Status.IN_REVIEW,
        claimed_by=second_coach,
        claimed_at=moment - settings.CLAIM_STALE_AFTER,
        submitted_at=moment - dt.timedelta(hours=1),
    )
    # Two sessions: each keeps one page per view, whatever its query string.
    watching, filtered = signed_in(client, coach), signed_in(Client(), coach)
    lapsed = "stopped reviewing at"
    queue, older = reverse("queue") + "?scope=all", reverse("queue") + "?scope=all&age=1h"
    assert lapsed not in _settled(watching, queue, FEED)
    assert submitted.current_revision.text not in _settled(filtered, older, FEED)
    assert lapsed not in _poll(watching, queue, FEED)[0]
    time.sleep(max(0.0, (moment - timezone.now()).total_seconds()) + 0.1)
    assert lapsed in _poll(watching, queue, FEED)[0]
    assert submitted.current_revision.text in _poll(filtered, older, FEED)[0]
