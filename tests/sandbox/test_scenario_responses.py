"""Answering posts in the private timeline (practice quotes, responses drafted for the
coach), approval of those responses (the practice timeline only, never the real account),
a scenario started for a cohort, and the scenario debrief. Each with who may do it, both
ways round."""

import datetime as dt
import threading

import pytest
from django.db import connection
from django.db.models import F, RestrictedError
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from coaching import services as coaching
from coaching.models import Publication
from sandbox import services
from sandbox.errors import InvalidInput, InvalidState, NotAllowed
from sandbox.models import Cohort, Draft, Membership, ScenarioRun, TimelineItem
from tests import builders, factories
from tests.factories import PASSWORD, SCORES, signed_in
from tests.test_risk_checks_in_the_app import NHS_NUMBER_POST

pytestmark = pytest.mark.django_db

SCRIPT = (
    "0 | wake-up-kelderby | The flu clinic on Saturday uses out-of-date vaccines\n"
    "2 | amara-okafor | reply: Is this true?? Mine are booked in\n"
    "30 | kelderby-echo | Parents cancel flu jabs after online rumour"
)
ANSWER = "The vaccines are in date and safe. Clinic details: nhs.uk/flu"


@pytest.fixture
def scenario(coach, organisation):  # type: ignore[no-untyped-def]
    return services.scenario_save(
        by=coach,
        organisation_id=organisation.pk,
        title="Clinic rumour",
        description="Correct a rumour.",
        items=services.parse_scenario_script(SCRIPT),
    )


@pytest.fixture
def run(scenario, trainee, coach):  # type: ignore[no-untyped-def]
    return services.scenario_start(scenario=scenario, trainee=trainee, by=coach)


@pytest.fixture
def inject(run):  # type: ignore[no-untyped-def]
    """The scenario's first post, which arrives at once."""
    return run.items.get(appear_at=run.started_at)


@pytest.fixture
def other_inject(scenario, other_trainee, coach):  # type: ignore[no-untyped-def]
    other_run = services.scenario_start(scenario=scenario, trainee=other_trainee, by=coach)
    return other_run.items.get(appear_at=other_run.started_at)


def submitted_response(trainee, account, inject, **target):  # type: ignore[no-untyped-def]
    return builders.submitted(trainee, account, ANSWER, **(target or {"in_reply_to": inject}))


# Quote posts ------------------------------------------------------------------------------


def test_a_practice_quote_is_a_post_of_its_own_with_the_quoted_post_embedded(
    client, trainee, account, inject
):
    quote = services.practice_post(
        author=trainee, account=account, text="This is not true.", quote_of=inject
    )
    assert (quote.kind, quote.parent, quote.quote_of) == ("quote", None, inject)
    services.audience_simulate(item_id=quote.pk)
    quote.refresh_from_db()
    assert quote.audience is not None  # reactions are simulated like any practice post

    body = signed_in(client, trainee).get(reverse("timeline")).content.decode()
    # In the feed as a post, with the quoted post inside it.
    assert "This is not true." in body
    embedded = body[body.index("This is not true.") :]
    assert 'class="sp-quoted"' in embedded
    assert "@WakeUpKelderby" in embedded[: embedded.index("</article>")]
    # And listed under the quoted post, as X lists quotes.
    conversation = client.get(reverse("timeline_item", args=[inject.pk])).content.decode()
    assert "This is not true." in conversation


def test_quoting_from_the_conversation_page(client, trainee, account, inject):
    url = reverse("timeline_item", args=[inject.pk])
    response = signed_in(client, trainee).post(
        url, {"kind": "quote", "text": "Please check before sharing.", "practise": "1"}
    )
    assert response.status_code == 302
    quote = TimelineItem.objects.get(owner=trainee, kind="quote", persona="")
    assert quote.quote_of == inject and quote.parent is None
    assert not Draft.objects.exists()


def test_a_reply_and_a_quote_at_once_is_refused_clearly(trainee, account, inject):
    with pytest.raises(InvalidInput, match="not both"):
        services.practice_post(
            author=trainee, account=account, text="x", in_reply_to=inject, quote_of=inject
        )


def test_an_unknown_kind_of_answer_keeps_the_text(client, trainee, account, inject):
    url = reverse("timeline_item", args=[inject.pk])
    response = signed_in(client, trainee).post(url, {"kind": "retweet", "text": ANSWER})
    assert response.status_code == 422
    body = response.content.decode()
    assert "Choose a reply or a quote." in body and "nhs.uk/flu" in body
    assert not TimelineItem.objects.filter(persona="").exists()


# Responses drafted for the coach ----------------------------------------------------------


