"""Who may open what. Every view, for every role: anonymous, the trainee who wrote the
draft, another trainee, their coach, a coach of another organisation, and an admin."""

import pytest
from django.urls import reverse

from coaching import services as coaching
from sandbox import services
from tests.factories import PASSWORD, SCORES, client_for

pytestmark = pytest.mark.django_db

PEOPLE = ["anonymous", "trainee", "other_trainee", "coach", "outside_coach", "admin"]


@pytest.fixture
def draft(trainee, account):  # type: ignore[no-untyped-def]
    draft = services.draft_create(author=trainee, account=account, text="Clinic open 9-5")
    return coaching.draft_submit(draft=draft, by=trainee)


# GET pages: expected status per person (302 = sent to sign in).
PAGES = {
    "draft_detail": dict(zip(PEOPLE, [302, 200, 404, 404, 404, 404], strict=True)),
    "review": dict(zip(PEOPLE, [302, 403, 403, 200, 404, 200], strict=True)),
    "queue": dict(zip(PEOPLE, [302, 403, 403, 200, 200, 200], strict=True)),
    "timeline": dict(zip(PEOPLE, [302, 200, 200, 200, 200, 200], strict=True)),
}


@pytest.mark.parametrize("who", PEOPLE)
@pytest.mark.parametrize("page", PAGES)
def test_who_can_open_each_page(request, client, draft, who, page):
    args = [draft.pk] if page in {"draft_detail", "review"} else []
    response = client_for(request, client, who).get(reverse(page, args=args))
    assert response.status_code == PAGES[page][who]
    if response.status_code == 302:
        assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("who", PEOPLE)
@pytest.mark.parametrize("page", ["draft_detail", "review", "queue"])
def test_htmx_fragments_follow_the_same_rules(request, client, draft, who, page):
    args = [draft.pk] if page in {"draft_detail", "review"} else []
    client = client_for(request, client, who)
    response = client.get(reverse(page, args=args), headers={"HX-Request": "true"})
    assert response.status_code == PAGES[page][who]


# POST actions: who may act on the trainee's submitted draft.
ACTIONS = {
    "draft_submit": ({}, dict(zip(PEOPLE, [302, 303, 404, 404, 404, 404], strict=True))),
    "draft_edit": (
        {"text": "Changed"},
        dict(zip(PEOPLE, [302, 302, 404, 404, 404, 404], strict=True)),
    ),
    "draft_withdraw": ({}, dict(zip(PEOPLE, [302, 302, 404, 404, 404, 404], strict=True))),
    "review_claim": ({}, dict(zip(PEOPLE, [302, 403, 403, 302, 404, 302], strict=True))),
    "review_decide": (
        {"decision": "approve", "note": "", **SCORES},
        dict(zip(PEOPLE, [302, 403, 403, 302, 404, 302], strict=True)),
    ),
}


@pytest.mark.parametrize("who", PEOPLE)
@pytest.mark.parametrize("action", ACTIONS)
def test_who_can_act(request, client, draft, who, action):
    data, expected = ACTIONS[action]
    if action == "review_decide":
        data = {**data, "revision": draft.current_revision_id}
    response = client_for(request, client, who).post(reverse(action, args=[draft.pk]), data)
    assert response.status_code == expected[who]


@pytest.mark.parametrize("action", ACTIONS)
def test_actions_refuse_get(client, trainee, draft, action):
    client.login(username=trainee.username, password=PASSWORD)
    assert client.get(reverse(action, args=[draft.pk])).status_code == 405


@pytest.mark.parametrize("page", ["draft_detail", "review", "queue"])
def test_pages_refuse_other_methods(client, coach, trainee, draft, page):
    client.login(username=coach.username, password=PASSWORD)
    args = [draft.pk] if page != "queue" else []
    assert client.put(reverse(page, args=args)).status_code == 405


def test_the_queue_never_shows_another_organisations_drafts(client, draft, outside_coach):
    client.login(username=outside_coach.username, password=PASSWORD)
    assert b"Clinic open 9-5" not in client.get(reverse("queue")).content


def test_the_timeline_shows_only_your_own_drafts(client, draft, other_trainee):
    client.login(username=other_trainee.username, password=PASSWORD)
    assert b"Clinic open 9-5" not in client.get(reverse("timeline")).content


