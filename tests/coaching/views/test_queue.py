"""The coach's queue page (coaching/views/queue.py): routed to me or everyone, filters, the
review target, who covers and who holds a claim, the keyboard shortcuts, and a fixed number
of queries however many drafts are waiting."""

import datetime as dt
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from coaching import services as coaching
from sandbox import services
from sandbox.models import Cohort, Draft, Membership
from tests import factories
from tests.builders import submitted
from tests.factories import SCORES

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()


def name_coach(trainee, coach, organisation):
    Membership.objects.filter(user=trainee, organisation=organisation).update(coach=coach)


def go_away(coach, organisation, *, cover=None, days: int = 3):
    Membership.objects.filter(user=coach, organisation=organisation).update(
        away_from=TODAY, away_until=TODAY + dt.timedelta(days=days), cover_coach=cover
    )


def page_for(client, user, **params):
    client.force_login(user)
    response = client.get(reverse("queue"), params)
    assert response.status_code == 200
    return response.content.decode()


# The page ------------------------------------------------------------------------------------


def test_the_queue_shows_who_is_covering_and_each_rows_route(
    client, trainee, coach, second_coach, account, organisation
):
    name_coach(trainee, second_coach, organisation)
    go_away(second_coach, organisation, cover=coach, days=2)
    submitted(trainee, account, "Ward 4 is open")
    body = page_for(client, coach)
    until = (TODAY + dt.timedelta(days=2)).strftime("%-d %b")
    assert f"Colin is away until {until};\n    Cora is covering." in body
    assert "Cora, covering for Colin" in body
    assert "Ward 4 is open" in body


def test_the_queue_counts_items_past_the_review_target(
    client, trainee, coach, account, organisation
):
    organisation.review_target_hours = 4
    organisation.save()
    submitted(trainee, account, "Fresh", hours_ago=1)
    submitted(trainee, account, "Stale", hours_ago=5)
    body = page_for(client, coach)
    assert "<strong>1</strong> waiting past the review target" in body
    assert "Past target" in body
    overdue_only = page_for(client, coach, age="overdue")
    assert "Stale" in overdue_only and "Fresh" not in overdue_only
    older = page_for(client, coach, age="4h")
    assert "Stale" in older and "Fresh" not in older


def test_filters_by_trainee_cohort_and_account(
    client, trainee, other_trainee, coach, account, organisation
):
    second_account = factories.AccountFactory(organisation=organisation, handle="SecondBoard")
    ward = Cohort.objects.create(organisation=organisation, name="Ward 7")
    Membership.objects.filter(user=trainee, organisation=organisation).update(cohort=ward)
    submitted(trainee, account, "Tara on the board")
    submitted(other_trainee, second_account, "Otto on the second")
    by_trainee = page_for(client, coach, trainee="TAR")  # any part of the name, any case
    assert "Tara on the board" in by_trainee and "Otto on the second" not in by_trainee
    by_cohort = page_for(client, coach, cohort=ward.pk)
    assert "Tara on the board" in by_cohort and "Otto on the second" not in by_cohort
    assert "Ward 7" in by_cohort
    by_account = page_for(client, coach, account=second_account.pk)
    assert "Otto on the second" in by_account and "Tara on the board" not in by_account
    nothing = page_for(client, coach, trainee="tara", account=second_account.pk)
    assert "Nothing matches these filters" in nothing


def test_the_trainee_search_needs_every_word(client, trainee, other_trainee, coach, account):
    trainee.first_name, trainee.last_name = "Tara", "Quinn"
    trainee.save()
    submitted(trainee, account, "Tara's post")
    submitted(other_trainee, account, "Otto's post")
    both = page_for(client, coach, scope="all", trainee="  quinn   TARA ")
    assert "Tara&#x27;s post" in both and "Otto&#x27;s post" not in both
    assert "Nothing matches" in page_for(client, coach, scope="all", trainee="tara otto")


