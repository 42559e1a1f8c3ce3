"""The scenarios pages (coaching/views/scenarios.py): writing and starting a scenario, a
scenario for a cohort, the debrief, and the coach's replay of a post. Each with who may do
it, both ways round."""

import datetime as dt
import threading

import pytest
from django.db import connection
from django.db.models import F
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from coaching import services as coaching
from sandbox import scenario_scripts, services
from sandbox.errors import InvalidInput, NotAllowed
from sandbox.models import Cohort, Draft, Membership, Scenario, ScenarioRun, TimelineItem
from tests import factories
from tests.builders import submitted_response
from tests.factories import PASSWORD, signed_in

pytestmark = pytest.mark.django_db

PLEDGE = "£1 for every retweet this gets, we'll donate to the hospital charity!"


# A scenario for a cohort ------------------------------------------------------------------


@pytest.fixture
def cohort(organisation, trainee, other_trainee):
    ward = Cohort.objects.create(organisation=organisation, name="Ward 4")
    Membership.objects.filter(user__in=[trainee, other_trainee]).update(cohort=ward)
    return ward


def test_assigning_a_cohort_starts_one_run_each(scenario, cohort, coach, trainee, other_trainee):
    factories.member(cohort.organisation, "coach", username="cohortcoach")
    Membership.objects.filter(user__username="cohortcoach").update(cohort=cohort)
    assignment = services.scenario_assign_cohort(scenario=scenario, cohort=cohort, by=coach)
    runs = ScenarioRun.objects.filter(scenario=scenario)
    assert {r.trainee for r in runs} == {trainee, other_trainee}  # trainees only
    assert all(r.cohort == cohort for r in runs) and len(assignment.started) == 2
    for person in (trainee, other_trainee):
        assert (
            TimelineItem.objects.filter(owner=person, scenario_run__scenario=scenario).count() == 3
        )


def test_assigning_twice_within_a_minute_does_not_double_it(
    scenario, cohort, coach, organisation, trainee
):
    services.scenario_assign_cohort(scenario=scenario, cohort=cohort, by=coach)
    again = services.scenario_assign_cohort(scenario=scenario, cohort=cohort, by=coach)
    assert again.started == [] and len(again.already_started) == 2
    # Starting it for one of them by hand just then does not double theirs either.
    services.scenario_start(scenario=scenario, trainee=trainee, by=coach)
    assert ScenarioRun.objects.count() == 2
    # Someone who joins the cohort in between gets theirs.
    newcomer = factories.member(organisation, "trainee", username="nia")
    Membership.objects.filter(user=newcomer).update(cohort=cohort)
    third = services.scenario_assign_cohort(scenario=scenario, cohort=cohort, by=coach)
    assert [r.trainee for r in third.started] == [newcomer]
    # An hour later it is a new exercise, and starts again for everyone.
    ScenarioRun.objects.update(started_at=timezone.now() - dt.timedelta(hours=1))
    later = services.scenario_assign_cohort(scenario=scenario, cohort=cohort, by=coach)
    assert len(later.started) == 3 and ScenarioRun.objects.count() == 6


@pytest.mark.django_db(transaction=True)
def test_two_assignments_at_the_same_moment_start_it_once(scenario, cohort, coach):
    barrier = threading.Barrier(2)
    results: list[object] = []

    def assign() -> None:
        try:
            barrier.wait()
            results.append(
                services.scenario_assign_cohort(scenario=scenario, cohort=cohort, by=coach)
            )
        finally:
            connection.close()

    threads = [threading.Thread(target=assign) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 2
    assert ScenarioRun.objects.count() == 2  # one each, not two each
    assert sorted(len(r.started) for r in results) == [0, 2]


def test_an_empty_cohort_gets_a_clear_message(client, scenario, coach, organisation):
    empty = Cohort.objects.create(organisation=organisation, name="Night shift")
    with pytest.raises(InvalidInput, match="no trainees in Night shift"):
        services.scenario_assign_cohort(scenario=scenario, cohort=empty, by=coach)
    url = reverse("scenario_assign_cohort", args=[scenario.pk])
    response = signed_in(client, coach).post(url, {"cohort": empty.pk}, follow=True)
    assert "There are no trainees in Night shift yet" in response.content.decode()


def test_assigning_from_the_scenarios_page(client, scenario, cohort, coach):
    page = signed_in(client, coach).get(reverse("scenarios")).content.decode()
    assert "Ward 4 (2 trainees)" in page
    url = reverse("scenario_assign_cohort", args=[scenario.pk])
    first = client.post(url, {"cohort": cohort.pk}, follow=True).content.decode()
    assert "Started “Clinic rumour” for 2 trainees in Ward 4." in first
    second = client.post(url, {"cohort": cohort.pk}, follow=True).content.decode()
    assert "already started for everyone in Ward 4 less than a minute ago" in second
    assert ScenarioRun.objects.filter(cohort=cohort).count() == 2


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("anonymous", 302),
        ("trainee", 404),
        ("outside_coach", 404),
        ("coach", 302),
    ],
)
def test_who_can_assign_a_cohort(request, client, scenario, cohort, who, expected):
    if who != "anonymous":
        signed_in(client, request.getfixturevalue(who))
    url = reverse("scenario_assign_cohort", args=[scenario.pk])
    assert client.post(url, {"cohort": cohort.pk}).status_code == expected
    assert ScenarioRun.objects.count() == (2 if who == "coach" else 0)
    assert client.get(url).status_code in (302, 405)


