"""Who may open what. Every view, for every role: anonymous, the trainee who wrote the
draft, another trainee, their coach, a coach of another organisation, and an admin."""

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse

from coaching import services as coaching
from sandbox import services
from sandbox.models import Draft
from tests import builders, factories
from tests.factories import PASSWORD, SCORES, client_for

pytestmark = pytest.mark.django_db

PEOPLE = ["anonymous", "trainee", "other_trainee", "coach", "outside_coach", "admin"]


# GET pages: expected status per person (302 = sent to sign in).
PAGES = {
    "draft_detail": dict(zip(PEOPLE, [302, 200, 404, 404, 404, 404], strict=True)),
    "review": dict(zip(PEOPLE, [302, 403, 403, 200, 404, 200], strict=True)),
    "queue": dict(zip(PEOPLE, [302, 403, 403, 200, 200, 200], strict=True)),
    "timeline": dict(zip(PEOPLE, [302, 200, 200, 200, 200, 200], strict=True)),
}


@pytest.mark.parametrize("who", PEOPLE)
@pytest.mark.parametrize("page", PAGES)
def test_who_can_open_each_page(request, client, submitted, who, page):
    args = [submitted.pk] if page in {"draft_detail", "review"} else []
    response = client_for(request, client, who).get(reverse(page, args=args))
    assert response.status_code == PAGES[page][who]
    if response.status_code == 302:
        assert response["Location"].startswith(reverse("account_login"))


@pytest.mark.parametrize("who", PEOPLE)
@pytest.mark.parametrize("page", ["draft_detail", "review", "queue"])
def test_htmx_fragments_follow_the_same_rules(request, client, submitted, who, page):
    args = [submitted.pk] if page in {"draft_detail", "review"} else []
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
def test_who_can_act(request, client, submitted, who, action):
    data, expected = ACTIONS[action]
    if action == "review_decide":
        data = {**data, "revision": submitted.current_revision_id}
    response = client_for(request, client, who).post(reverse(action, args=[submitted.pk]), data)
    assert response.status_code == expected[who]


@pytest.mark.parametrize("who", PEOPLE)
@pytest.mark.parametrize("htmx", [False, True])
def test_who_can_comment_on_a_draft(request, client, submitted, who, htmx):
    """The trainee who wrote it and the coaches and admins of its organisation; another
    trainee or another organisation's coach does not learn that it exists."""
    from coaching.models import DraftComment

    headers = {"HX-Request": "true"} if htmx else {}
    response = client_for(request, client, who).post(
        reverse("draft_comment", args=[submitted.pk]), {"body": f"From {who}"}, headers=headers
    )
    allowed = who in {"trainee", "coach", "admin"}
    expected = {"anonymous": 302, "other_trainee": 404, "outside_coach": 404}.get(
        who, 200 if htmx else 302
    )
    assert response.status_code == expected
    assert DraftComment.objects.filter(body=f"From {who}").exists() == allowed


def test_a_coach_who_wrote_the_draft_may_comment_on_it_as_its_author(client, coach, account):
    from coaching.models import DraftComment

    own = builders.draft(coach, account)
    client_for_user(client, coach).post(reverse("draft_comment", args=[own.pk]), {"body": "Hi"})
    assert DraftComment.objects.filter(draft=own, author=coach).exists()


def test_a_deactivated_coach_can_no_longer_comment(client, coach, organisation, submitted):
    from sandbox.models import Membership

    Membership.objects.filter(user=coach, organisation=organisation).update(is_active=False)
    response = client_for_user(client, coach).post(
        reverse("draft_comment", args=[submitted.pk]), {"body": "Still here?"}
    )
    assert response.status_code == 404


@pytest.mark.parametrize("action", [*ACTIONS, "draft_comment"])
def test_actions_refuse_get(client, trainee, submitted, action):
    client.login(username=trainee.username, password=PASSWORD)
    assert client.get(reverse(action, args=[submitted.pk])).status_code == 405


@pytest.mark.parametrize("page", ["draft_detail", "review", "queue"])
def test_pages_refuse_other_methods(client, coach, trainee, submitted, page):
    client.login(username=coach.username, password=PASSWORD)
    args = [submitted.pk] if page != "queue" else []
    assert client.put(reverse(page, args=args)).status_code == 405


# Approving ticked posts from the queue: only a coach or admin of the draft's organisation
# approves it; another organisation's coach gets the queue back saying it is not theirs.
QUEUE_APPROVE = dict(zip(PEOPLE, [302, 403, 403, "approved", "refused", "approved"], strict=True))


@pytest.mark.parametrize("who", PEOPLE)
def test_who_can_approve_ticked_posts_from_the_queue(request, client, submitted, who):
    data = {"approve": f"{submitted.pk}:{submitted.current_revision_id}", **SCORES}
    response = client_for(request, client, who).post(reverse("queue_approve"), data)
    submitted.refresh_from_db()
    expected = QUEUE_APPROVE[who]
    if expected in ("approved", "refused"):
        assert response.status_code == 302 and response["Location"] == reverse("queue")
        approved = submitted.status == Draft.Status.APPROVED
        assert approved == (expected == "approved")
        messages = [str(m) for m in get_messages(response.wsgi_request)]
        assert ("was not approved" in messages[0]) == (expected == "refused")
        if expected == "refused":  # nothing of the post is shown to another organisation
            assert "Clinic open 9-5" not in messages[0]
    else:
        assert response.status_code == expected
        assert submitted.status == Draft.Status.SUBMITTED


# An account's calendar: its organisation's coaches and admins; another organisation's
# coach is told there is no such account.
CALENDAR = dict(zip(PEOPLE, [302, 403, 403, 200, 404, 200], strict=True))


@pytest.mark.parametrize("who", PEOPLE)
@pytest.mark.parametrize("view", ["week", "month"])
def test_who_can_see_an_accounts_calendar(request, client, account, who, view):
    url = reverse("account_calendar", args=[account.pk])
    response = client_for(request, client, who).get(url, {"view": view})
    assert response.status_code == CALENDAR[who]


