"""coaching/autonomy.py, the earned-autonomy rule itself, as pure functions: which drafts are
first-pass approvals, the streak, and the 1-in-N sample. The rule at work (moving trainees
between modes, passing and holding posts) is in services/test_review_modes.py."""

from coaching import autonomy
from coaching.autonomy import Decision, ReviewedDraft

# The rule as pure functions ------------------------------------------------------------------

GOOD = Decision("approve", (3, 4, 3))


def drafts(*decisions: Decision, overridden: bool = False) -> ReviewedDraft:
    return ReviewedDraft(decisions, overridden)


def test_first_pass_needs_approvals_only_each_scored_at_least_the_minimum():
    assert autonomy.is_first_pass(drafts(GOOD), min_score=3)
    assert autonomy.is_first_pass(drafts(GOOD, GOOD), min_score=3)  # re-approved after an edit
    assert not autonomy.is_first_pass(drafts(GOOD), min_score=4)
    assert not autonomy.is_first_pass(drafts(Decision("approve", (3, None, 3))), min_score=1)
    assert not autonomy.is_first_pass(
        drafts(Decision("request_changes", (4, 4, 4)), GOOD), min_score=3
    )
    assert not autonomy.is_first_pass(drafts(GOOD, Decision("reject", (4, 4, 4))), min_score=3)
    assert not autonomy.is_first_pass(drafts(GOOD, overridden=True), min_score=3)
    assert not autonomy.is_first_pass(drafts(), min_score=1)


def test_the_streak_counts_from_the_most_recent_until_the_first_miss():
    miss = drafts(Decision("request_changes", (None, None, None)))
    assert autonomy.streak([drafts(GOOD), drafts(GOOD), miss, drafts(GOOD)], min_score=3) == 2
    assert autonomy.streak([miss, drafts(GOOD)], min_score=3) == 0
    assert autonomy.streak([], min_score=3) == 0


def test_one_in_n_is_sampled():
    assert [autonomy.is_sampled(n, every=3) for n in range(1, 7)] == [
        False,
        False,
        True,
        False,
        False,
        True,
    ]
    assert all(autonomy.is_sampled(n, every=1) for n in range(1, 4))