def test_a_bad_filter_gets_a_clear_message_not_an_error(client, trainee, coach, account):
    submitted(trainee, account, "Still here")
    body = page_for(client, coach, trainee="t" * 101, age="forever", scope="nobody")
    assert "Search for a trainee with at most 100 characters." in body
    assert 'value="' + "t" * 101 + '"' in body  # what was typed is kept
    assert "Choose how long from the list." in body
    assert "Still here" in body  # the bad filters are left out, the rest still work


def test_the_htmx_refresh_keeps_the_filters(client, trainee, coach, account):
    submitted(trainee, account, "Polled")
    client.force_login(coach)
    response = client.get(reverse("queue"), {"age": "1h"}, headers={"HX-Request": "true"})
    body = response.content.decode()
    assert body.lstrip().startswith('<div id="queue-rows"')
    assert 'hx-get="/queue/?age=1h"' in body
    assert "HX-Request" in response["Vary"]  # so Back never shows the cached fragment
    assert "<html" not in body


def test_the_queue_shows_who_holds_a_claim(client, trainee, coach, second_coach, account):
    draft = submitted(trainee, account, "Claimed one")
    coaching.review_claim(draft=draft, by=second_coach)
    assert "Being reviewed by Colin (last active at" in page_for(client, coach)


def test_the_shortcuts_are_documented_on_the_page(client, coach):
    body = page_for(client, coach)
    assert "Keyboard shortcuts" in body and "<kbd>j</kbd>" in body
    assert 'src="/static/js/queue.js"' in body


def test_the_shortcuts_have_a_labelled_switch_that_is_on_and_documented(client, coach):
    body = page_for(client, coach)
    switch = re.search(r'<input[^>]*id="queue-shortcuts"[^>]*>', body).group(0)
    assert 'type="checkbox"' in switch and 'role="switch"' in switch and "checked" in switch
    assert '<label class="nhsuk-label nhsuk-checkboxes__label" for="queue-shortcuts">' in body
    # Hidden until queue.js, which works it, shows it; outside the filters, so it never
    # sends the filter form.
    assert re.search(r"<div[^>]*data-shortcuts-switch hidden>", body)
    assert body.index('id="queue-shortcuts"') > body.index("</form>")
    assert "Untick “Use single-key shortcuts” above" in body


def test_the_review_opens_with_the_decision_the_shortcut_chose(client, trainee, coach, account):
    draft = submitted(trainee, account, "Choose for me")
    client.force_login(coach)
    url = reverse("review", args=[draft.pk])
    # Approve needs the rubric scored first: focus goes to the rubric's heading, with a
    # hint, not to the Approve button (Enter there would only bring back an error).
    approve = client.get(url, {"decision": "approve"}).content.decode()
    assert approve.count("autofocus") == 1
    assert (
        '<h3 class="nhsuk-heading-xs" id="rubric-title" tabindex="-1" autofocus '
        'aria-describedby="approve-hint">Score the post</h3>' in approve
    )
    assert 'id="approve-hint"><p>Score the post, then press Approve.</p>' in approve
    assert 'value="approve">Approve</button>' in approve
    changes = client.get(url, {"decision": "request_changes"}).content.decode()
    assert changes.count("autofocus") == 1 and 'rows="4" data-autosave autofocus' in changes
    assert "then press Approve" not in changes
    nonsense = client.get(url, {"decision": "nonsense"}).content.decode()
    assert "autofocus" not in nonsense and "then press Approve" not in nonsense


# Permissions ------------------------------------------------------------------------------


def test_a_coach_never_sees_another_organisations_trainees_in_filters_or_rows(
    client, trainee, outside_coach, account, other_account, other_organisation
):
    submitted(trainee, account, "Ours alone")
    stranger = factories.member(other_organisation, "trainee", username="sven")
    submitted(stranger, other_account, "Theirs alone")
    body = page_for(client, outside_coach, scope="all")
    assert "Theirs alone" in body and "Ours alone" not in body
    assert f'value="{trainee.pk}"' not in body and "Tara" not in body
    # Searching for our trainee finds nothing of theirs.
    named = page_for(client, outside_coach, scope="all", trainee="tara")
    assert "Ours alone" not in named and "Nothing matches these filters" in named