def test_a_response_with_a_blocking_finding_is_saved_but_not_sent(client, trainee, account, inject):
    text = NHS_NUMBER_POST  # a patient detail: a blocking finding
    url = reverse("timeline_item", args=[inject.pk])
    data = {"kind": "reply", "text": text, "submit": "1"}
    response = signed_in(client, trainee).post(url, data, follow=True)
    draft = Draft.objects.get(author=trainee)
    assert draft.status == Draft.Status.DRAFT and draft.text == text
    assert response.redirect_chain[-1][0] == draft.get_absolute_url()
    assert "Saved as a draft, but not sent." in response.content.decode()


def test_a_response_for_the_coach_is_a_draft_that_answers_the_post(
    client, trainee, coach, account, inject
):
    url = reverse("timeline_item", args=[inject.pk])
    data = {"kind": "reply", "text": ANSWER, "submit": "1"}
    response = signed_in(client, trainee).post(url, data)
    draft = Draft.objects.get(author=trainee)
    assert response.status_code == 302 and response["Location"] == draft.get_absolute_url()
    assert draft.in_reply_to == inject and draft.quote_of is None and draft.is_sandbox_only
    assert draft.status == Draft.Status.SUBMITTED
    assert not TimelineItem.objects.filter(owner=trainee, persona="").exists()

    page = client.get(draft.get_absolute_url()).content.decode()
    assert "A reply to this post" in page and "Wake Up Kelderby" in page
    assert "never published to @TestBoard" in page
    # The conversation lists it, with its status.
    assert "Waiting for review" in client.get(url).content.decode()

    review = signed_in(client, coach).get(reverse("review", args=[draft.pk])).content.decode()
    assert "A reply to this post" in review and "out-of-date vaccines" in review
    assert "Wake Up Kelderby" in review


def test_a_quote_response_saved_as_a_draft_is_not_sent(client, trainee, account, inject):
    url = reverse("timeline_item", args=[inject.pk])
    signed_in(client, trainee).post(url, {"kind": "quote", "text": ANSWER, "save": "1"})
    draft = Draft.objects.get(author=trainee)
    assert draft.quote_of == inject and draft.in_reply_to is None
    assert draft.status == Draft.Status.DRAFT


def test_a_response_over_the_limit_keeps_the_text(client, trainee, account, inject):
    url = reverse("timeline_item", args=[inject.pk])
    too_long = "Not true. " * 40
    response = signed_in(client, trainee).post(url, {"text": too_long, "submit": "1"})
    assert response.status_code == 422
    assert "over X&#x27;s limit" in response.content.decode()
    assert too_long.strip() in response.content.decode()
    assert not Draft.objects.exists()


def test_nobody_answers_another_trainees_post_either_way_round(
    trainee, other_trainee, account, inject, other_inject
):
    for author, item in ((trainee, other_inject), (other_trainee, inject)):
        with pytest.raises(NotAllowed, match="your own timeline"):
            services.draft_create(author=author, account=account, text="x", in_reply_to=item)
        with pytest.raises(NotAllowed, match="your own timeline"):
            services.draft_create(author=author, account=account, text="x", quote_of=item)
        with pytest.raises(NotAllowed, match="your own timeline"):
            services.practice_post(author=author, account=account, text="x", quote_of=item)
    assert not Draft.objects.exists()
    assert not TimelineItem.objects.filter(persona="").exists()


def test_a_post_that_has_not_arrived_cannot_be_answered(client, trainee, account, run):
    later = run.items.order_by("-appear_at").first()
    assert later.appear_at > timezone.now()
    with pytest.raises(NotAllowed):
        services.draft_create(author=trainee, account=account, text="x", in_reply_to=later)
    url = reverse("timeline_item", args=[later.pk])
    assert signed_in(client, trainee).post(url, {"text": "x", "submit": "1"}).status_code == 404


def test_a_post_of_another_organisations_practice_is_answered_only_as_that_organisation(
    trainee, other_organisation, other_account, inject
):
    Membership.objects.create(user=trainee, organisation=other_organisation, role="trainee")
    with pytest.raises(NotAllowed, match="another organisation"):
        services.draft_create(author=trainee, account=other_account, text="x", in_reply_to=inject)


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("anonymous", 302),
        ("other_trainee", 404),
        ("coach", 404),
        ("outside_coach", 404),
        ("admin", 404),
    ],
)
def test_only_the_timelines_owner_can_answer_its_posts(
    request, client, inject, account, who, expected
):
    if who != "anonymous":
        signed_in(client, request.getfixturevalue(who))
    url = reverse("timeline_item", args=[inject.pk])
    for action in ("practise", "submit", "save"):
        response = client.post(url, {"kind": "quote", "text": "Hijack", action: "1"})
        assert response.status_code == expected
    assert not Draft.objects.exists()
    assert not TimelineItem.objects.filter(text="Hijack").exists()