def test_the_queue_never_shows_another_organisations_drafts(client, submitted, outside_coach):
    client.login(username=outside_coach.username, password=PASSWORD)
    assert b"Clinic open 9-5" not in client.get(reverse("queue")).content


def test_the_timeline_shows_only_your_own_drafts(client, submitted, other_trainee):
    client.login(username=other_trainee.username, password=PASSWORD)
    assert b"Clinic open 9-5" not in client.get(reverse("timeline")).content


# The publication, scenario and account controls: same people, same rule -------------------


@pytest.fixture
def live_publication(trainee, coach, account, x_double):
    return builders.sent(builders.approved(trainee, coach, account, "Live post"))


# Who gets through: a coach or admin of the organisation is let in (and sent back to the
# page with the outcome: 302 when it worked, 303 with a message when the post's state did
# not allow it); everyone else is stopped. "in" below means let in.
COACH_ONLY = dict(zip(PEOPLE, [302, 403, 403, "in", 404, "in"], strict=True))


def assert_status(response, expected):
    if expected == "in":
        assert response.status_code in (302, 303)
        assert not response["Location"].startswith(reverse("account_login"))
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
def test_who_can_see_the_replay(request, client, submitted, who):
    expected = dict(zip(PEOPLE, [302, 403, 403, 200, 404, 200], strict=True))
    response = client_for(request, client, who).get(reverse("replay", args=[submitted.pk]))
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


# Locking down an account: its organisation's coaches and admins, on every object.
REVIEWERS_SEE = dict(zip(PEOPLE, [302, 403, 403, 200, 404, 200], strict=True))


@pytest.fixture
def lockdown(coach, account, x_double):
    return coaching.account_lockdown(by=coach, account=account, reason="Hacked")


@pytest.mark.parametrize("who", PEOPLE)
def test_who_can_open_the_lockdown_confirmation(request, client, account, who):
    response = client_for(request, client, who).get(reverse("account_lockdown", args=[account.pk]))
    assert response.status_code == REVIEWERS_SEE[who]


@pytest.mark.parametrize("who", PEOPLE)
def test_who_can_lock_an_account_down(request, client, account, x_double, who):
    from coaching.models import Lockdown

    response = client_for(request, client, who).post(
        reverse("account_lockdown", args=[account.pk]), {"reason": "Hacked", "confirm": "on"}
    )
    assert_status(response, COACH_ONLY[who])
    assert Lockdown.objects.exists() is (COACH_ONLY[who] == "in")


@pytest.mark.parametrize("who", PEOPLE)
def test_who_can_see_a_lockdowns_checklist(request, client, lockdown, who):
    response = client_for(request, client, who).get(reverse("lockdown", args=[lockdown.pk]))
    assert response.status_code == REVIEWERS_SEE[who]
    if who == "outside_coach":  # (the organisation's own trainees see the stop's banner)
        assert "TestBoard" not in response.content.decode()


@pytest.mark.parametrize("who", PEOPLE)
def test_who_can_tick_a_recovery_step(request, client, lockdown, who):
    response = client_for(request, client, who).post(
        reverse("lockdown_step", args=[lockdown.pk, "governance"])
    )
    assert_status(response, COACH_ONLY[who])
    ticked = lockdown.steps.get(step="governance").done_at is not None
    assert ticked is (COACH_ONLY[who] == "in")


def test_a_lockdown_of_another_organisation_is_not_found(
    client, outside_coach, other_account, lockdown
):
    client = factories.signed_in(client, outside_coach)
    # Their own organisation's account they may lock down; organisation A's they cannot
    # see, nor its checklist, nor tick its steps.
    assert client.get(reverse("account_lockdown", args=[other_account.pk])).status_code == 200
    assert client.get(reverse("account_lockdown", args=[lockdown.account_id])).status_code == 404
    assert client.get(reverse("lockdown", args=[lockdown.pk])).status_code == 404
    step = reverse("lockdown_step", args=[lockdown.pk, "password"])
    assert client.post(step).status_code == 404


def test_an_unknown_step_or_lockdown_is_not_found(client, coach, lockdown):
    client = factories.signed_in(client, coach)
    assert client.post(reverse("lockdown_step", args=[lockdown.pk, "nonsense"])).status_code == 404
    assert client.get(reverse("lockdown", args=[10**17])).status_code == 404


# Lockdown drills: the organisation's coaches and admins start, end and debrief; only the
# trainee whose run it is sees and ticks it; another organisation sees nothing (404).
RUN_OWNER_ONLY = dict(zip(PEOPLE, [302, 200, 404, 404, 404, 404], strict=True))
RUN_OWNER_ACTS = dict(zip(PEOPLE, [302, "in", 404, 404, 404, 404], strict=True))


@pytest.mark.parametrize("who", PEOPLE)
def test_who_can_open_the_drills_page(request, client, who):
    # The outside coach sees their own organisation's drills (none of organisation A's).
    expected = {**REVIEWERS_SEE, "outside_coach": 200}[who]
    response = client_for(request, client, who).get(reverse("drills"))
    assert response.status_code == expected


@pytest.mark.parametrize("who", PEOPLE)
def test_who_can_start_a_drill(request, client, account, ward, who):
    from coaching.models import LockdownDrill

    response = client_for(request, client, who).post(
        reverse("drills"), {"account": account.pk, "cohort": ward.pk, "incident": "Hacked"}
    )
    if who == "outside_coach":
        # Their own page, where organisation A's account and cohort are not choices.
        assert response.status_code == 422
    else:
        assert_status(response, COACH_ONLY[who])
    assert LockdownDrill.objects.exists() is (COACH_ONLY[who] == "in")


@pytest.mark.parametrize("who", PEOPLE)
def test_who_can_see_a_drills_debrief(request, client, drill, who):
    response = client_for(request, client, who).get(reverse("drill_debrief", args=[drill.pk]))
    assert response.status_code == REVIEWERS_SEE[who]
    if who == "outside_coach":
        assert "Ward 7" not in response.content.decode()


