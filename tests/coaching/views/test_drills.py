"""The lockdown drill pages (coaching/views/drills.py): the coach's list and start form (a
refused form keeps what was typed), the trainee's run from Start to the last tick with
and without htmx, the debrief's times (flat in queries as the cohort grows), and ending."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from coaching.models import DrillRun, DrillStep, LockdownDrill, LockdownStep
from coaching.services import drills as drill_services
from sandbox.models import Cohort, Membership
from tests import factories
from tests.factories import signed_in

pytestmark = pytest.mark.django_db


def test_a_coach_starts_a_drill_from_the_form(client, coach, account, ward, trainee):
    signed_in(client, coach)
    page = client.get(reverse("drills"))
    assert page.status_code == 200
    assert "It is 02:10" in page.text and "Ward 7" in page.text
    response = client.post(
        reverse("drills"),
        {"account": account.pk, "cohort": ward.pk, "incident": "Vouchers from @{account}"},
    )
    drill = LockdownDrill.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("drill_debrief", args=[drill.pk])
    debrief = client.get(response["Location"])
    assert f"Vouchers from @{account.handle}" in debrief.text
    assert "Tara" in debrief.text and "Not started" in debrief.text


def test_a_refused_drill_form_says_why_and_keeps_what_was_typed(
    client, coach, account, organisation, other_organisation
):
    signed_in(client, coach)
    empty = Cohort.objects.create(organisation=organisation, name="Empty ward")
    theirs = Cohort.objects.create(organisation=other_organisation, name="Theirs")
    typed = {"account": account.pk, "cohort": empty.pk, "incident": "Odd posts at 3am"}
    response = client.post(reverse("drills"), typed)
    assert response.status_code == 422
    assert "There are no trainees in Empty ward yet" in response.text
    assert "Odd posts at 3am" in response.text
    response = client.post(reverse("drills"), {**typed, "cohort": theirs.pk})
    assert response.status_code == 422
    assert "Choose one of your organisation&#x27;s cohorts." in response.text
    response = client.post(reverse("drills"), {**typed, "cohort": "1e9", "account": "x"})
    assert response.status_code == 422
    assert not LockdownDrill.objects.exists()


@pytest.mark.parametrize("htmx", [False, True])
def test_a_trainee_runs_the_drill_from_start_to_the_last_tick(client, drill, trainee, htmx):
    signed_in(client, trainee)
    url = reverse("drill_run", args=[drill.pk])
    page = client.get(url)
    assert "Nothing you do here touches @TestBoard" in page.text
    assert "Start the drill" in page.text and "£500" not in page.text  # not before Start

    client.post(reverse("drill_run_start", args=[drill.pk]))
    page = client.get(url)
    assert "£500 shopping vouchers" in page.text and "going out from @TestBoard" in page.text
    assert "drill: nothing real happens" in page.text
    assert "Recovery checklist" not in page.text  # the lockdown comes first

    client.post(reverse("drill_lock_down", args=[drill.pk]))
    page = client.get(url)
    assert "Locked down (drill)" in page.text and "0 of 7 steps done." in page.text

    headers = {"HX-Request": "true"} if htmx else {}
    for step in LockdownStep.Step.values:
        response = client.post(
            reverse("drill_step", args=[drill.pk, step]), headers=headers, follow=True
        )
        assert response.status_code == 200
    assert "7 of 7 steps done." in response.text
    assert "Finished" in response.text and "after you started" in response.text
    assert "Mark as done" not in response.text
    run = DrillRun.objects.get(drill=drill, trainee=trainee)
    assert run.finished_at is not None


def test_ticking_a_step_twice_or_before_the_lockdown_says_why(client, drill, trainee):
    signed_in(client, trainee)
    client.post(reverse("drill_run_start", args=[drill.pk]))
    step = reverse("drill_step", args=[drill.pk, "report"])
    response = client.post(step, follow=True)
    assert "Lock the account down first" in response.text
    client.post(reverse("drill_lock_down", args=[drill.pk]))
    client.post(step)
    response = client.post(step, follow=True)
    assert "That step is already ticked." in response.text
    assert client.post(reverse("drill_step", args=[drill.pk, "nonsense"])).status_code == 404


def test_the_coach_ends_the_drill_and_the_trainee_sees_it_ended(client, drill, coach, trainee):
    signed_in(client, coach)
    response = client.post(reverse("drill_end", args=[drill.pk]), follow=True)
    assert "The drill has ended." in response.text and "End the drill" not in response.text
    again = client.post(reverse("drill_end", args=[drill.pk]), follow=True)
    assert "That drill has already ended." in again.text
    signed_in(client, trainee)
    page = client.get(reverse("drill_run", args=[drill.pk]))
    assert "Your coach ended this drill before you started it." in page.text
    assert "Start the drill" not in page.text


def test_the_debrief_shows_times_not_started_unfinished_and_medians(
    client, drill, coach, trainee, other_trainee
):
    start = timezone.now() - dt.timedelta(minutes=5)
    run = DrillRun.objects.get(drill=drill, trainee=trainee)
    DrillRun.objects.filter(pk=run.pk).update(
        started_at=start,
        locked_down_at=start + dt.timedelta(seconds=42),
        finished_at=start + dt.timedelta(seconds=200),
    )
    DrillStep.objects.filter(run=run).update(done_at=start + dt.timedelta(seconds=125))
    signed_in(client, coach)
    page = client.get(reverse("drill_debrief", args=[drill.pk])).text
    assert "42 s" in page and "2 min 05 s" in page and "3 min 20 s" in page
    assert "Not started" in page  # Otto never pressed Start
    assert page.count("Median") == 1


def test_the_debrief_costs_the_same_queries_however_large_the_cohort(
    client, django_assert_num_queries, coach, account, organisation, ward
):
    def join(n):
        for i in range(n):
            person = factories.member(organisation, "trainee", username=f"drill{n}-{i}")
            Membership.objects.filter(user=person).update(cohort=ward)

    def drill_with_times():
        drill = drill_services.drill_start(
            by=coach, account=account, cohort=ward, incident="Hacked"
        )
        now = timezone.now()
        DrillRun.objects.filter(drill=drill).update(
            started_at=now - dt.timedelta(seconds=60), locked_down_at=now
        )
        DrillStep.objects.filter(run__drill=drill, step="password").update(done_at=now)
        return drill

    signed_in(client, coach)
    small = drill_with_times()
    with CaptureQueriesContext(connection) as captured:
        client.get(reverse("drill_debrief", args=[small.pk]))
    join(12)
    large = drill_with_times()
    with django_assert_num_queries(len(captured)):
        body = client.get(reverse("drill_debrief", args=[large.pk])).text
    assert body.count("data-trainee=") == 14


def test_the_list_costs_the_same_queries_however_many_drills(
    client, django_assert_num_queries, coach, account, ward
):
    signed_in(client, coach)
    drill_services.drill_start(by=coach, account=account, cohort=ward, incident="One")
    with CaptureQueriesContext(connection) as captured:
        client.get(reverse("drills"))
    for n in range(5):
        drill_services.drill_start(by=coach, account=account, cohort=ward, incident=f"{n}")
    with django_assert_num_queries(len(captured)):
        body = client.get(reverse("drills")).text
    assert body.count("Debrief: Ward 7") == 6