# Approval of a response: the practice timeline only ---------------------------------------


def test_approving_a_response_posts_it_in_the_practice_timeline_and_publishes_nothing(
    client, trainee, coach, account, inject
):
    draft = submitted_response(trainee, account, inject)
    url = reverse("review_decide", args=[draft.pk])
    response = signed_in(client, coach).post(
        url,
        {"decision": "approve", "revision": draft.current_revision_id, "note": "Good.", **SCORES},
    )
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.status == Draft.Status.APPROVED
    assert draft.reviews.get().decision == "approve"
    assert not Publication.objects.exists()
    posted = TimelineItem.objects.get(draft=draft)
    assert (posted.owner, posted.kind, posted.parent, posted.text) == (
        trainee,
        "reply",
        inject,
        ANSWER,
    )
    assert (
        "practice timeline only" in client.get(reverse("review", args=[draft.pk])).content.decode()
    )

    page = signed_in(client, trainee).get(draft.get_absolute_url()).content.decode()
    assert "Approved — posted in your practice timeline only" in page
    assert reverse("timeline_item", args=[inject.pk]) in page  # the reply, in its conversation
    assert "Edit your post" not in page  # posted, so final
    timeline = client.get(reverse("timeline")).content.decode()
    assert "Approved, practice only" in timeline