@pytest.mark.parametrize("who", PEOPLE)
def test_who_can_end_a_drill(request, client, drill, who):
    response = client_for(request, client, who).post(reverse("drill_end", args=[drill.pk]))
    assert_status(response, COACH_ONLY[who])
    drill.refresh_from_db()
    assert (drill.ended_at is not None) is (COACH_ONLY[who] == "in")


@pytest.mark.parametrize("who", PEOPLE)
def test_who_can_see_a_trainees_drill(request, client, drill, who):
    # "trainee" is Tara, whose run it is; Otto has his own run of the drill, not hers.
    response = client_for(request, client, who).get(reverse("drill_run", args=[drill.pk]))
    expected = {**RUN_OWNER_ONLY, "other_trainee": 200}[who]
    assert response.status_code == expected
    if who in {"coach", "outside_coach", "admin"}:
        assert "£500" not in response.content.decode()


@pytest.mark.parametrize("who", PEOPLE)
def test_who_can_start_lock_down_and_tick_a_trainees_drill(request, client, drill, trainee, who):
    from coaching.models import DrillRun

    client = client_for(request, client, who)
    for name, args in [
        ("drill_run_start", [drill.pk]),
        ("drill_lock_down", [drill.pk]),
        ("drill_step", [drill.pk, "governance"]),
    ]:
        response = client.post(reverse(name, args=args))
        expected = {**RUN_OWNER_ACTS, "other_trainee": "in"}[who]
        assert_status(response, expected)
    # Otto acts on his own run; Tara's is touched by Tara alone.
    taras = DrillRun.objects.get(drill=drill, trainee=trainee)
    assert (taras.started_at is not None) is (who == "trainee")
    assert taras.steps.filter(done_at__isnull=False).exists() is (who == "trainee")


def test_a_drill_of_another_organisation_is_not_found(client, outside_coach, drill):
    client = factories.signed_in(client, outside_coach)
    assert client.get(reverse("drill_debrief", args=[drill.pk])).status_code == 404
    assert client.post(reverse("drill_end", args=[drill.pk])).status_code == 404
    assert client.get(reverse("drill_run", args=[drill.pk])).status_code == 404
    assert client.post(reverse("drill_run_start", args=[drill.pk])).status_code == 404
    assert "Ward 7" not in client.get(reverse("drills")).content.decode()


# Single sign-on settings: the organisation's admins only, and only their own organisation.
SSO_FORM = {
    "enabled": "on",
    "provider_name": "NHSmail",
    "issuer": "not an address",
    "client_id": "client",
    "client_secret": "secret",
    "email_domains": "nhs.net",
}


@pytest.mark.parametrize("who", PEOPLE)
def test_who_can_open_the_single_sign_on_settings(request, client, who):
    expected = dict(zip(PEOPLE, [302, 403, 403, 403, 403, 200], strict=True))
    response = client_for(request, client, who).get(reverse("single_sign_on"))
    assert response.status_code == expected[who]


@pytest.mark.parametrize("who", PEOPLE)
def test_who_can_change_the_single_sign_on_settings(request, client, who):
    # The admin is let in, and shown the form again with the issuer's problem (422).
    expected = dict(zip(PEOPLE, [302, 403, 403, 403, 403, 422], strict=True))
    response = client_for(request, client, who).post(reverse("single_sign_on"), SSO_FORM)
    assert response.status_code == expected[who]


def test_an_operator_can_set_up_any_organisations_single_sign_on(
    client, superuser, organisation, other_organisation
):
    client.force_login(superuser)
    url = f"{reverse('single_sign_on')}?organisation={organisation.pk}"
    page = client.get(url)
    assert page.status_code == 200 and "Single sign-on for Test Health Board" in page.text
    assert client.post(url, SSO_FORM).status_code == 422


@pytest.mark.parametrize("method", ["get", "post"])
def test_an_admin_cannot_reach_another_organisations_single_sign_on(
    client, outside_staff_admin, organisation, method
):
    client.force_login(outside_staff_admin)
    url = f"{reverse('single_sign_on')}?organisation={organisation.pk}"
    response = client.get(url) if method == "get" else client.post(url, SSO_FORM)
    assert response.status_code == 404
    assert "Test Health Board" not in response.content.decode()


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
        ("lockdown_step", [1, "password"]),
        ("drill_run_start", [1]),
        ("drill_lock_down", [1]),
        ("drill_step", [1, "password"]),
        ("drill_end", [1]),
        ("draft_check", []),
        ("queue_approve", []),
    ],
)
def test_state_changes_refuse_get(client, coach, name, args):
    client.login(username=coach.username, password=PASSWORD)
    assert client.get(reverse(name, args=args)).status_code == 405


def test_no_one_can_delete_an_organisation_in_the_admin(client, superuser, organisation):
    # Its audit log is kept for good: not even an operator may.
    client.force_login(superuser)
    response = client.get(reverse("admin:sandbox_organisation_delete", args=[organisation.pk]))
    assert response.status_code == 403


# The Django admin: for the installation's operators (superusers) only ------------------------
# Model permissions know nothing of organisations, so the admin site itself refuses everyone
# else (sandbox/admin_site.py), including an organisation's own admin and a staff admin of
# another organisation holding every model permission.

ADMIN_PEOPLE = [*PEOPLE, "outside_staff_admin", "superuser"]
# 302 = sent to the admin's sign-in page, which shows nothing of any organisation.
ADMIN_STATUS = dict(zip(ADMIN_PEOPLE, [302, 302, 302, 302, 302, 302, 302, 200], strict=True))
# What organisation A's records show: its name, account handle, trainee and post.
ORGANISATION_A_DATA = ["Test Health Board", "TestBoard", "tara", "Clinic open 9-5"]


@pytest.fixture
def publication(submitted, coach):
    from coaching.models import Publication

    coaching.review_approve(draft=submitted, by=coach)
    return Publication.objects.get(draft=submitted)


