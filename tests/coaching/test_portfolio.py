"""The trainee's record: the figures, the tags, the score history and the cohort overview,
from real reviews made through the services."""

import datetime as dt
import sqlite3

import pytest

from coaching import portfolio
from coaching.models import Review
from sandbox import services
from sandbox.models import Cohort, Membership
from tests import factories
from tests.builders import reviewed

pytestmark = pytest.mark.django_db

HOUR = dt.timedelta(hours=1)


def figures(trainee):
    return portfolio.portfolio_for(portfolio.own_membership(trainee)).figures


def test_a_trainee_with_no_reviews_has_empty_figures(trainee, account):
    services.draft_create(author=trainee, account=account, text="Not sent yet")
    result = figures(trainee)
    assert result.drafts_reviewed == 0
    assert result.first_pass_rate is None
    assert result.first_pass_words == "No reviews yet"
    assert result.median_to_approval is None
    assert result.median_words == "No approvals yet"
    assert result.mean_scores == {"safe": None, "person_centred": None, "effective": None}


def test_first_pass_rate_counts_the_first_coach_review_of_each_draft(trainee, account, coach):
    A, C, R = Review.Decision.APPROVE, Review.Decision.REQUEST_CHANGES, Review.Decision.REJECT
    reviewed(trainee, account, coach, [A])
    reviewed(trainee, account, coach, [A])
    reviewed(trainee, account, coach, [C, A])  # approved, but not first time
    reviewed(trainee, account, coach, [R])
    result = figures(trainee)
    assert (result.first_pass, result.drafts_reviewed) == (2, 4)
    assert result.first_pass_rate == 0.5
    assert result.first_pass_words == "50% (2 of 4)"


def test_spot_check_passes_are_not_coach_reviews(trainee, account, coach):
    A, C = Review.Decision.APPROVE, Review.Decision.REQUEST_CHANGES
    reviewed(trainee, account, coach, ["spot"])  # never seen by a coach: counts neither way
    reviewed(trainee, account, coach, ["spot", C, A])  # first *coach* review asked for changes
    reviewed(trainee, account, coach, [A])
    result = figures(trainee)
    assert (result.first_pass, result.drafts_reviewed) == (1, 2)


def test_median_time_runs_from_first_submission_to_first_approval(trainee, account, coach):
    A, C = Review.Decision.APPROVE, Review.Decision.REQUEST_CHANGES
    reviewed(trainee, account, coach, [A], hours=1)
    reviewed(trainee, account, coach, [C, A], hours=5)
    reviewed(trainee, account, coach, [A], hours=30)
    reviewed(trainee, account, coach, [C])  # not approved: not in the median
    assert figures(trainee).median_to_approval == 5 * HOUR
    reviewed(trainee, account, coach, [A], hours=7)
    result = figures(trainee)
    assert result.median_to_approval == 6 * HOUR  # even count: the mean of the middle two
    assert result.median_words == "6 hours"


def test_first_submission_is_kept_when_the_trainee_resubmits(trainee, account, coach):
    draft = reviewed(trainee, account, coach, [Review.Decision.REQUEST_CHANGES])
    draft.refresh_from_db()
    assert draft.first_submitted_at < draft.submitted_at


def test_mean_scores_and_tags(trainee, account, coach):
    A = Review.Decision.APPROVE
    reviewed(trainee, account, coach, [A], scores={"safe": 2, "effective": 3}, tags=["tone"])
    reviewed(
        trainee,
        account,
        coach,
        [A],
        scores={"safe": 4, "person_centred": 3, "effective": 3},
        tags=["tone", "timing"],
    )
    reviewed(trainee, account, coach, ["spot"])
    record = portfolio.portfolio_for(portfolio.own_membership(trainee))
    assert record.figures.mean_scores == {"safe": 3.0, "person_centred": 3.0, "effective": 3.0}
    assert record.tags == [("Tone", 2), ("Timing", 1)]
    assert [p.scores for p in record.history] == [
        {"safe": 2, "person_centred": None, "effective": 3},
        {"safe": 4, "person_centred": 3, "effective": 3},
    ]