def test_another_organisations_cohort_cannot_be_used(client, scenario, coach, other_organisation):
    theirs = Cohort.objects.create(organisation=other_organisation, name="Theirs")
    url = reverse("scenario_assign_cohort", args=[scenario.pk])
    assert signed_in(client, coach).post(url, {"cohort": theirs.pk}).status_code == 404
    with pytest.raises(NotAllowed):
        services.scenario_assign_cohort(scenario=scenario, cohort=theirs, by=coach)


# The debrief ------------------------------------------------------------------------------


def test_the_debrief_interleaves_the_scenario_with_the_trainees_answers(
    client, run, inject, trainee, coach, account
):
    # The run began ten minutes ago, so answers can be placed in the past since then.
    ago = dt.timedelta(minutes=10)
    ScenarioRun.objects.filter(pk=run.pk).update(started_at=F("started_at") - ago)
    TimelineItem.objects.filter(scenario_run=run).update(appear_at=F("appear_at") - ago)
    run.refresh_from_db()
    start = run.started_at
    practice = services.practice_post(
        author=trainee, account=account, text="Practised answer", in_reply_to=inject
    )
    TimelineItem.objects.filter(pk=practice.pk).update(appear_at=start + dt.timedelta(seconds=30))
    draft = submitted_response(trainee, account, inject, quote_of=inject)
    Draft.objects.filter(pk=draft.pk).update(created_at=start + dt.timedelta(seconds=90))
    coaching.review_request_changes(draft=draft, by=coach, note="Say where to check.")

    body = signed_in(client, coach).get(reverse("scenario_debrief", args=[run.pk])).content.decode()
    order = [
        body.index("out-of-date vaccines"),  # 0:00
        body.index("Practised answer"),  # 0:30
        body.index("vaccines are in date"),  # 1:30
        body.index("Is this true??"),  # 2:00
        body.index("Parents cancel flu jabs"),  # 30:00, still to come
    ]
    assert order == sorted(order)
    for clock in ("0:00", "0:30", "1:30", "2:00", "30:00"):
        assert f">{clock}</time>" in body
    assert "Changes requested" in body and "Say where to check." in body
    assert "Quoting @WakeUpKelderby (0:00)" in body
    assert "Not arrived yet" in body


def test_an_approved_response_shows_once_in_the_debrief(
    client, run, inject, trainee, coach, account
):
    draft = submitted_response(trainee, account, inject)
    coaching.review_approve(draft=draft, by=coach, note="Clear and kind.")
    body = signed_in(client, coach).get(reverse("scenario_debrief", args=[run.pk])).content.decode()
    assert body.count("vaccines are in date") == 1
    assert "Approved, practice only" in body and "Clear and kind." in body


def test_the_trainee_sees_their_debrief_without_what_is_still_to_come(client, run, trainee):
    url = reverse("scenario_debrief", args=[run.pk])
    body = signed_in(client, trainee).get(url).content.decode()
    assert "out-of-date vaccines" in body
    assert "Parents cancel flu jabs" not in body and "Not arrived yet" not in body


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("anonymous", 302),
        ("trainee", 200),
        ("other_trainee", 404),
        ("coach", 200),
        ("outside_coach", 404),
        ("admin", 200),
    ],
)
def test_who_can_see_a_debrief(request, client, run, who, expected):
    if who != "anonymous":
        signed_in(client, request.getfixturevalue(who))
    url = reverse("scenario_debrief", args=[run.pk])
    assert client.get(url).status_code == expected
    assert client.post(url).status_code in (302, 405)


def test_the_other_trainees_debrief_is_closed_to_this_trainee_and_the_other_way(
    client, run, trainee, other_trainee, scenario, coach
):
    other_run = services.scenario_start(scenario=scenario, trainee=other_trainee, by=coach)
    signed_in(client, trainee)
    assert client.get(reverse("scenario_debrief", args=[other_run.pk])).status_code == 404
    signed_in(client, other_trainee)
    assert client.get(reverse("scenario_debrief", args=[run.pk])).status_code == 404