def admin_pages(submitted, publication):
    """Each admin page, and what a superuser must see there (so "absent" means something)."""
    organisation, account = submitted.account.organisation, submitted.account
    membership = submitted.author.memberships.get()
    return {
        "index": (reverse("admin:index"), "Organisations"),
        "organisations": (reverse("admin:sandbox_organisation_changelist"), "Test Health Board"),
        "organisation": (
            reverse("admin:sandbox_organisation_change", args=[organisation.pk]),
            "Test Health Board",
        ),
        "memberships": (reverse("admin:sandbox_membership_changelist"), "tara"),
        "membership": (reverse("admin:sandbox_membership_change", args=[membership.pk]), "tara"),
        "accounts": (reverse("admin:sandbox_workplaceaccount_changelist"), "TestBoard"),
        "account": (
            reverse("admin:sandbox_workplaceaccount_change", args=[account.pk]),
            "TestBoard",
        ),
        "drafts": (reverse("admin:sandbox_draft_changelist"), "tara"),
        "draft": (reverse("admin:sandbox_draft_change", args=[submitted.pk]), "Clinic open 9-5"),
        "publications": (reverse("admin:coaching_publication_changelist"), "TestBoard"),
        "publication": (
            reverse("admin:coaching_publication_change", args=[publication.pk]),
            "Clinic open 9-5",
        ),
    }


ADMIN_PAGES = [
    "index",
    "organisations",
    "organisation",
    "memberships",
    "membership",
    "accounts",
    "account",
    "drafts",
    "draft",
    "publications",
    "publication",
]


@pytest.mark.parametrize("who", ADMIN_PEOPLE)
@pytest.mark.parametrize("page", ADMIN_PAGES)
def test_who_can_open_the_django_admin(request, client, submitted, publication, who, page):
    url, superuser_sees = admin_pages(submitted, publication)[page]
    client = client_for(request, client, who)
    response = client.get(url)
    assert response.status_code == ADMIN_STATUS[who]
    if response.status_code == 200:
        assert superuser_sees in response.content.decode()
        return
    # Refused: sent to the admin's sign-in page, which names no organisation's data.
    assert response["Location"].startswith(reverse("admin:login") + "?next=")
    sign_in = client.get(response["Location"], follow=True)
    assert sign_in.status_code == 200
    body = response.content.decode() + sign_in.content.decode()
    # The page names whoever is signed in ("You are authenticated as tara"): not a leak.
    own_name = "" if who == "anonymous" else request.getfixturevalue(who).username
    assert not [data for data in ORGANISATION_A_DATA if data in body and data != own_name]
    if who != "anonymous":  # Django's own refusal, for someone signed in
        assert "but are not authorized to access this page" in body


@pytest.mark.usefixtures("clear_sign_in_throttle")
def test_a_staff_admin_cannot_get_into_the_django_admin(client, outside_staff_admin):
    # Signed in to Sandpit, and turned away at the admin's door.
    response = client.post(reverse("account_login"), {"login": "oscar", "password": PASSWORD})
    assert response.status_code == 302
    refused = client.get("/admin/", follow=True)
    assert "but are not authorized to access this page" in refused.content.decode()


def test_the_django_admin_has_no_password_form_of_its_own(client, superuser):
    """Its sign-in sends operators to Sandpit's, which throttles and asks for second
    factors; a password posted to the admin's own form signs nobody in."""
    response = client.post(
        reverse("admin:login") + "?next=/admin/",
        {"username": "root", "password": PASSWORD, "next": "/admin/"},
    )
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login") + "?next=/admin/")
    assert "_auth_user_id" not in client.session


@pytest.mark.usefixtures("clear_sign_in_throttle")
def test_an_operator_signs_in_to_the_django_admin(client, superuser):
    to_sign_in = client.get(reverse("admin:login") + "?next=/admin/")
    response = client.post(to_sign_in["Location"], {"login": "root", "password": PASSWORD})
    assert response.status_code == 302 and response["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200


def made_admin_of_a_by_adding_a_membership(me, organisation):
    data = {"user": me.pk, "organisation": organisation.pk, "role": "admin"}
    return reverse("admin:sandbox_membership_add"), data


def made_admin_of_a_by_moving_my_membership(me, organisation):
    mine = me.memberships.get()
    data = {"user": me.pk, "organisation": organisation.pk, "role": "admin"}
    return reverse("admin:sandbox_membership_change", args=[mine.pk]), data


def made_admin_of_a_through_the_organisation_page(me, organisation):
    # The organisation's form with one new row in its Membership inline; the other
    # inlines are sent empty.
    data = {
        "name": organisation.name,
        "slug": organisation.slug,
        "review_target_hours": organisation.review_target_hours,
        "response_target_hours": organisation.response_target_hours,
        "autonomy_streak": organisation.autonomy_streak,
        "autonomy_min_score": organisation.autonomy_min_score,
        "spot_check_every": organisation.spot_check_every,
        "spot_check_delay_minutes": organisation.spot_check_delay_minutes,
        "memberships-TOTAL_FORMS": "1",
        "memberships-INITIAL_FORMS": "0",
        "memberships-0-user": me.pk,
        "memberships-0-role": "admin",
    }
    for inline in [
        "check_severities",
        "local_words",
        "local_identifier_patterns",
        "pre_election_periods",
    ]:
        data |= {f"{inline}-TOTAL_FORMS": "0", f"{inline}-INITIAL_FORMS": "0"}
    return reverse("admin:sandbox_organisation_change", args=[organisation.pk]), data


ADMIN_FORMS = [
    made_admin_of_a_by_adding_a_membership,
    made_admin_of_a_by_moving_my_membership,
    made_admin_of_a_through_the_organisation_page,
]


def memberships_now():
    from sandbox.models import Membership

    return sorted(Membership.objects.values_list("pk", "user_id", "organisation_id", "role"))


@pytest.mark.parametrize("form", ADMIN_FORMS, ids=lambda form: form.__name__)
def test_a_staff_admin_of_another_organisation_cannot_make_themselves_its_admin(
    client, organisation, admin, trainee, outside_staff_admin, form
):
    url, data = form(outside_staff_admin, organisation)
    before = memberships_now()
    client.force_login(outside_staff_admin)
    response = client.post(url, data)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login") + "?next=")
    assert memberships_now() == before
    assert not outside_staff_admin.memberships.filter(organisation=organisation).exists()


@pytest.mark.parametrize("form", ADMIN_FORMS, ids=lambda form: form.__name__)
def test_the_same_post_by_an_operator_does_it(client, organisation, superuser, form):
    # The refusal above is the site's, not a form the admin would have rejected anyway.
    from sandbox.models import Membership

    someone = factories.member(
        factories.OrganisationFactory(name="Third Trust"), "admin", username="sam"
    )
    url, data = form(someone, organisation)
    client.force_login(superuser)
    response = client.post(url, data)
    assert response.status_code == 302, response.context and response.context.get("errors")
    assert not response["Location"].startswith(reverse("admin:login"))
    assert Membership.objects.get(user=someone, organisation=organisation).role == "admin"


# Sign-in and second factors (sandbox/signin.py, coaching/views/second_factor.py) ----------

# Everyone's own pages: their sign-in and security, second factors, where they are signed
# in, their password. Signed out: sent to sign in.
OWN_PAGES = ["account_security", "mfa_index", "usersessions_list", "account_change_password"]
PEOPLE_AND_OUTSIDE_ADMIN = [*PEOPLE, "outside_staff_admin"]


@pytest.mark.parametrize("who", PEOPLE)
@pytest.mark.parametrize("page", OWN_PAGES)
def test_everyone_signed_in_opens_their_own_sign_in_pages(request, client, who, page):
    response = client_for(request, client, who).get(reverse(page))
    if who == "anonymous":
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("account_login"))
    else:
        assert response.status_code == 200


