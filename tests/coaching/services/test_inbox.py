"""The inbox's state changes (coaching/services/inbox.py): assign, done, needs no reply,
reopen, each audited and refused to the wrong person; new items going to whoever looks
after the account; the alert past the response target, once per item."""

import datetime as dt

import pytest
from django.utils import timezone

from coaching.models import AccountCover, AuditEvent, InboxItem, Notification
from coaching.services import inbox
from sandbox.errors import InvalidInput, InvalidState, NotAllowed
from tests.factories import InboxItemFactory

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()


@pytest.fixture
def item(account):
    return InboxItemFactory(account=account)


def events(action):
    return list(AuditEvent.objects.filter(action=action))


# Assign -------------------------------------------------------------------------------------


def test_a_coach_gives_an_item_to_a_trainee_who_is_told(
    item, coach, trainee, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        inbox.inbox_assign(by=coach, item=item, to=trainee)
    item.refresh_from_db()
    assert item.assigned_to == trainee
    (event,) = events(AuditEvent.Action.INBOX_ASSIGNED)
    assert event.actor == coach and event.account == item.account
    assert "Tara" in event.detail
    notice = Notification.objects.get(user=trainee)
    assert notice.kind == Notification.Kind.INBOX
    assert notice.url.endswith(f"/inbox/{item.pk}/")


def test_giving_an_item_to_yourself_tells_nobody(item, coach, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        inbox.inbox_assign(by=coach, item=item, to=coach)
    assert InboxItem.objects.get(pk=item.pk).assigned_to == coach
    assert not Notification.objects.exists()


def test_an_item_can_be_given_back_to_nobody(item, coach, trainee):
    inbox.inbox_assign(by=coach, item=item, to=trainee)
    inbox.inbox_assign(by=coach, item=item, to=None)
    assert InboxItem.objects.get(pk=item.pk).assigned_to is None
    assert "to nobody" in events(AuditEvent.Action.INBOX_ASSIGNED)[0].detail


def test_an_item_cannot_go_to_someone_outside_the_organisation(item, coach, outside_coach):
    with pytest.raises(InvalidInput, match="from the organisation"):
        inbox.inbox_assign(by=coach, item=item, to=outside_coach)
    assert InboxItem.objects.get(pk=item.pk).assigned_to is None
    assert not events(AuditEvent.Action.INBOX_ASSIGNED)


@pytest.mark.parametrize("who", ["trainee", "outside_coach"])
def test_only_the_organisations_staff_assign(request, item, who, coach):
    with pytest.raises(NotAllowed):
        inbox.inbox_assign(by=request.getfixturevalue(who), item=item, to=coach)
    assert not events(AuditEvent.Action.INBOX_ASSIGNED)


# Done, needs no reply, reopen ---------------------------------------------------------------


def test_done_records_who_and_when_and_is_audited(item, coach):
    inbox.inbox_done(by=coach, item=item)
    item.refresh_from_db()
    assert item.state == InboxItem.State.DONE
    assert item.handled_by == coach and item.handled_at is not None
    assert len(events(AuditEvent.Action.INBOX_DONE)) == 1


def test_closing_an_item_resolves_what_people_were_told_of_it(
    item, coach, trainee, django_capture_on_commit_callbacks
):
    other = InboxItemFactory(account=item.account)
    with django_capture_on_commit_callbacks(execute=True):
        inbox.inbox_assign(by=coach, item=item, to=trainee)
        inbox.inbox_assign(by=coach, item=other, to=trainee)
    inbox.inbox_no_reply(by=coach, item=item)
    resolved = dict(Notification.objects.values_list("url", "resolved_at"))
    assert resolved[f"/inbox/{item.pk}/"] is not None
    assert resolved[f"/inbox/{other.pk}/"] is None


def test_needs_no_reply_then_reopen(item, admin):
    inbox.inbox_no_reply(by=admin, item=item)
    assert InboxItem.objects.get(pk=item.pk).state == InboxItem.State.NO_REPLY
    inbox.inbox_reopen(by=admin, item=item)
    item.refresh_from_db()
    assert item.state == InboxItem.State.OPEN
    assert item.handled_by is None and item.handled_at is None
    assert len(events(AuditEvent.Action.INBOX_NO_REPLY)) == 1
    assert len(events(AuditEvent.Action.INBOX_REOPENED)) == 1


def test_a_second_close_is_refused_and_says_why(item, coach, second_coach):
    stale = InboxItem.objects.select_related("account").get(pk=item.pk)
    inbox.inbox_done(by=coach, item=item)
    with pytest.raises(InvalidState, match="already marked done"):
        inbox.inbox_no_reply(by=second_coach, item=stale)
    assert InboxItem.objects.get(pk=item.pk).handled_by == coach
    assert not events(AuditEvent.Action.INBOX_NO_REPLY)


def test_an_open_item_cannot_be_reopened(item, coach):
    with pytest.raises(InvalidState, match="already needs an answer"):
        inbox.inbox_reopen(by=coach, item=item)


@pytest.mark.parametrize("change", [inbox.inbox_done, inbox.inbox_no_reply])
@pytest.mark.parametrize("who", ["trainee", "outside_coach"])
def test_only_the_organisations_staff_close_an_item(request, item, who, change, trainee):
    item.assigned_to = trainee  # even the trainee it is given to
    item.save()
    with pytest.raises(NotAllowed):
        change(by=request.getfixturevalue(who), item=item)
    assert InboxItem.objects.get(pk=item.pk).state == InboxItem.State.OPEN


# New items go to whoever looks after the account ---------------------------------------------


def test_new_items_go_to_the_owner_when_nobody_covers(
    account, coach, django_capture_on_commit_callbacks
):
    account.owner = coach
    account.save()
    items = [InboxItemFactory(account=account) for _ in range(2)]
    with django_capture_on_commit_callbacks(execute=True):
        inbox.items_arrived(account=account, items=items)
    assert set(InboxItem.objects.values_list("assigned_to", flat=True)) == {coach.pk}
    (notice,) = Notification.objects.filter(user=coach)
    assert notice.kind == Notification.Kind.INBOX
    assert "2 new posts to @TestBoard" in notice.message


def test_new_items_go_to_the_cover_on_the_rota_today(
    account, coach, trainee, django_capture_on_commit_callbacks
):
    account.owner = coach
    account.save()
    AccountCover.objects.create(account=account, person=trainee, starts_on=TODAY, ends_on=TODAY)
    item = InboxItemFactory(account=account, text="Is the clinic open?")
    with django_capture_on_commit_callbacks(execute=True):
        inbox.items_arrived(account=account, items=[item])
    assert InboxItem.objects.get(pk=item.pk).assigned_to == trainee
    (notice,) = Notification.objects.filter(user=trainee)
    assert "Is the clinic open?" in notice.message
    assert not Notification.objects.filter(user=coach).exists()


def test_new_items_wait_unassigned_when_nobody_looks_after_the_account(account):
    item = InboxItemFactory(account=account)
    inbox.items_arrived(account=account, items=[item])
    assert InboxItem.objects.get(pk=item.pk).assigned_to is None
    assert not Notification.objects.exists()


def test_an_owner_who_has_left_gets_nothing(account, coach):
    from sandbox.models import Membership

    account.owner = coach
    account.save()
    Membership.objects.filter(user=coach).update(is_active=False)
    item = InboxItemFactory(account=account)
    inbox.items_arrived(account=account, items=[item])
    assert InboxItem.objects.get(pk=item.pk).assigned_to is None
    assert not Notification.objects.exists()


def test_an_item_already_given_to_someone_keeps_them(account, coach, trainee):
    account.owner = coach
    account.save()
    item = InboxItemFactory(account=account, assigned_to=trainee)
    inbox.items_arrived(account=account, items=[item])
    assert InboxItem.objects.get(pk=item.pk).assigned_to == trainee


# Past the response target ----------------------------------------------------------------------


def test_an_open_item_past_the_target_alerts_whoever_is_on_once(
    account, organisation, coach, trainee
):
    organisation.response_target_hours = 4
    organisation.save()
    account.owner = coach
    account.save()
    now = timezone.now()
    late = InboxItemFactory(account=account, posted_at=now - dt.timedelta(hours=5))
    InboxItemFactory(account=account, posted_at=now - dt.timedelta(hours=3))  # in time
    InboxItemFactory(  # answered
        account=account, posted_at=now - dt.timedelta(hours=9), state=InboxItem.State.DONE
    )
    InboxItemFactory(account=account, posted_at=now - dt.timedelta(hours=9), gone_at=now)
    AccountCover.objects.create(account=account, person=trainee, starts_on=TODAY, ends_on=TODAY)

    assert inbox.inbox_overdue_alerts(now=now) == 1
    (notice,) = Notification.objects.all()
    assert notice.user == trainee and notice.kind == Notification.Kind.INBOX_OVERDUE
    assert "more than 4 hours" in notice.message
    assert InboxItem.objects.get(pk=late.pk).overdue_told_at == now
    # The next beat, and one after the item is closed and reopened, say nothing more.
    assert inbox.inbox_overdue_alerts(now=now + dt.timedelta(minutes=5)) == 0
    inbox.inbox_done(by=coach, item=late)
    inbox.inbox_reopen(by=coach, item=late)
    assert inbox.inbox_overdue_alerts(now=now + dt.timedelta(minutes=10)) == 0
    assert Notification.objects.count() == 1


def test_each_organisation_has_its_own_target(account, other_account, coach, outside_coach):
    other_account.organisation.response_target_hours = 12
    other_account.organisation.save()
    account.owner, other_account.owner = coach, outside_coach
    account.save()
    other_account.save()
    now = timezone.now()
    InboxItemFactory(account=account, posted_at=now - dt.timedelta(hours=6))
    InboxItemFactory(account=other_account, posted_at=now - dt.timedelta(hours=6))
    assert inbox.inbox_overdue_alerts(now=now) == 1
    assert Notification.objects.get().user == coach


def test_an_account_nobody_looks_after_is_alerted_once_someone_does(account, coach):
    now = timezone.now()
    item = InboxItemFactory(account=account, posted_at=now - dt.timedelta(hours=6))
    assert inbox.inbox_overdue_alerts(now=now) == 0
    assert InboxItem.objects.get(pk=item.pk).overdue_told_at is None
    account.owner = coach
    account.save()
    assert inbox.inbox_overdue_alerts(now=now) == 1
    assert Notification.objects.get().user == coach


def test_an_item_someone_else_already_claimed_is_not_told_again(account, coach, monkeypatch):
    # Two beats at once: the other beat tells the item between this one's read and its
    # update, so this one's conditional update changes nothing.
    account.owner = coach
    account.save()
    now = timezone.now()
    item = InboxItemFactory(account=account, posted_at=now - dt.timedelta(hours=6))
    read_on_duty = inbox.on_duty_for

    def the_other_beat_tells_it_meanwhile(*args, **kwargs):
        InboxItem.objects.filter(pk=item.pk).update(overdue_told_at=now)
        return read_on_duty(*args, **kwargs)

    monkeypatch.setattr(inbox, "on_duty_for", the_other_beat_tells_it_meanwhile)
    assert inbox.inbox_overdue_alerts(now=now) == 0
    assert not Notification.objects.exists()


def test_accounts_nobody_looks_after_never_hold_back_others_alerts(
    account, other_account, coach, monkeypatch
):
    monkeypatch.setattr(inbox, "OVERDUE_BATCH", 3)
    now = timezone.now()
    for _ in range(5):  # older than the one below, and more than a batch
        InboxItemFactory(account=other_account, posted_at=now - dt.timedelta(hours=9))
    account.owner = coach
    account.save()
    InboxItemFactory(account=account, posted_at=now - dt.timedelta(hours=6))
    assert inbox.inbox_overdue_alerts(now=now) == 1
    assert Notification.objects.get().user == coach


def test_old_posts_a_first_fetch_brings_wait_the_target_from_the_fetch(account, coach):
    account.owner = coach
    account.save()
    now = timezone.now()
    InboxItemFactory(
        account=account,
        posted_at=now - dt.timedelta(days=3),
        fetched_at=now - dt.timedelta(minutes=5),
    )
    assert inbox.inbox_overdue_alerts(now=now) == 0
    assert inbox.inbox_overdue_alerts(now=now + dt.timedelta(hours=5)) == 1


def test_overdue_email_follows_the_past_target_preference(
    account, coach, mailoutbox, django_capture_on_commit_callbacks
):
    coach.email = "cora@example.org"
    coach.save()
    account.owner = coach
    account.save()
    now = timezone.now()
    InboxItemFactory(account=account, posted_at=now - dt.timedelta(hours=6))
    with django_capture_on_commit_callbacks(execute=True):
        inbox.inbox_overdue_alerts(now=now)
    assert [m.to for m in mailoutbox] == [["cora@example.org"]]
    assert "waited more than 4 hours" in mailoutbox[0].subject


def test_the_beat_task_gives_handovers_and_overdue_alerts(account, organisation, coach, trainee):
    from coaching import tasks

    account.owner = coach
    account.save()
    AccountCover.objects.create(
        account=account, person=trainee, starts_on=TODAY, ends_on=TODAY, handover_note="Hi"
    )
    InboxItemFactory(account=account, posted_at=timezone.now() - dt.timedelta(hours=5))
    assert tasks.inbox_alerts() == 2  # the handover, and the overdue item, both to the cover
    assert set(Notification.objects.values_list("user", "kind")) == {
        (trainee.pk, Notification.Kind.HANDOVER),
        (trainee.pk, Notification.Kind.INBOX_OVERDUE),
    }
    assert tasks.inbox_alerts() == 0


def test_notices_never_repeat_a_post_that_may_hold_a_patients_details(
    account, coach, django_capture_on_commit_callbacks
):
    type(account).objects.filter(pk=account.pk).update(owner=coach)
    account.refresh_from_db()
    risky = InboxItemFactory(
        account=account,
        text="@NHSDemoBoard my mum Jane Smith NHS 943 476 5919 is still waiting",
        risks=[{"code": "nhs-number", "message": "An NHS number"}],
    )
    with django_capture_on_commit_callbacks(execute=True):
        inbox.items_arrived(account=account, items=[risky])
    [notice] = Notification.objects.filter(user=coach, kind=Notification.Kind.INBOX)
    assert "943" not in notice.message and "Jane" not in notice.message
    assert "may hold a patient's details" in notice.message
