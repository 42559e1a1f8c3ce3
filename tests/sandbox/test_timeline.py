"""The private simulated timeline: practice posts, the simulated audience (run by a real
Celery worker), scenarios, the coach's replay, and who may see whose timeline."""

import datetime as dt
import time

import pytest
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from sandbox import audience, scenario_scripts, services
from sandbox.errors import InvalidInput, NotAllowed
from sandbox.models import Scenario, TimelineItem
from tests.factories import PASSWORD

PLEDGE = "£1 for every retweet this gets, we'll donate to the hospital charity!"


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_practice_post_gets_its_audience_from_the_worker(celery_worker, trainee, account):
    post = services.practice_post(author=trainee, account=account, text=PLEDGE)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        post.refresh_from_db()
        if post.audience:
            break
        time.sleep(0.1)
    assert post.audience, "the worker did not simulate the audience"
    plan = audience.AudiencePlan.from_dict(post.audience)
    assert plan == audience.plan(PLEDGE, seed=post.pk, findings=plan_findings(PLEDGE))
    reactions = post.children.exclude(persona="")
    assert reactions.count() == len(plan.reactions) > 0
    # They arrive over minutes, not all at once.
    assert reactions.filter(appear_at__gt=post.appear_at + dt.timedelta(minutes=1)).exists()


def plan_findings(text: str):  # type: ignore[no-untyped-def]
    from sandbox.checks import run_checks

    return run_checks(text)


@pytest.mark.django_db
def test_simulating_twice_changes_nothing(trainee, account):
    post = services.practice_post(author=trainee, account=account, text=PLEDGE)
    services.audience_simulate(item_id=post.pk)
    count = post.children.count()
    services.audience_simulate(item_id=post.pk)
    assert post.children.count() == count > 0


@pytest.mark.django_db
def test_reactions_show_only_once_they_have_arrived(client, trainee, account):
    post = services.practice_post(
        author=trainee, account=account, text="Is the walk-in centre open today?"
    )
    services.audience_simulate(item_id=post.pk)
    client.login(username=trainee.username, password=PASSWORD)
    url = reverse("timeline_item", args=[post.pk])
    first = post.children.order_by("appear_at").first()
    assert first is not None
    # As the page shows it: a reply like "I'd ask at reception" has its apostrophe escaped.
    shown = escape(first.text[:40])
    assert shown not in client.get(url).content.decode()
    TimelineItem.objects.filter(pk=first.pk).update(appear_at=timezone.now())
    assert shown in client.get(url, headers={"HX-Request": "true"}).content.decode()


@pytest.mark.django_db
def test_the_pledge_counts_like_a_viral_post_an_hour_later(client, trainee, account):
    post = services.practice_post(author=trainee, account=account, text=PLEDGE)
    services.audience_simulate(item_id=post.pk)
    TimelineItem.objects.filter(pk=post.pk).update(appear_at=timezone.now() - dt.timedelta(hours=1))
    client.login(username=trainee.username, password=PASSWORD)
    body = client.get(reverse("timeline")).content.decode()
    assert 'K</span> <span class="sp-count-label">reposts' in body  # thousands, shown as X does


@pytest.mark.django_db
def test_practising_needs_your_own_organisations_account(trainee, other_account):
    with pytest.raises(NotAllowed):
        services.practice_post(author=trainee, account=other_account, text="Hello")


@pytest.mark.django_db
def test_the_composer_practise_button_posts_to_the_timeline(client, trainee, account):
    client.login(username=trainee.username, password=PASSWORD)
    response = client.post(
        reverse("timeline"),
        {"text": "Practice makes perfect", "account": account.pk, "practise": "1"},
    )
    assert response.status_code == 302
    assert TimelineItem.objects.get(owner=trainee, parent=None).text == "Practice makes perfect"


# Isolation, in both directions -------------------------------------------------------------------


@pytest.mark.django_db
def test_nobody_else_sees_a_trainees_timeline(
    client, trainee, other_trainee, coach, outside_coach, account
):
    post = services.practice_post(author=trainee, account=account, text="My own practice")
    for person, expected in [
        (other_trainee, 404),
        (outside_coach, 404),
        (coach, 200),
        (trainee, 200),
    ]:
        client.login(username=person.username, password=PASSWORD)
        assert client.get(reverse("timeline_item", args=[post.pk])).status_code == expected
        body = client.get(reverse("timeline")).content.decode()
        if person != trainee:
            assert "My own practice" not in body  # never in anyone else's own feed
    client.login(username=other_trainee.username, password=PASSWORD)
    assert client.get(reverse("trainee_timeline", args=[trainee.pk])).status_code == 404
    client.login(username=outside_coach.username, password=PASSWORD)
    assert client.get(reverse("trainee_timeline", args=[trainee.pk])).status_code == 404
    client.login(username=coach.username, password=PASSWORD)
    assert (
        "My own practice"
        in client.get(reverse("trainee_timeline", args=[trainee.pk])).content.decode()
    )