@pytest.mark.parametrize("who", PEOPLE_AND_OUTSIDE_ADMIN)
def test_who_can_see_the_second_factors_page(request, client, trainee, who):
    expected = dict(zip(PEOPLE_AND_OUTSIDE_ADMIN, [302, 403, 403, 403, 403, 200, 200], strict=True))
    response = client_for(request, client, who).get(reverse("second_factors"))
    assert response.status_code == expected[who]
    if response.status_code == 200:
        # Only their own organisation's people.
        assert (b"Tara" in response.content) == (who == "admin")


@pytest.mark.parametrize("who", PEOPLE_AND_OUTSIDE_ADMIN)
def test_who_can_reset_a_persons_second_factors(request, client, coach, who):
    from allauth.mfa.models import Authenticator
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

    TOTP.activate(coach, generate_totp_secret())
    membership = coach.memberships.get()
    # Only an admin of the coach's organisation; an admin elsewhere finds no such person.
    expected = dict(zip(PEOPLE_AND_OUTSIDE_ADMIN, [302, 403, 403, 403, 403, 303, 404], strict=True))
    response = client_for(request, client, who).post(
        reverse("second_factors_reset", args=[membership.pk])
    )
    assert response.status_code == expected[who]
    assert Authenticator.objects.filter(user=coach).exists() == (who != "admin")


def test_resetting_second_factors_refuses_get(client, admin, coach):
    signed_in = client_for_user(client, admin)
    response = signed_in.get(reverse("second_factors_reset", args=[coach.memberships.get().pk]))
    assert response.status_code == 405


def client_for_user(client, user):
    client.login(username=user.username, password=PASSWORD)
    return client


# People and check settings, for an organisation's admins only --------------------------------
# Every new page for every role, and for an admin of another organisation (who is let into
# their own organisation's pages, and finds nothing of this one's: 404).

PEOPLE_AND_ADMINS = [*PEOPLE, "outside_staff_admin"]
ADMINS_ONLY = dict(zip(PEOPLE_AND_ADMINS, [302, 403, 403, 403, 403, 200, 200], strict=True))
ADMINS_OF_THIS_ONE = dict(zip(PEOPLE_AND_ADMINS, [302, 403, 403, 403, 403, 200, 404], strict=True))
ACT_AS_ADMIN_OF_THIS_ONE = dict(
    zip(PEOPLE_AND_ADMINS, [302, 403, 403, 403, 403, "in", 404], strict=True)
)


@pytest.fixture
def people_objects(admin, trainee, organisation):
    from coaching.models import PeopleImport
    from sandbox.models import LocalWord, Membership

    return {
        "membership": Membership.objects.get(user=trainee, organisation=organisation).pk,
        "import": PeopleImport.objects.create(
            organisation=organisation, started_by=admin, file_name="staff.csv"
        ).pk,
        "word": LocalWord.objects.create(organisation=organisation, word="numpty").pk,
    }


@pytest.mark.parametrize("who", PEOPLE_AND_ADMINS)
@pytest.mark.parametrize(
    ("page", "expected"),
    [
        ("people", ADMINS_ONLY),
        ("person_invite", ADMINS_ONLY),
        ("people_import", ADMINS_ONLY),
        ("check_settings", ADMINS_ONLY),
        ("retention", ADMINS_ONLY),
        ("person", ADMINS_OF_THIS_ONE),
        ("people_import_report", ADMINS_OF_THIS_ONE),
    ],
)
def test_who_can_open_the_people_pages(request, client, people_objects, who, page, expected):
    args = {
        "person": [people_objects["membership"]],
        "people_import_report": [people_objects["import"]],
    }
    response = client_for(request, client, who).get(reverse(page, args=args.get(page, [])))
    assert response.status_code == expected[who]
    if response.status_code == 302:
        assert response["Location"].startswith(reverse("account_login"))