def test_the_django_admin_is_for_admins_only(client, coach, admin):
    client.login(username=coach.username, password=PASSWORD)
    assert client.get("/admin/").status_code == 302
    client.login(username=admin.username, password=PASSWORD)
    assert client.get("/admin/").status_code == 200


# The publication, scenario and account controls: same people, same rule -------------------


@pytest.fixture
def live_publication(trainee, coach, account, x_double):  # type: ignore[no-untyped-def]
    from coaching.models import Publication

    draft = services.draft_create(author=trainee, account=account, text="Live post")
    coaching.draft_submit(draft=draft, by=trainee)
    coaching.review_approve(draft=draft, by=coach)
    publication = Publication.objects.get(draft=draft)
    coaching.publication_send(publication_id=publication.pk)
    return publication


# Who gets through: a coach or admin of the organisation is let in (and sent back to the
# page with the outcome: 302 when it worked, 303 with a message when the post's state did
# not allow it); everyone else is stopped. "in" below means let in.
COACH_ONLY = dict(zip(PEOPLE, [302, 403, 403, "in", 404, "in"], strict=True))


def assert_status(response, expected):  # type: ignore[no-untyped-def]
    if expected == "in":
        assert response.status_code in (302, 303)
        assert not response["Location"].startswith(reverse("login"))
    else:
        assert response.status_code == expected


@pytest.mark.parametrize("who", PEOPLE)
@pytest.mark.parametrize(
    "action", ["publication_reconcile", "publication_retry", "publication_retract"]
)
def test_who_can_use_the_publication_buttons(request, client, live_publication, who, action):
    response = client_for(request, client, who).post(
        reverse(action, args=[live_publication.pk]), {"reason": "Testing"}
    )
    assert_status(response, COACH_ONLY[who])


@pytest.mark.parametrize("who", PEOPLE)
def test_who_can_let_a_blocked_draft_through(request, client, trainee, account, who):
    blocked = services.draft_create(author=trainee, account=account, text="NHS no 999 200 2972")
    response = client_for(request, client, who).post(
        reverse("check_override", args=[blocked.pk]), {"reason": "Test number"}
    )
    assert_status(response, COACH_ONLY[who])


@pytest.mark.parametrize("who", PEOPLE)
def test_who_can_see_the_replay(request, client, draft, who):
    expected = dict(zip(PEOPLE, [302, 403, 403, 200, 404, 200], strict=True))
    response = client_for(request, client, who).get(reverse("replay", args=[draft.pk]))
    assert response.status_code == expected[who]


@pytest.mark.parametrize("who", PEOPLE)
def test_who_can_see_a_trainees_timeline(request, client, trainee, who):
    # The trainee is sent to their own timeline; their coach and admin see it read-only.
    expected = dict(zip(PEOPLE, [302, 302, 404, 200, 404, 200], strict=True))
    response = client_for(request, client, who).get(reverse("trainee_timeline", args=[trainee.pk]))
    assert response.status_code == expected[who]


@pytest.mark.parametrize("who", PEOPLE)
def test_who_can_connect_other_platforms(request, client, who):
    # The admin is let in, and shown the form again with the address's problem (400).
    expected = dict(zip(PEOPLE, [302, 403, 403, 403, 403, 400], strict=True))
    response = client_for(request, client, who).post(
        reverse("account_connect_other", args=["mastodon"]), {"server": "nope", "secret": "x"}
    )
    assert_status(response, expected[who])


@pytest.mark.parametrize(
    ("name", "args"),
    [
        ("publication_reconcile", [1]),
        ("publication_retry", [1]),
        ("publication_retract", [1]),
        ("check_override", [1]),
        ("scenario_start", [1]),
        ("scenario_assign_cohort", [1]),
        ("scenario_copy_example", ["x"]),
        ("account_connect_x", []),
        ("account_connect_other", ["bluesky"]),
        ("publishing_stop", []),
        ("publishing_resume", [1]),
        ("draft_check", []),
    ],
)
def test_state_changes_refuse_get(client, coach, name, args):
    client.login(username=coach.username, password=PASSWORD)
    assert client.get(reverse(name, args=args)).status_code == 405


def test_no_one_can_delete_an_organisation_in_the_admin(client, admin, organisation):
    # Its audit log is kept for good.
    client.force_login(admin)
    response = client.get(reverse("admin:sandbox_organisation_delete", args=[organisation.pk]))
    assert response.status_code == 403