# Queries do not grow with the number of drafts ---------------------------------------------


def _populate(organisation, account, coaches, n):
    cohort, _ = Cohort.objects.get_or_create(organisation=organisation, name="Intake")
    for i in range(n):
        author = factories.member(organisation, "trainee", username=f"bulk{Draft.objects.count()}")
        Membership.objects.filter(user=author, organisation=organisation).update(
            coach=coaches[i % len(coaches)], cohort=cohort
        )
        # Every third has a finding (a warning), so rows with and without a box are counted.
        text = f"Bulk post {i}" + (", damn it" if i % 3 == 0 else "")
        submitted(author, account, text, hours_ago=i % 30)
    return cohort


def _count(client, params, **headers):
    with CaptureQueriesContext(connection) as captured:
        assert client.get(reverse("queue"), params, headers=headers).status_code == 200
    return len(captured)


@pytest.mark.parametrize("filtered", [False, True], ids=["mine", "all-filtered"])
def test_queue_queries_are_the_same_at_two_sizes(
    client, django_assert_num_queries, coach, second_coach, account, organisation, filtered
):
    go_away(second_coach, organisation, cover=coach)
    organisation.review_target_hours = 1  # so both sizes have rows past the target
    organisation.save()
    client.force_login(coach)
    cohort = _populate(organisation, account, [coach, second_coach], 3)
    params = {}
    if filtered:
        params = {
            "scope": "all",
            "age": "overdue",
            "cohort": cohort.pk,
            "account": account.pk,
            "trainee": "bulk",
        }
    page, fragment = _count(client, params), _count(client, params, HX_Request="true")
    _populate(organisation, account, [coach, second_coach], 60)  # more than a page of rows
    with django_assert_num_queries(page):
        body = client.get(reverse("queue"), params).content.decode()
    assert "Showing 1 to 50 of" in body
    # The trainee filter is a search box: no list of every trainee on the page.
    assert (
        '<input type="search" name="trainee"' in body
        and "<option" not in body.split('name="trainee"')[1].split("</div>")[0]
    )
    with django_assert_num_queries(fragment):
        client.get(reverse("queue"), params, headers={"HX-Request": "true"})


# Order, waiting time and the htmx fragment ------------------------------------------------


def test_the_queue_is_oldest_first_with_waiting_time(as_coach, trainee, account):
    for text in ["First in", "Second in"]:
        coaching.draft_submit(
            draft=services.draft_create(author=trainee, account=account, text=text), by=trainee
        )
    body = as_coach.get(reverse("queue")).content.decode()
    assert body.index("First in") < body.index("Second in")
    assert "<time" in body


def test_the_queue_fragment_is_only_the_rows(as_coach, submitted):
    body = as_coach.get(reverse("queue"), headers={"HX-Request": "true"}).content.decode()
    assert body.lstrip().startswith('<div id="queue-rows"')
    assert "<html" not in body


def test_unchanged_rows_come_from_the_cache_and_a_claim_changes_its_row(
    client, trainee, coach, second_coach, account, monkeypatch
):
    from coaching.templatetags import reviews

    draft = submitted(trainee, account, "Cached row")
    client.force_login(coach)
    poll = {"HX-Request": "true"}
    first = client.get(reverse("queue"), headers=poll).content.decode()
    assert "Cached row" in first and "Being reviewed" not in first

    def no_rendering(name: str) -> object:
        raise AssertionError(f"{name} rendered again although nothing changed")

    with monkeypatch.context() as patched:
        patched.setattr(reviews, "get_template", no_rendering)
        assert client.get(reverse("queue"), headers=poll).content.decode() == first

    coaching.review_claim(draft=draft, by=second_coach)
    claimed = client.get(reverse("queue"), headers=poll).content.decode()
    assert "Being reviewed by Colin" in claimed


# Approving several clean posts at once ------------------------------------------------------


def _box(draft):
    return f'value="{draft.pk}:{draft.current_revision_id}"'


