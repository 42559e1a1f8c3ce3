"""Who hears of what: submissions, decisions, posts past the review target, and the daily
digest. Email goes only after commit and only as each person asked."""

import datetime as dt
import logging
import threading
from collections.abc import Callable

import pytest
from django.core import mail
from django.core.management import call_command
from django.db import connection, transaction
from django.utils import timezone

from coaching import notifications, tasks
from coaching import services as coaching
from coaching.models import Notification, NotificationPreference
from sandbox import services
from sandbox.models import Draft, Membership
from tests import factories
from tests.builders import submitted

pytestmark = pytest.mark.django_db

Kind = Notification.Kind


@pytest.fixture(autouse=True)
def emails(trainee, coach, second_coach, outside_coach):
    for user in (trainee, coach, second_coach, outside_coach):
        user.email = f"{user.username}@example.nhs.uk"
        user.save(update_fields=["email"])


def _told(kind: str) -> set[str]:
    return set(Notification.objects.filter(kind=kind).values_list("user__username", flat=True))


def _name_coach(trainee, coach, organisation):
    Membership.objects.filter(user=trainee, organisation=organisation).update(coach=coach)


# Submissions go to the coaches whose queue they land in ----------------------------------


def test_a_submission_is_told_to_the_trainees_named_coach_only(
    trainee, coach, second_coach, organisation, account
):
    _name_coach(trainee, coach, organisation)
    draft = submitted(trainee, account)
    notice = Notification.objects.get(kind=Kind.SUBMITTED)
    assert notice.user == coach
    assert notice.draft == draft
    assert notice.url == f"/review/{draft.pk}/"
    assert notice.message == "Tara sent a post for review: “Clinic open 9-5”"


def test_an_edit_after_approval_puts_the_post_back_and_the_coach_hears_of_it(
    trainee, coach, organisation, account
):
    _name_coach(trainee, coach, organisation)
    draft = submitted(trainee, account)
    coaching.review_approve(draft=draft, by=coach, publish_at=timezone.now() + dt.timedelta(days=1))
    services.draft_edit(draft=draft, by=trainee, text="Clinic open 9-6")
    draft.refresh_from_db()
    assert draft.status == Draft.Status.SUBMITTED
    notices = Notification.objects.filter(kind=Kind.SUBMITTED, user=coach, draft=draft)
    assert notices.count() == 2
    assert "Clinic open 9-6" in notices.first().message


def test_while_the_named_coach_is_away_the_cover_coach_is_told(
    trainee, coach, second_coach, organisation, account
):
    _name_coach(trainee, coach, organisation)
    today = timezone.localdate()
    Membership.objects.filter(user=coach, organisation=organisation).update(
        away_from=today, away_until=today + dt.timedelta(days=2), cover_coach=second_coach
    )
    submitted(trainee, account)
    assert _told(Kind.SUBMITTED) == {"colin"}


def test_an_unassigned_trainees_submission_goes_to_the_pool_not_another_organisation(
    trainee, coach, second_coach, outside_coach, account
):
    submitted(trainee, account)
    assert _told(Kind.SUBMITTED) == {"cora", "colin"}


def test_submission_emails_only_coaches_who_asked_for_them(
    trainee, coach, second_coach, account, django_capture_on_commit_callbacks
):
    # The default is no email per submission (the digest covers it); Colin opts in.
    NotificationPreference.objects.create(user=second_coach, email_submissions=True)
    with django_capture_on_commit_callbacks(execute=True):
        submitted(trainee, account)
    assert [message.to for message in mail.outbox] == [["colin@example.nhs.uk"]]
    assert "Tara sent a post for review" in mail.outbox[0].subject
    assert "http://127.0.0.1:8000/review/" in mail.outbox[0].body