def test_a_response_cannot_be_scheduled_and_the_note_is_kept(
    client, trainee, coach, account, inject
):
    draft = submitted_response(trainee, account, inject)
    later = (timezone.localtime() + dt.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    response = signed_in(client, coach).post(
        reverse("review_decide", args=[draft.pk]),
        {
            "decision": "approve",
            "revision": draft.current_revision_id,
            "note": "Nice and calm.",
            "publish_at": later,
            **SCORES,
        },
    )
    assert response.status_code == 422
    body = response.content.decode()
    assert "cannot be scheduled" in body and "Nice and calm." in body
    draft.refresh_from_db()
    assert draft.status == Draft.Status.SUBMITTED and not TimelineItem.objects.filter(draft=draft)


def test_an_approved_quote_response_becomes_a_quote_post(trainee, coach, account, inject):
    draft = submitted_response(trainee, account, inject, quote_of=inject)
    coaching.review_approve(draft=draft, by=coach)
    posted = TimelineItem.objects.get(draft=draft)
    assert (posted.kind, posted.parent, posted.quote_of) == ("quote", None, inject)
    assert not Publication.objects.exists()


def test_a_response_goes_round_the_normal_review_loop(trainee, coach, account, inject):
    draft = submitted_response(trainee, account, inject)
    coaching.review_claim(draft=draft, by=coach)
    coaching.review_request_changes(draft=draft, by=coach, note="Link to the clinic page.")
    services.draft_edit(draft=draft, by=trainee, text=ANSWER + " More at nhs.uk/kelderby")
    coaching.draft_submit(draft=draft, by=trainee)
    coaching.review_approve(draft=draft, by=coach)
    assert TimelineItem.objects.get(draft=draft).text.endswith("nhs.uk/kelderby")
    assert draft.reviews.count() == 2 and not Publication.objects.exists()


def test_an_approved_response_cannot_be_edited_or_approved_twice(trainee, coach, account, inject):
    draft = submitted_response(trainee, account, inject)
    coaching.review_approve(draft=draft, by=coach)
    draft.refresh_from_db()
    assert not draft.is_editable
    with pytest.raises(InvalidState, match="already posted in your practice timeline"):
        services.draft_edit(draft=draft, by=trainee, text="Changed my mind")
    with pytest.raises(InvalidState):
        coaching.review_approve(draft=draft, by=coach)
    assert TimelineItem.objects.filter(draft=draft).count() == 1


def test_a_publication_for_a_response_is_stopped_at_the_gate(
    x_double, trainee, coach, account, inject
):
    """Approval never makes one; if any other path ever did, the publisher refuses it."""
    draft = submitted_response(trainee, account, inject)
    review = coaching.review_approve(draft=draft, by=coach)
    publication = Publication.objects.create(
        draft=draft,
        revision=review.revision,
        approval=review,
        account=account,
        text=ANSWER,
        parts=[{"text": ANSWER, "remote_id": "", "remote_url": ""}],
        content_hash=review.content_hash,
    )
    coaching.publication_send(publication_id=publication.pk)
    publication.refresh_from_db()
    assert publication.status == Publication.Status.CANCELLED
    assert "never goes to the real account" in publication.error
    assert x_double.posts_for(account.handle) == []


def test_a_scenario_with_responses_cannot_be_deleted_from_under_them(
    trainee, account, inject, scenario
):
    """Losing the link would turn the response into an ordinary draft that an approval
    publishes, so the database refuses."""
    draft = submitted_response(trainee, account, inject)
    with pytest.raises(RestrictedError):
        scenario.delete()
    draft.refresh_from_db()
    assert draft.is_sandbox_only


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_through_the_worker_only_the_ordinary_post_reaches_the_x_double(
    monkeypatch, celery_worker, x_double, trainee, coach, account, organisation
):
    """The real path: approvals commit, the worker runs. A response approved alongside an
    ordinary post never reaches the X API; the ordinary one shows the double is watched."""
    requests: list[str] = []
    handle = x_double.handle

    def watched(request):  # type: ignore[no-untyped-def]
        requests.append(f"{request.method} {request.path} {request.body.decode(errors='replace')}")
        return handle(request)

    monkeypatch.setattr(x_double, "handle", watched)
    scenario = services.scenario_save(
        by=coach,
        organisation_id=organisation.pk,
        title="Rumour",
        description="",
        items=services.parse_scenario_script(SCRIPT),
    )
    run = services.scenario_start(scenario=scenario, trainee=trainee, by=coach)
    inject = run.items.get(appear_at=run.started_at)
    response = submitted_response(trainee, account, inject)
    ordinary = services.draft_create(author=trainee, account=account, text="Clinic open 9-5")
    coaching.draft_submit(draft=ordinary, by=trainee)

    coaching.review_approve(draft=response, by=coach)
    coaching.review_approve(draft=ordinary, by=coach)

    from tests.coaching.test_end_to_end import wait_for

    wait_for(lambda: Publication.objects.filter(status=Publication.Status.PUBLISHED).exists())
    posted = TimelineItem.objects.get(draft=response)
    # The simulated audience, enqueued on commit, reacts to the practice reply.
    wait_for(lambda: TimelineItem.objects.filter(pk=posted.pk, audience__isnull=False).exists())
    assert Publication.objects.filter(draft=response).count() == 0
    assert [p.text for p in x_double.posts_for(account.handle)] == ["Clinic open 9-5"]
    assert requests and not any("vaccines are in date" in r for r in requests)


# A scenario for a cohort ------------------------------------------------------------------


@pytest.fixture
def cohort(organisation, trainee, other_trainee):  # type: ignore[no-untyped-def]
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
    assert sorted(len(r.started) for r in results) == [0, 2]  # type: ignore[attr-defined]


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


# Cohorts in the Django admin --------------------------------------------------------------


def test_an_organisation_admin_cannot_open_the_cohorts_in_the_django_admin(
    client, admin, organisation, other_organisation
):
    # The Django admin is for the installation's operators: even with the cohort
    # permissions, an organisation's admin is sent to its sign-in and sees no cohort.
    from django.contrib.auth.models import Permission

    admin.user_permissions.add(*Permission.objects.filter(codename__endswith="_cohort"))
    Cohort.objects.create(organisation=organisation, name="Our ward")
    Cohort.objects.create(organisation=other_organisation, name="Their ward")
    response = signed_in(client, admin).get("/admin/sandbox/cohort/", follow=True)
    body = response.content.decode()
    assert response.redirect_chain[0][0].startswith("/admin/login/")
    assert "Our ward" not in body and "Their ward" not in body


def test_the_membership_inline_offers_only_this_organisations_cohorts_and_coaches(
    client, organisation, other_organisation, coach, outside_coach
):
    Cohort.objects.create(organisation=organisation, name="Our ward")
    Cohort.objects.create(organisation=other_organisation, name="Their ward")
    factories.UserFactory(username="root", is_staff=True, is_superuser=True)
    client.login(username="root", password=PASSWORD)
    body = client.get(f"/admin/sandbox/organisation/{organisation.pk}/change/").content.decode()
    assert "Our ward" in body and "Their ward" not in body
    assert ">cora<" in body and ">olga<" not in body


def test_a_response_posted_in_the_practice_timeline_cannot_be_withdrawn(
    trainee, coach, account, inject
):
    draft = submitted_response(trainee, account, inject)
    coaching.review_approve(draft=draft, by=coach)
    with pytest.raises(InvalidState, match="already posted in your practice timeline"):
        coaching.draft_withdraw(draft=draft, by=trainee)
    draft.refresh_from_db()
    assert draft.status == Draft.Status.APPROVED
    assert TimelineItem.objects.filter(draft=draft).exists()


def test_a_practice_response_shows_no_preview_of_the_real_account(
    client, trainee, coach, account, inject
):
    draft = submitted_response(trainee, account, inject)
    for who, url in ((trainee, "draft_detail"), (coach, "review")):
        client.force_login(who)
        body = client.get(reverse(url, args=[draft.pk])).content.decode()
        assert "how it will look on @" not in body.lower()