@pytest.mark.parametrize("who", PEOPLE_AND_ADMINS)
@pytest.mark.parametrize(
    "action",
    ["person_deactivate", "person_reactivate", "invitation_send_again", "check_setting_remove"],
)
def test_who_can_change_people_and_settings(request, client, people_objects, who, action):
    args = (
        ["word", people_objects["word"]]
        if action == "check_setting_remove"
        else [people_objects["membership"]]
    )
    response = client_for(request, client, who).post(reverse(action, args=args))
    assert_status(response, ACT_AS_ADMIN_OF_THIS_ONE[who])


@pytest.mark.parametrize(
    "page", ["people", "person_invite", "people_import", "check_settings", "retention"]
)
def test_another_organisation_cannot_be_chosen_on_the_people_pages(
    client, admin, other_organisation, page
):
    client.force_login(admin)
    response = client.get(reverse(page), {"organisation": other_organisation.pk})
    assert response.status_code == 404


@pytest.mark.parametrize("who", PEOPLE_AND_ADMINS)
def test_who_can_add_a_cohort(request, client, organisation, who):
    # Another organisation's admin adds it to their own organisation (the form names none).
    response = client_for(request, client, who).post(reverse("cohort_create"), {"name": "Ward 9"})
    expected = dict(ACT_AS_ADMIN_OF_THIS_ONE, outside_staff_admin="in")
    assert_status(response, expected[who])


@pytest.mark.parametrize(
    "page", ["person_deactivate", "person_reactivate", "invitation_send_again"]
)
def test_people_actions_refuse_get(client, admin, people_objects, page):
    client.force_login(admin)
    assert client.get(reverse(page, args=[people_objects["membership"]])).status_code == 405


def test_the_invitation_link_needs_no_sign_in_but_only_works_with_its_token(client):
    assert client.get(reverse("invitation_accept", args=["made-up"])).status_code == 410


# Subject access and erasure: an organisation's admins only, and only for its own people --------


@pytest.fixture
def subject_access_export(admin, trainee, organisation, private_media):
    """A finished export of the trainee, its zip in private media storage."""
    import datetime as dt

    from django.core.files.base import ContentFile
    from django.utils import timezone

    from coaching.models import SubjectAccessExport

    export = SubjectAccessExport(
        organisation=organisation,
        organisation_ids=[organisation.pk],
        person=trainee,
        requested_by=admin,
        status="done",
        total=1,
        processed=1,
        finished_at=timezone.now(),
        expires_at=timezone.now() + dt.timedelta(days=7),
    )
    export.file.save("test.zip", ContentFile(b"PK\x05\x06" + b"\0" * 18), save=False)
    export.save()
    return export


@pytest.mark.parametrize("who", PEOPLE_AND_ADMINS)
@pytest.mark.parametrize(
    "page", ["person_erase", "subject_access_export", "subject_access_download"]
)
def test_who_can_open_the_subject_access_and_erasure_pages(
    request, client, people_objects, subject_access_export, who, page
):
    pk = people_objects["membership"] if page == "person_erase" else subject_access_export.pk
    response = client_for(request, client, who).get(reverse(page, args=[pk]))
    assert response.status_code == ADMINS_OF_THIS_ONE[who]
    if response.status_code == 302:
        assert response["Location"].startswith(reverse("account_login"))
    if page == "subject_access_download" and response.status_code == 200:
        assert response["Content-Type"] == "application/zip"


@pytest.mark.parametrize("who", PEOPLE_AND_ADMINS)
@pytest.mark.parametrize("action", ["subject_access_start", "person_erase"])
def test_who_can_export_or_erase_a_person(request, client, people_objects, who, action):
    # The trainee fixture is named "Tara": the confirmation an admin types.
    response = client_for(request, client, who).post(
        reverse(action, args=[people_objects["membership"]]), {"confirmation": "Tara"}
    )
    assert_status(response, ACT_AS_ADMIN_OF_THIS_ONE[who])


def test_an_export_is_downloaded_only_by_an_admin_of_every_organisation_it_holds(
    client, admin, subject_access_export, other_organisation
):
    from sandbox.models import Membership

    # It holds two organisations' records; this admin runs only one of them.
    subject_access_export.organisation_ids = [
        subject_access_export.organisation_id,
        other_organisation.pk,
    ]
    subject_access_export.save()
    client.force_login(admin)
    url = reverse("subject_access_download", args=[subject_access_export.pk])
    assert client.get(url).status_code == 404
    Membership.objects.create(user=admin, organisation=other_organisation, role="admin")
    assert client.get(url).status_code == 200


def test_starting_an_export_refuses_get(client, admin, people_objects):
    client.force_login(admin)
    url = reverse("subject_access_start", args=[people_objects["membership"]])
    assert client.get(url).status_code == 405


def test_erasure_needs_the_csrf_token(admin, people_objects):
    from django.test import Client

    from sandbox.models import Membership

    client = Client(enforce_csrf_checks=True)
    client.force_login(admin)
    url = reverse("person_erase", args=[people_objects["membership"]])
    assert client.post(url, {"confirmation": "Tara"}).status_code == 403
    membership = Membership.objects.get(pk=people_objects["membership"])
    assert membership.user.username == "tara"


# Data protection: retention (an organisation's admins) and purging a draft's patient details
# (its coaches and admins).
COACHES_OF_THIS_ONE = dict(zip(PEOPLE_AND_ADMINS, [302, 403, 403, 200, 404, 200, 404], strict=True))
ACT_AS_COACH_OF_THIS_ONE = dict(
    zip(PEOPLE_AND_ADMINS, [302, 403, 403, "in", 404, "in", 404], strict=True)
)


@pytest.mark.parametrize("who", PEOPLE_AND_ADMINS)
def test_who_can_change_retention(request, client, organisation, who):
    periods = {name: 6 for name in ("keep_practice_months", "keep_attempt_bodies_months")}
    data = {
        **periods,
        "keep_notifications_days": 30,
        "keep_scenario_runs_months": 6,
        "keep_inbox_months": 6,
        "organisation": organisation.pk,
    }
    response = client_for(request, client, who).post(reverse("retention"), data)
    assert_status(response, ACT_AS_ADMIN_OF_THIS_ONE[who])
    organisation.refresh_from_db()
    assert (organisation.keep_notifications_days == 30) == (who == "admin")