# Decisions go to the trainee ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("decide", "words"),
    [
        (coaching.review_approve, "Cora approved your post “Clinic open 9-5”"),
        (coaching.review_request_changes, "Cora asked for changes to your post “Clinic open 9-5”"),
        (coaching.review_reject, "Cora rejected your post “Clinic open 9-5”"),
    ],
)
def test_the_trainee_hears_of_each_decision_in_plain_words(
    trainee, coach, account, decide: Callable[..., object], words: str
):
    draft = submitted(trainee, account)
    decide(draft=draft, by=coach, note="Say which clinic.")
    notice = Notification.objects.get(kind=Kind.REVIEWED)
    assert (notice.user, notice.message) == (trainee, words)
    assert notice.url == f"/drafts/{draft.pk}/"


def test_decision_email_follows_the_trainees_preference(
    trainee, coach, account, django_capture_on_commit_callbacks
):
    first, second = submitted(trainee, account), submitted(trainee, account, "Second post")
    with django_capture_on_commit_callbacks(execute=True):
        coaching.review_reject(draft=first, by=coach, note="No.")
    assert [message.to for message in mail.outbox] == [["tara@example.nhs.uk"]]
    assert f"http://127.0.0.1:8000/drafts/{first.pk}/" in mail.outbox[0].body
    assert "Choose what we email you: http://127.0.0.1:8000/notifications/preferences/" in (
        mail.outbox[0].body
    )
    notifications.preferences_set(by=trainee, email_reviews=False)
    with django_capture_on_commit_callbacks(execute=True):
        coaching.review_reject(draft=second, by=coach, note="No.")
    assert len(mail.outbox) == 1, "no email once the trainee turned it off"
    assert Notification.objects.filter(user=trainee, kind=Kind.REVIEWED).count() == 2


def test_a_post_with_line_breaks_still_makes_a_one_line_subject(
    trainee, coach, account, django_capture_on_commit_callbacks
):
    draft = submitted(trainee, account, "Clinic open\n\n9-5 today")
    with django_capture_on_commit_callbacks(execute=True):
        coaching.review_reject(draft=draft, by=coach, note="No.")
    assert mail.outbox[0].subject == "Sandpit: Cora rejected your post “Clinic open 9-5 today”"


@pytest.mark.django_db(transaction=True)
def test_email_goes_only_after_the_decision_commits(trainee, coach, account):
    draft = submitted(trainee, account)
    with transaction.atomic():
        coaching.review_request_changes(draft=draft, by=coach, note="Say which clinic.")
        assert Notification.objects.filter(user=trainee).exists()
        assert mail.outbox == [], "no mail while the transaction is open"
    assert len(mail.outbox) == 1

    second = submitted(trainee, account, "Another post")
    with pytest.raises(RuntimeError), transaction.atomic():
        coaching.review_request_changes(draft=second, by=coach, note="Hmm.")
        raise RuntimeError("something later in the request failed")
    assert len(mail.outbox) == 1, "a rolled-back decision emails no one"
    assert Notification.objects.filter(user=trainee).count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_mail_server_that_is_down_never_breaks_the_decision(
    trainee, coach, account, settings, caplog
):
    # The real SMTP backend, pointed at a port where nothing listens.
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 9, 2
    draft = submitted(trainee, account)
    with caplog.at_level(logging.ERROR, logger="coaching.notifications"):
        coaching.review_reject(draft=draft, by=coach, note="Not this one.")
    draft.refresh_from_db()
    assert draft.status == Draft.Status.REJECTED
    assert Notification.objects.filter(user=trainee, kind=Kind.REVIEWED).exists()
    assert "Could not send 1 notification email" in caplog.text


# Past the review target ---------------------------------------------------------------------


def _waited(draft: Draft, hours: float) -> None:
    Draft.objects.filter(pk=draft.pk).update(
        submitted_at=timezone.now() - dt.timedelta(hours=hours)
    )