def test_only_clean_posts_no_one_else_is_reviewing_can_be_ticked(
    client, trainee, other_trainee, coach, second_coach, account
):
    clean = submitted(trainee, account, "Flu clinic opens Monday.")
    warned = submitted(trainee, account, "Damn, the clinic is shut today.")
    claimed = submitted(other_trainee, account, "Ward 4 is open again.")
    coaching.review_claim(draft=claimed, by=second_coach)
    mine = submitted(other_trainee, account, "Ward 5 is open again.")
    coaching.review_claim(draft=mine, by=coach)
    body = page_for(client, coach, scope="all")
    assert _box(clean) in body and _box(mine) in body
    assert _box(warned) not in body and _box(claimed) not in body
    assert 'form="approve-clean"' in body and 'id="approve-clean"' in body
    assert "Approve “Flu clinic opens Monday.” by" in body


def test_ticked_posts_are_approved_each_on_its_own_and_the_page_says_so(
    client, trainee, other_trainee, coach, account
):
    first = submitted(trainee, account, "Flu clinic opens Monday.")
    second = submitted(other_trainee, account, "Ward 4 is open again.")
    stale = f"{second.pk}:{second.current_revision_id}"
    services.draft_edit(draft=second, by=other_trainee, text="Ward 4 is open again today.")
    client.force_login(coach)
    response = client.post(
        reverse("queue_approve") + "?scope=all",
        {"approve": [f"{first.pk}:{first.current_revision_id}", stale], **SCORES},
        follow=True,
    )
    assert response.redirect_chain == [(reverse("queue") + "?scope=all", 302)]
    body = response.content.decode()
    assert "“Flu clinic opens Monday.” by Tara: Approved: it is queued" in body
    assert "“Ward 4 is open again.” by" in body and "was not approved. The trainee changed" in body
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, second.status) == (Draft.Status.APPROVED, Draft.Status.SUBMITTED)


def test_without_scores_nothing_is_approved_and_the_ticks_and_scores_stay(
    client, trainee, coach, account
):
    draft = submitted(trainee, account, "Flu clinic opens Monday.")
    client.force_login(coach)
    response = client.post(
        reverse("queue_approve") + "?scope=all",
        {"approve": [f"{draft.pk}:{draft.current_revision_id}"], "safe": "4"},
    )
    assert response.status_code == 422
    body = response.content.decode()
    assert "The ticked posts were not approved" in body
    assert "Score the post for person-centred and effective" in body
    assert f'{_box(draft)} form="approve-clean" hx-preserve="true" checked' in body
    assert 'name="safe" type="radio" value="4" checked' in body
    # The rows still poll the queue, not the form's address.
    assert f'hx-get="{reverse("queue")}?scope=all"' in body
    draft.refresh_from_db()
    assert draft.status == Draft.Status.SUBMITTED


@pytest.mark.parametrize(
    ("sent", "message"),
    [
        ([], "Tick the posts you want to approve."),
        (["12:x"], "A ticked post could not be read"),
        (["1:2:3"], "A ticked post could not be read"),
        (["99999999999999999999999:1"], "A ticked post could not be read"),
        (["\x00"], "A ticked post could not be read"),
    ],
)
def test_nothing_ticked_or_a_broken_box_gets_a_clear_message(
    client, trainee, coach, account, sent, message
):
    submitted(trainee, account, "Flu clinic opens Monday.")
    client.force_login(coach)
    response = client.post(reverse("queue_approve"), {"approve": sent, **SCORES})
    assert response.status_code == 422
    assert message in response.content.decode()
    assert 'href="#id_approve"' in response.content.decode()


def test_approving_in_place_with_htmx_swaps_the_page(client, trainee, coach, account):
    draft = submitted(trainee, account, "Flu clinic opens Monday.")
    client.force_login(coach)
    response = client.post(
        reverse("queue_approve"),
        {"approve": [f"{draft.pk}:{draft.current_revision_id}"], **SCORES},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "<main" in body and "Approved: it is queued for publication." in body