@pytest.mark.django_db
def test_a_trainee_cannot_see_another_trainees_timeline_the_other_way(
    client, trainee, other_trainee, account
):
    services.practice_post(author=other_trainee, account=account, text="Otto's practice")
    client.login(username=trainee.username, password=PASSWORD)
    assert "Otto's practice" not in client.get(reverse("timeline")).content.decode()


@pytest.mark.django_db
def test_the_feed_takes_the_same_number_of_queries_however_long_it_is(
    client, trainee, account, django_assert_max_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.login(username=trainee.username, password=PASSWORD)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            client.get(reverse("timeline"), headers={"HX-Request": "true"})
        return len(captured)

    services.practice_post(author=trainee, account=account, text="One")
    few = queries()
    for n in range(30):
        post = services.practice_post(author=trainee, account=account, text=f"Post {n}")
        services.audience_simulate(item_id=post.pk)
    assert queries() == few


# Scenarios ------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_coach_writes_a_scenario_and_its_posts_arrive_on_time(coach, trainee, organisation):
    items = services.parse_scenario_script(
        "0 | kelderby-echo | Breaking: phone lines at the hospital are down\n"
        "5 | dave-hollins | reply: Why has nobody said anything?"
    )
    scenario = services.scenario_save(
        by=coach, organisation_id=organisation.pk, title="Outage", description="", items=items
    )
    run = services.scenario_start(scenario=scenario, trainee=trainee, by=coach)
    first, second = run.items.order_by("appear_at")
    assert second.parent == first and second.kind == "reply"
    assert second.appear_at - first.appear_at == dt.timedelta(minutes=5)


@pytest.mark.django_db
def test_bad_scenario_lines_get_a_clear_message(coach, organisation):
    with pytest.raises(InvalidInput, match="Line 1: write it as"):
        services.parse_scenario_script("no pipes here")
    with pytest.raises(InvalidInput, match="not a number of minutes"):
        services.parse_scenario_script("soon | x | y")
    with pytest.raises(InvalidInput):
        services.scenario_save(
            by=coach,
            organisation_id=organisation.pk,
            title="Bad",
            description="",
            items=[{"offset_seconds": 0, "persona": "nobody-at-all", "kind": "post", "text": "Hi"}],
        )


@pytest.mark.django_db
def test_only_coaches_write_or_start_scenarios(trainee, organisation):
    with pytest.raises(NotAllowed):
        services.scenario_save(
            by=trainee, organisation_id=organisation.pk, title="x", description="", items=[]
        )


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


@pytest.mark.django_db
def test_a_coach_sees_only_their_organisations_part_of_a_shared_trainees_timeline(
    client, trainee, coach, other_organisation, other_account, account
):
    from sandbox.models import Membership

    # The trainee also belongs to another organisation, whose coach is not ours.
    Membership.objects.create(user=trainee, organisation=other_organisation, role="trainee")
    ours = services.practice_post(author=trainee, account=account, text="For our board")
    theirs = services.practice_post(author=trainee, account=other_account, text="For the council")
    services.draft_create(author=trainee, account=other_account, text="Council draft")
    client.login(username=coach.username, password=PASSWORD)
    body = client.get(reverse("trainee_timeline", args=[trainee.pk])).content.decode()
    assert "For our board" in body
    assert "For the council" not in body and "Council draft" not in body
    assert client.get(reverse("timeline_item", args=[ours.pk])).status_code == 200
    assert client.get(reverse("timeline_item", args=[theirs.pk])).status_code == 404


@pytest.mark.django_db
def test_a_trainee_practises_a_reply_to_a_scenario_post(
    client, trainee, other_trainee, coach, organisation, account
):
    scenario = services.scenario_save(
        by=coach,
        organisation_id=organisation.pk,
        title="Troll",
        description="",
        items=services.parse_scenario_script("0 | wake-up-kelderby | The clinic is a scam"),
    )
    run = services.scenario_start(scenario=scenario, trainee=trainee, by=coach)
    troll = run.items.get()
    client.login(username=trainee.username, password=PASSWORD)
    url = reverse("timeline_item", args=[troll.pk])
    assert "Respond to this post" in client.get(url).content.decode()
    empty = client.post(url, {"text": ""})
    assert empty.status_code == 422 and "empty" in empty.content.decode()
    client.post(url, {"text": "The clinic is run by NHS Kelderby. Details: nhs.uk/flu"})
    reply = TimelineItem.objects.get(parent=troll, persona="")
    assert reply.kind == "reply" and reply.owner == trainee
    assert "The clinic is run by NHS Kelderby" in client.get(url).content.decode()
    # Nobody else can reply into this trainee's timeline, coaches included.
    for person in (other_trainee, coach):
        client.login(username=person.username, password=PASSWORD)
        assert client.post(url, {"text": "Hijack"}).status_code == 404
    assert not TimelineItem.objects.filter(text="Hijack").exists()