def test_a_post_past_the_target_is_told_to_its_coaches_once(
    trainee, coach, second_coach, organisation, account, django_capture_on_commit_callbacks
):
    organisation.review_target_hours = 4
    organisation.save()
    _name_coach(trainee, coach, organisation)
    late, fresh = submitted(trainee, account), submitted(trainee, account, "Just now")
    _waited(late, 5)
    _waited(fresh, 3)
    with django_capture_on_commit_callbacks(execute=True):
        assert notifications.past_target_sweep() == 1
        assert notifications.past_target_sweep() == 0
        assert tasks.notify_past_target() == 0
    notice = Notification.objects.get(kind=Kind.PAST_TARGET)
    assert (notice.user, notice.draft) == (coach, late)
    assert notice.message == "Tara's post “Clinic open 9-5” has waited more than 4 hours for review"
    assert [message.to for message in mail.outbox] == [["cora@example.nhs.uk"]]


def test_a_post_back_in_the_queue_is_a_new_wait_and_is_told_of_again(
    trainee, coach, organisation, account
):
    _name_coach(trainee, coach, organisation)
    draft = submitted(trainee, account)
    _waited(draft, 30)
    assert notifications.past_target_sweep() == 1
    coaching.review_request_changes(draft=draft, by=coach, note="Say where.")
    services.draft_edit(draft=draft, by=trainee, text="Clinic open 9-5 on Ward 4")
    coaching.draft_submit(draft=draft, by=trainee)
    assert notifications.past_target_sweep() == 0, "the new wait has only just begun"
    _waited(draft, 30)
    assert notifications.past_target_sweep() == 1
    assert Notification.objects.filter(kind=Kind.PAST_TARGET, user=coach).count() == 2


def test_a_decided_post_is_never_past_the_target(trainee, coach, account):
    draft = submitted(trainee, account)
    _waited(draft, 48)
    coaching.review_reject(draft=draft, by=coach, note="No.")
    assert notifications.past_target_sweep() == 0


def test_each_organisation_has_its_own_target(
    trainee, coach, second_coach, outside_coach, account, other_organisation, other_account
):
    other_organisation.review_target_hours = 48
    other_organisation.save()
    outsider = factories.member(other_organisation, "trainee", username="tom")
    here, there = submitted(trainee, account), submitted(outsider, other_account)
    _waited(here, 30)
    _waited(there, 30)
    notifications.past_target_sweep()
    told = Notification.objects.filter(kind=Kind.PAST_TARGET).values_list("draft", "user")
    assert set(told) == {(here.pk, coach.pk), (here.pk, second_coach.pk)}


def _at_once(work: Callable[[], object], times: int = 2) -> list[object]:
    """Run ``work`` in ``times`` threads released together; each thread has its own
    PostgreSQL connection, closed at the end."""
    barrier = threading.Barrier(times)
    results: list[object] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            barrier.wait(timeout=10)
            results.append(work())
        except BaseException as error:  # reported below, not lost in the thread
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(times)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not errors, errors
    return results


@pytest.mark.django_db(transaction=True)
def test_two_sweeps_at_once_tell_each_coach_once(trainee, coach, second_coach, account):
    NotificationPreference.objects.create(user=coach, email_past_target=True)
    for n in range(5):
        _waited(submitted(trainee, account, f"Post {n}"), 30)
    told = _at_once(notifications.past_target_sweep)
    assert sum(told) == 10
    assert Notification.objects.filter(kind=Kind.PAST_TARGET).count() == 10
    assert len([m for m in mail.outbox if m.to == ["cora@example.nhs.uk"]]) == 5


# The daily digest ---------------------------------------------------------------------------


def _local(hour: int, day: int = 24) -> dt.datetime:
    return timezone.make_aware(dt.datetime(2026, 11, day, hour, 5))


@pytest.fixture
def waiting(trainee, account, organisation):
    organisation.review_target_hours = 24
    organisation.save()
    drafts = [submitted(trainee, account, f"Post number {n}") for n in range(7)]
    for n, draft in enumerate(drafts):
        Draft.objects.filter(pk=draft.pk).update(submitted_at=_local(6) - dt.timedelta(hours=n * 8))
    return drafts