@pytest.mark.parametrize("who", PEOPLE_AND_ADMINS)
def test_the_dry_run_fragment_follows_the_same_rules(request, client, who):
    response = client_for(request, client, who).get(
        reverse("retention"), headers={"HX-Request": "true"}
    )
    assert response.status_code == ADMINS_ONLY[who]


@pytest.mark.parametrize("who", PEOPLE_AND_ADMINS)
def test_who_can_open_the_purge_page(request, client, trainee, account, who):
    risky = services.draft_create(author=trainee, account=account, text="NHS no 999 200 2972")
    response = client_for(request, client, who).get(reverse("draft_purge", args=[risky.pk]))
    assert response.status_code == COACHES_OF_THIS_ONE[who]


@pytest.mark.parametrize("who", PEOPLE_AND_ADMINS)
def test_who_can_purge_a_drafts_patient_details(request, client, trainee, account, who):
    risky = services.draft_create(author=trainee, account=account, text="NHS no 999 200 2972")
    response = client_for(request, client, who).post(
        reverse("draft_purge", args=[risky.pk]), {"reason": "A patient's number"}
    )
    assert_status(response, ACT_AS_COACH_OF_THIS_ONE[who])
    purged = risky.revisions.get().text != "NHS no 999 200 2972"
    assert purged == (who in ("coach", "admin"))


@pytest.mark.parametrize("page", ["retention", "draft_purge"])
def test_the_data_protection_pages_refuse_other_methods(client, admin, trainee, account, page):
    risky = services.draft_create(author=trainee, account=account, text="NHS no 999 200 2972")
    client.force_login(admin)
    url = reverse(page, args=[risky.pk] if page == "draft_purge" else [])
    assert client.put(url).status_code == 405
    assert client.delete(url).status_code == 405


# Answering a post of the public's (an inbox item): whoever may see it in the inbox (the
# organisation's coaches and admins, and the trainee it is given to); anyone else, and
# another organisation's people, do not learn it exists.
ANSWER_PAGES = dict(zip(PEOPLE, [302, 200, 404, 200, 404, 200], strict=True))
ANSWER_POSTS = dict(zip(PEOPLE, [302, 302, 404, 302, 404, 302], strict=True))


@pytest.mark.parametrize("who", PEOPLE)
@pytest.mark.parametrize("page", ["answer_reply", "answer_quote"])
def test_who_can_answer_an_inbox_item(request, client, account, trainee, who, page):
    from coaching.models import Answer

    item = factories.inbox_item(account, assigned_to=trainee)
    client = client_for(request, client, who)
    response = client.get(reverse(page, args=[item.pk]))
    assert response.status_code == ANSWER_PAGES[who]
    response = client.post(reverse(page, args=[item.pk]), {"text": f"Answer by {who}", "save": "1"})
    assert response.status_code == ANSWER_POSTS[who]
    made = Answer.objects.filter(item=item, draft__current_revision__text=f"Answer by {who}")
    assert made.exists() == (ANSWER_POSTS[who] == 302 and who != "anonymous")
    if made.exists():
        assert response["Location"] == made.get().draft.get_absolute_url()


# The inbox and an account's cover. An item given to the trainee: they see it (to draft an
# answer), but closing or giving it on is for the organisation's coaches and admins.


@pytest.fixture
def inbox_item(account, trainee):
    return factories.InboxItemFactory(account=account, assigned_to=trainee)


INBOX_SEE = dict(zip(PEOPLE, [302, 200, 200, 200, 200, 200], strict=True))
INBOX_ITEM_SEE = dict(zip(PEOPLE, [302, 200, 404, 200, 404, 200], strict=True))
INBOX_ACT = dict(zip(PEOPLE, [302, 403, 404, "in", 404, "in"], strict=True))


@pytest.mark.parametrize("who", PEOPLE)
@pytest.mark.parametrize("htmx", [False, True])
def test_who_can_open_the_inbox(request, client, inbox_item, who, htmx):
    headers = {"HX-Request": "true"} if htmx else {}
    response = client_for(request, client, who).get(reverse("inbox"), headers=headers)
    assert response.status_code == INBOX_SEE[who]
    if response.status_code == 200:
        sees = f'id="inbox-item-{inbox_item.pk}"' in response.content.decode()
        assert sees is (who in {"trainee", "coach", "admin"})


def test_someone_of_no_organisation_cannot_open_the_inbox(client, db):
    loner = factories.UserFactory(username="lonely")
    assert factories.signed_in(client, loner).get(reverse("inbox")).status_code == 403


@pytest.mark.parametrize("who", PEOPLE)
def test_who_can_open_an_inbox_item(request, client, inbox_item, who):
    response = client_for(request, client, who).get(reverse("inbox_item", args=[inbox_item.pk]))
    assert response.status_code == INBOX_ITEM_SEE[who]


@pytest.mark.parametrize("who", PEOPLE)
@pytest.mark.parametrize(
    ("name", "args", "data"),
    [
        ("inbox_assign", [], {"to": "me"}),
        ("inbox_item_state", ["done"], {}),
        ("inbox_item_state", ["no-reply"], {}),
    ],
)
def test_who_can_act_on_an_inbox_item(request, client, inbox_item, who, name, args, data):
    from coaching.models import InboxItem

    response = client_for(request, client, who).post(
        reverse(name, args=[inbox_item.pk, *args]), data
    )
    assert_status(response, INBOX_ACT[who])
    after = InboxItem.objects.get(pk=inbox_item.pk)
    changed = (
        after.state != InboxItem.State.OPEN or after.assigned_to_id != inbox_item.assigned_to_id
    )
    assert changed is (INBOX_ACT[who] == "in")


