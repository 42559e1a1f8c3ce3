"""A draft's comment thread: who may write in it, who hears, and the audit log."""

import pytest

from coaching import services as coaching
from coaching.models import AuditEvent, DraftComment, Notification
from sandbox.errors import InvalidInput, NotAllowed
from sandbox.models import Membership

pytestmark = pytest.mark.django_db


def _name_coach(trainee, coach, organisation):
    Membership.objects.filter(user=trainee, organisation=organisation).update(coach=coach)


def test_the_trainees_question_reaches_their_coach_and_is_audited(
    trainee, coach, second_coach, organisation, submitted
):
    _name_coach(trainee, coach, organisation)
    comment = coaching.comment_add(
        draft=submitted, by=trainee, body="  Can this go through? The number is a helpline.  "
    )
    assert comment.body == "Can this go through? The number is a helpline."
    assert comment.revision == submitted.current_revision
    notice = Notification.objects.get(kind=Notification.Kind.COMMENT)
    assert notice.user == coach  # the named coach, not the whole pool
    assert notice.url == f"/review/{submitted.pk}/#comments"
    assert notice.message.startswith("Tara commented on “Clinic open 9-5”: “Can this go")
    event = AuditEvent.objects.get(action=AuditEvent.Action.COMMENTED)
    assert (event.actor, event.draft_id, event.trainee) == (trainee, submitted.pk, trainee)
    # The audit log says who commented where, never the words (a purge cannot reach it).
    assert event.detail == f"Comment {comment.pk} on draft {submitted.pk}"
    assert "helpline" not in event.detail


def test_a_coachs_answer_reaches_the_trainee_and_settles_the_coachs_own_notice(
    trainee, coach, organisation, submitted
):
    _name_coach(trainee, coach, organisation)
    coaching.comment_add(draft=submitted, by=trainee, body="A question")
    coaching.comment_add(draft=submitted, by=coach, body="An answer")
    to_trainee = Notification.objects.get(kind=Notification.Kind.COMMENT, user=trainee)
    assert to_trainee.url == f"/drafts/{submitted.pk}/#comments"
    # The coach answered: what they were told of the question is dealt with.
    to_coach = Notification.objects.get(kind=Notification.Kind.COMMENT, user=coach)
    assert to_coach.resolved_at is not None and to_trainee.resolved_at is None


def test_a_coach_who_took_part_hears_of_the_reply_though_not_named(
    trainee, coach, second_coach, organisation, submitted
):
    _name_coach(trainee, coach, organisation)
    coaching.comment_add(draft=submitted, by=second_coach, body="I'll look at this one")
    coaching.comment_add(draft=submitted, by=trainee, body="Thanks")
    told = Notification.objects.filter(kind=Notification.Kind.COMMENT).exclude(user=trainee)
    assert set(told.values_list("user__username", flat=True)) == {
        coach.username,
        second_coach.username,
    }


@pytest.mark.parametrize("who", ["other_trainee", "outside_coach"])
def test_nobody_else_may_write_in_the_thread(request, submitted, who):
    with pytest.raises(NotAllowed, match="Only the trainee who wrote this post"):
        coaching.comment_add(draft=submitted, by=request.getfixturevalue(who), body="Hello")
    assert not DraftComment.objects.exists()
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.COMMENTED).exists()


@pytest.mark.parametrize(
    ("body", "message"),
    [("   ", "Write your comment"), ("x" * 2001, "up to 2000 characters; this one is 2001")],
)
def test_an_empty_or_long_comment_is_refused_in_plain_words(submitted, trainee, body, message):
    with pytest.raises(InvalidInput, match=message) as refused:
        coaching.comment_add(draft=submitted, by=trainee, body=body)
    assert refused.value.field == "body"
    assert not DraftComment.objects.exists()