def test_the_digest_sums_up_the_queue_with_links_to_the_oldest(
    coach, second_coach, outside_coach, waiting, settings
):
    settings.DIGEST_HOUR = 7
    assert notifications.send_due_digests(now=_local(6)) == 0, "not before the digest hour"
    assert notifications.send_due_digests(now=_local(8)) == 2, "Cora and Colin; Olga has no queue"
    digest = next(m for m in mail.outbox if m.to == ["cora@example.nhs.uk"])
    assert digest.subject == "Sandpit: 7 posts waiting for review"
    # Submitted 6am, and 8, 16, 24, 32, 40 and 48 hours before: 4 are past 24 hours.
    assert "7 posts waiting for review, 4 past the review target." in digest.body
    oldest = waiting[-1]
    assert f"http://127.0.0.1:8000/review/{oldest.pk}/" in digest.body
    assert f"/review/{waiting[0].pk}/" not in digest.body, "only the five oldest are listed"
    assert "http://127.0.0.1:8000/queue/" in digest.body


def test_one_digest_a_day_and_none_for_those_who_turned_it_off(
    coach, second_coach, waiting, settings
):
    NotificationPreference.objects.create(user=second_coach, daily_digest=False)
    assert notifications.send_due_digests(now=_local(8)) == 1
    assert notifications.send_due_digests(now=_local(9)) == 0
    assert notifications.send_due_digests(now=_local(8, day=25)) == 1
    assert {tuple(m.to) for m in mail.outbox} == {("cora@example.nhs.uk",)}
    assert NotificationPreference.objects.get(user=coach).digest_sent_on == dt.date(2026, 11, 25)


def test_the_digest_counts_the_posts_routed_to_the_coach_and_skips_coaches_away(
    trainee, other_trainee, coach, second_coach, organisation, account, waiting, settings
):
    settings.DIGEST_HOUR = 7
    _name_coach(trainee, coach, organisation)  # the seven waiting posts are Cora's
    _name_coach(other_trainee, second_coach, organisation)
    other = submitted(other_trainee, account, "For Colin")
    Draft.objects.filter(pk=other.pk).update(submitted_at=_local(5))
    assert notifications.send_due_digests(now=_local(8)) == 2
    bodies = {message.to[0]: message.body for message in mail.outbox}
    assert "7 posts waiting for review" in bodies["cora@example.nhs.uk"]
    assert "1 post waiting for review" in bodies["colin@example.nhs.uk"]

    mail.outbox.clear()
    tomorrow = _local(8, day=25)
    Membership.objects.filter(user=second_coach, organisation=organisation).update(
        away_from=tomorrow.date(), away_until=tomorrow.date() + dt.timedelta(days=7)
    )
    assert notifications.send_due_digests(now=tomorrow) == 1, "Colin is away"
    [digest] = mail.outbox
    assert digest.to == ["cora@example.nhs.uk"]
    # Colin has no cover, so his trainee's post is the pool's, which is Cora alone now.
    assert "8 posts waiting for review" in digest.body


def test_no_digest_when_nothing_is_waiting(coach):
    assert notifications.send_due_digests(now=_local(8)) == 0
    assert mail.outbox == []


@pytest.mark.django_db(transaction=True)
def test_three_beats_at_once_send_each_coach_one_digest(coach, second_coach, waiting):
    sent = _at_once(lambda: notifications.send_due_digests(now=_local(8)), times=3)
    assert sum(sent) == 2
    assert sorted(m.to[0] for m in mail.outbox) == ["colin@example.nhs.uk", "cora@example.nhs.uk"]


def test_operators_can_send_todays_digests_by_command(coach, waiting, capsys):
    call_command("send_digests")
    call_command("send_digests")
    assert capsys.readouterr().out == "Sent 2 digests.\nSent 0 digests.\n"
    assert len(mail.outbox) == 2


