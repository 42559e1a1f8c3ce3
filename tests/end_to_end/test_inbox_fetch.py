"""The inbox fetch end to end: the task the beat names, sent through the real Redis to a
real Celery worker, fans out one fetch per readable account, which reads the X double
over HTTP and stores each mention once, with its risk flag."""

import pytest
from django.conf import settings

from coaching.models import InboxCursor, InboxItem, Lockdown
from sandbox.celery import app
from tests.factories import wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_beat_task_fetches_each_readable_account_on_a_worker(
    celery_worker, x_double, account, other_account, coach
):
    (entry,) = [
        e for e in settings.CELERY_BEAT_SCHEDULE.values() if e["task"].endswith("fetch_inboxes")
    ]
    assert entry["schedule"] == 60
    risky = x_double.add_mention(
        account.handle,
        author="margaret_w1950",
        text="my mum Margaret Wilson was admitted with sepsis, NHS number 999 000 0018",
    )
    plain = x_double.add_mention(account.handle, author="sam_in_leeds", text="Open Saturday?")
    # Another organisation's account, locked down: never read (no fetch, so no cursor).
    Lockdown.objects.create(
        organisation=other_account.organisation,
        account=other_account,
        reason="Hacked",
        started_by=coach,
    )

    app.send_task(entry["task"])

    wait_for(lambda: InboxItem.objects.count() == 2 and InboxCursor.objects.exists())
    stored = {item.remote_id: item for item in InboxItem.objects.all()}
    assert set(stored) == {risky, plain}
    assert {risk["code"] for risk in stored[risky].risks} >= {"patient-identifier"}
    assert stored[plain].risks == []
    cursor = InboxCursor.objects.get(account=account)
    assert cursor.since_id == plain  # the newest
    assert not InboxCursor.objects.filter(account=other_account).exists()

    app.send_task(entry["task"])  # again: nothing new, nothing stored twice

    wait_for(lambda: InboxCursor.objects.get(account=account).fetched_at != cursor.fetched_at)
    assert InboxItem.objects.count() == 2
    assert InboxCursor.objects.get(account=account).duplicates_total == 0