@pytest.mark.parametrize("who", PEOPLE)
def test_who_can_reopen_an_inbox_item(request, client, inbox_item, coach, who):
    from coaching.models import InboxItem
    from coaching.services import inbox

    inbox.inbox_done(by=coach, item=inbox_item)
    response = client_for(request, client, who).post(
        reverse("inbox_item_state", args=[inbox_item.pk, "reopen"])
    )
    assert_status(response, INBOX_ACT[who])
    reopened = InboxItem.objects.get(pk=inbox_item.pk).state == InboxItem.State.OPEN
    assert reopened is (INBOX_ACT[who] == "in")


def test_another_organisations_inbox_item_is_not_found_for_its_actions(
    client, outside_coach, other_account, inbox_item
):
    client = factories.signed_in(client, outside_coach)
    theirs = factories.InboxItemFactory(account=other_account)
    assert client.get(reverse("inbox_item", args=[theirs.pk])).status_code == 200
    for name, args in [("inbox_assign", []), ("inbox_item_state", ["done"])]:
        assert client.post(reverse(name, args=[inbox_item.pk, *args])).status_code == 404


@pytest.fixture
def cover(account, other_trainee):
    from django.utils import timezone

    from coaching.models import AccountCover

    today = timezone.localdate()
    return AccountCover.objects.create(
        account=account, person=other_trainee, starts_on=today, ends_on=today
    )


COVER_SEE = dict(zip(PEOPLE, [302, 403, 200, 200, 404, 200], strict=True))  # other_trainee covers
COVER_ARRANGE = dict(zip(PEOPLE, [302, 403, 403, "in", 404, "in"], strict=True))


@pytest.mark.parametrize("who", PEOPLE)
def test_who_can_open_an_accounts_cover_page(request, client, cover, who):
    response = client_for(request, client, who).get(
        reverse("account_cover", args=[cover.account_id])
    )
    assert response.status_code == COVER_SEE[who]


def test_the_owner_can_open_and_keep_their_accounts_cover(client, account, trainee, coach):
    from django.utils import timezone

    from coaching.models import AccountCover

    account.owner = trainee
    account.save()
    client = factories.signed_in(client, trainee)
    assert client.get(reverse("account_cover", args=[account.pk])).status_code == 200
    today = timezone.localdate().isoformat()
    response = client.post(
        reverse("account_cover_add", args=[account.pk]),
        {"person": coach.pk, "starts_on": today, "ends_on": today},
    )
    assert response.status_code == 302
    assert AccountCover.objects.filter(account=account, person=coach).exists()


@pytest.mark.parametrize("who", PEOPLE)
def test_who_can_add_cover(request, client, account, second_coach, who):
    from django.utils import timezone

    from coaching.models import AccountCover

    today = timezone.localdate().isoformat()
    response = client_for(request, client, who).post(
        reverse("account_cover_add", args=[account.pk]),
        {"person": second_coach.pk, "starts_on": today, "ends_on": today},
    )
    assert_status(response, COVER_ARRANGE[who])
    assert AccountCover.objects.exists() is (COVER_ARRANGE[who] == "in")


@pytest.mark.parametrize("who", PEOPLE)
def test_who_can_remove_cover(request, client, cover, who):
    from coaching.models import AccountCover

    response = client_for(request, client, who).post(
        reverse("account_cover_remove", args=[cover.account_id, cover.pk])
    )
    assert_status(response, COVER_ARRANGE[who])
    assert AccountCover.objects.exists() is (COVER_ARRANGE[who] != "in")


HANDBACK = dict(zip(PEOPLE, [302, 403, "in", 403, 404, 403], strict=True))  # other_trainee covers


@pytest.mark.parametrize("who", PEOPLE)
def test_only_the_cover_leaves_the_handback_note(request, client, cover, who):
    from coaching.models import AccountCover

    response = client_for(request, client, who).post(
        reverse("account_cover_handback", args=[cover.account_id, cover.pk]), {"note": "All done"}
    )
    assert_status(response, HANDBACK[who])
    left = AccountCover.objects.get(pk=cover.pk).handback_note == "All done"
    assert left is (HANDBACK[who] == "in")


OWNER_SET = dict(zip(PEOPLE, [302, 403, 403, 403, 403, "in"], strict=True))


@pytest.mark.parametrize("who", PEOPLE)
def test_only_an_admin_names_the_owner(request, client, account, coach, who):
    response = client_for(request, client, who).post(
        reverse("account_owner", args=[account.pk]), {"owner": coach.pk}
    )
    assert_status(response, OWNER_SET[who])
    account.refresh_from_db()
    assert (account.owner == coach) is (OWNER_SET[who] == "in")


def test_another_organisations_admin_cannot_name_our_owner_or_see_our_cover(
    client, account, coach, outside_staff_admin
):
    client = factories.signed_in(client, outside_staff_admin)
    response = client.post(reverse("account_owner", args=[account.pk]), {"owner": coach.pk})
    assert response.status_code == 404
    assert client.get(reverse("account_cover", args=[account.pk])).status_code == 404


@pytest.mark.parametrize(
    ("name", "args"),
    [
        ("inbox_assign", [1]),
        ("inbox_item_state", [1, "done"]),
        ("account_owner", [1]),
        ("account_cover_add", [1]),
        ("account_cover_remove", [1, 1]),
        ("account_cover_handback", [1, 1]),
    ],
)
def test_inbox_and_cover_changes_refuse_get(client, coach, name, args):
    client.login(username=coach.username, password=PASSWORD)
    assert client.get(reverse(name, args=args)).status_code == 405


def test_a_form_from_an_ended_session_is_refused_in_plain_words(db, trainee):
    """A CSRF failure (the form's token was made for another session) says what happened
    and what to do, in the site's own page."""
    client = Client(enforce_csrf_checks=True)
    client.force_login(trainee)
    response = client.post(reverse("timeline"), {"text": "Typed in a tab left open"})
    assert response.status_code == 403
    page = response.content.decode()
    assert "This page had expired" in page
    assert "Nothing was saved" in page
    assert not Draft.objects.filter(revisions__text="Typed in a tab left open").exists()