def test_the_beat_task_sends_digests(coach, waiting, settings):
    settings.DIGEST_HOUR = 0
    assert tasks.send_digests() == 2


# Notices that resolve themselves -----------------------------------------------------------


def _badge(user) -> int:
    from coaching.selectors import unread_notification_count

    return unread_notification_count(user)


def test_the_badge_counts_only_what_still_needs_someone_over_a_full_loop(
    trainee, coach, organisation, account, x_double, client
):
    _name_coach(trainee, coach, organisation)
    draft = submitted(trainee, account)
    assert (_badge(coach), _badge(trainee)) == (1, 0)

    coaching.review_request_changes(draft=draft, by=coach, note="Say which clinic.")
    # The coach dealt with the post; the trainee has something to do.
    assert (_badge(coach), _badge(trainee)) == (0, 1)

    services.draft_edit(draft=draft, by=trainee, text="Clinic open 9-6")
    assert _badge(trainee) == 1  # edited but not sent back: still theirs to act on
    coaching.draft_submit(draft=draft, by=trainee)
    assert (_badge(coach), _badge(trainee)) == (1, 0)

    coaching.review_approve(draft=draft, by=coach)
    assert (_badge(coach), _badge(trainee)) == (0, 1)

    from coaching.models import Publication
    from tests.builders import sent

    publication = sent(Publication.objects.get(draft=draft))
    notifications.publication_settled(publication=publication)
    # Only "your post is live" is left: the approval it follows is history.
    assert (_badge(coach), _badge(trainee)) == (0, 1)
    waiting = Notification.objects.filter(resolved_at__isnull=True, read_at__isnull=True)
    assert [n.message for n in waiting] == ["Your post “Clinic open 9-6” is live on @TestBoard"]
    # Nothing was lost: the earlier notices are still listed, as done.
    assert Notification.objects.filter(resolved_at__isnull=False).count() == 4

    client.force_login(trainee)
    page = client.get("/notifications/").content.decode()
    assert page.count("Dealt with") == 2
    assert '<span class="sp-badge">1<' in page


def test_withdrawing_a_post_settles_the_coaches_notices(trainee, coach, organisation, account):
    _name_coach(trainee, coach, organisation)
    draft = submitted(trainee, account, hours_ago=100)
    notifications.past_target_sweep()
    assert _badge(coach) == 2
    coaching.draft_withdraw(draft=draft, by=trainee)
    assert _badge(coach) == 0


def test_a_rejection_settles_every_coachs_notice_not_only_the_deciders(
    trainee, coach, second_coach, account
):
    draft = submitted(trainee, account)  # no named coach: the pool hears
    assert _badge(coach) == _badge(second_coach) == 1
    coaching.review_reject(draft=draft, by=coach, note="Not this one.")
    assert _badge(coach) == _badge(second_coach) == 0
    assert _badge(trainee) == 1


def test_mark_all_read_counts_what_the_badge_counted(trainee, coach, organisation, account):
    _name_coach(trainee, coach, organisation)
    first = submitted(trainee, account)
    submitted(trainee, account, "Clinic open 9-6")
    coaching.review_approve(draft=first, by=coach)
    assert notifications.notifications_mark_all_read(by=coach) == 1


def test_notices_given_in_a_batch_are_inserted_in_one_statement(
    trainee, coach, django_assert_num_queries
):
    from coaching.models import Notification
    from coaching.notifications import notices_in_one_insert, notify

    with django_assert_num_queries(1), notices_in_one_insert():
        for number in range(3):
            notify(users=[trainee], kind=Notification.Kind.PUBLICATION, message=f"Post {number}")
            notify(users=[coach], kind=Notification.Kind.PUBLICATION, message=f"Post {number}")
    assert Notification.objects.filter(kind=Notification.Kind.PUBLICATION).count() == 6