def test_the_chart_draws_each_score_where_it_belongs(trainee, account, coach):
    A = Review.Decision.APPROVE
    for score in (1, 4, 2):
        reviewed(trainee, account, coach, [A], scores=dict.fromkeys(("safe", "effective"), score))
    chart = portfolio.portfolio_for(portfolio.own_membership(trainee)).chart
    safe = next(line for line in chart.lines if line.name == "safe")
    ys = [y for _, y, _ in safe.dots]
    xs = [x for x, _, _ in safe.dots]
    assert [score for _, _, score in safe.dots] == [1, 4, 2]
    assert ys[1] < ys[2] < ys[0]  # SVG y grows downwards: the best score is highest
    assert xs == sorted(xs) and xs[0] == chart.left and xs[-1] == chart.right
    person_centred = next(line for line in chart.lines if line.name == "person_centred")
    assert person_centred.dots == [] and person_centred.points == ""


def test_figures_are_per_organisation(trainee, account, coach, other_account):
    Membership.objects.create(user=trainee, organisation=other_account.organisation)
    outside = factories.member(other_account.organisation, "coach", username="oscar")
    reviewed(trainee, account, coach, [Review.Decision.APPROVE])
    reviewed(trainee, other_account, outside, [Review.Decision.REJECT])
    here = portfolio.own_membership(trainee, account.organisation_id)
    there = portfolio.own_membership(trainee, other_account.organisation_id)
    assert portfolio.portfolio_for(here).figures.first_pass == 1
    assert portfolio.portfolio_for(there).figures.first_pass == 0
    assert [r.decision for r in portfolio.review_page(there, 1)] == ["reject"]


def test_a_coach_reaches_only_trainees_of_their_organisations(
    trainee, coach, outside_coach, other_trainee
):
    assert portfolio.trainee_membership_for(coach, trainee.pk).user == trainee
    assert portfolio.trainee_membership_for(outside_coach, trainee.pk) is None
    assert portfolio.trainee_membership_for(other_trainee, trainee.pk) is None


def test_the_reviews_list_is_newest_first_with_note_counts(trainee, account, coach):
    reviewed(trainee, account, coach, [Review.Decision.REQUEST_CHANGES, Review.Decision.APPROVE])
    page = portfolio.review_page(portfolio.own_membership(trainee), 1)
    assert [(r.decision, r.notes_count) for r in page] == [("approve", 0), ("request_changes", 1)]
    assert portfolio.review_page(portfolio.own_membership(trainee), "not a number").number == 1


def test_cohort_overview_groups_trainees_with_their_figures(
    organisation, trainee, other_trainee, coach, account, outside_coach
):
    ward = Cohort.objects.create(organisation=organisation, name="Ward 7")
    Membership.objects.filter(user=trainee).update(cohort=ward)
    factories.member(outside_coach.memberships.get().organisation, "trainee", username="elsie")
    reviewed(trainee, account, coach, [Review.Decision.APPROVE], scores={"safe": 4})
    groups = portfolio.cohort_overview(coach)
    assert [(g.name, [r.membership.user.username for r in g.rows]) for g in groups] == [
        ("Ward 7", ["tara"]),
        ("No cohort", ["otto"]),
    ]
    assert groups[0].rows[0].figures.first_pass == 1
    assert groups[0].rows[0].figures.mean_scores["safe"] == 4
    assert groups[1].rows[0].figures == portfolio.Figures()


def test_describe_duration():
    d = portfolio.describe_duration
    assert [d(dt.timedelta(minutes=1)), d(dt.timedelta(minutes=59)), d(dt.timedelta(hours=1))] == [
        "1 minute",
        "59 minutes",
        "1 hour",
    ]
    assert d(dt.timedelta(hours=47)) == "47 hours"
    assert d(dt.timedelta(days=3, hours=5)) == "3 days"


def test_the_median_works_on_sqlite_too():
    """The embedded default (make run) uses SQLite, which has no median of its own."""
    db = sqlite3.connect(":memory:")
    db.create_aggregate("MEDIAN", 1, portfolio._SQLiteMedian)
    db.execute("CREATE TABLE t (v INTEGER)")
    db.executemany("INSERT INTO t VALUES (?)", [(3,), (1,), (None,), (10,), (4,)])
    assert db.execute("SELECT MEDIAN(v) FROM t").fetchone() == (3.5,)
    assert db.execute("SELECT MEDIAN(v) FROM t WHERE v > 100").fetchone() == (None,)