def test_the_debrief_is_linked_from_the_scenarios_page_and_the_trainees_timeline(
    client, run, trainee, coach
):
    link = reverse("scenario_debrief", args=[run.pk])
    signed_in(client, coach)
    assert link in client.get(reverse("scenarios")).content.decode()
    assert link in client.get(reverse("trainee_timeline", args=[trainee.pk])).content.decode()


def test_the_debrief_takes_the_same_number_of_queries_however_many_answers(
    client, run, inject, trainee, coach, account
):
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(reverse("scenario_debrief", args=[run.pk])).status_code == 200
        return len(captured)

    signed_in(client, coach)
    draft = submitted_response(trainee, account, inject)
    coaching.review_request_changes(draft=draft, by=coach, note="One")
    services.practice_post(author=trainee, account=account, text="One", in_reply_to=inject)
    few = queries()
    for n in range(6):
        more = submitted_response(trainee, account, inject, quote_of=inject)
        coaching.review_request_changes(draft=more, by=coach, note=f"Note {n}")
        services.practice_post(author=trainee, account=account, text=f"Try {n}", quote_of=inject)
    assert queries() == few


def test_the_scenarios_page_takes_the_same_number_of_queries_however_many_runs(
    client, scenario, cohort, coach, organisation
):
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(reverse("scenarios")).status_code == 200
        return len(captured)

    signed_in(client, coach)
    services.scenario_assign_cohort(scenario=scenario, cohort=cohort, by=coach)
    few = queries()
    for n in range(5):
        factories.member(organisation, "trainee", username=f"extra{n}")
        Membership.objects.filter(user__username=f"extra{n}").update(cohort=cohort)
    Cohort.objects.create(organisation=organisation, name="Another")
    ScenarioRun.objects.update(started_at=timezone.now() - dt.timedelta(hours=1))
    services.scenario_assign_cohort(scenario=scenario, cohort=cohort, by=coach)
    assert ScenarioRun.objects.count() == 9
    assert queries() == few


# Writing and starting a scenario ----------------------------------------------------------


def test_starting_a_scenario_for_a_junk_trainee_id_is_a_404(as_coach, coach, organisation):
    from sandbox.models import Scenario

    scenario = Scenario.objects.create(
        organisation=organisation,
        title="S",
        items=[{"offset_seconds": 0, "persona": "dave-hollins", "kind": "post", "text": "Hi"}],
    )
    response = as_coach.post(reverse("scenario_start", args=[scenario.pk]), {"trainee": "abc"})
    assert response.status_code == 404


@pytest.mark.parametrize("minutes", ["1e400", "-5", "99999999"])
def test_absurd_scenario_times_get_a_message(as_coach, minutes):
    response = as_coach.post(
        reverse("scenarios"), {"title": "T", "script": f"{minutes} | dave-hollins | Hi"}
    )
    assert response.status_code == 422
    assert "is not a number of minutes from 0 to 1440" in response.content.decode()


@pytest.mark.django_db
def test_three_example_scenarios_ship_and_can_be_started_from_the_page(client, coach, trainee):
    assert len(scenario_scripts.SCENARIOS) == 3
    client.login(username=coach.username, password=PASSWORD)
    for example in scenario_scripts.SCENARIOS:
        client.post(reverse("scenario_copy_example", args=[example.slug]))
    assert Scenario.objects.count() == 3
    scenario = Scenario.objects.first()
    response = client.post(reverse("scenario_start", args=[scenario.pk]), {"trainee": trainee.pk})
    assert response.status_code == 302
    assert TimelineItem.objects.filter(
        owner=trainee, scenario_run__scenario=scenario
    ).count() == len(scenario.items)


@pytest.mark.django_db
def test_scenarios_page_is_for_coaches(client, trainee, coach):
    client.login(username=trainee.username, password=PASSWORD)
    assert client.get(reverse("scenarios")).status_code == 403
    client.login(username=coach.username, password=PASSWORD)
    assert client.get(reverse("scenarios")).status_code == 200


# The coach's replay --------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_replay_shows_how_a_risky_post_would_play_out(client, coach, trainee, account):
    draft = services.draft_create(author=trainee, account=account, text=PLEDGE)
    client.login(username=coach.username, password=PASSWORD)
    at_1 = client.get(reverse("replay", args=[draft.pk]) + "?minutes=1").content.decode()
    at_60 = client.get(reverse("replay", args=[draft.pk]) + "?minutes=60").content.decode()
    assert "Why people react this way" in at_60
    assert "K</span> reposts" in at_60 and "K</span> reposts" not in at_1
    client.login(username=trainee.username, password=PASSWORD)
    assert client.get(reverse("replay", args=[draft.pk])).status_code == 403
