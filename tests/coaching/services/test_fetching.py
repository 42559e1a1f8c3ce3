"""Fetching the real account's inbox, on each platform's double over real HTTP: every page
since the cursor stored once, duplicates counted, deleted posts coped with, the risk
checks' patient-detail findings kept, a 429's reset waited out, failures kept in the
cursor (which stays put), and accounts that must not be read left alone."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from coaching.models import AuditEvent, InboxCursor, InboxItem, Lockdown
from coaching.services import fetching
from coaching.services.fetching import fetchable_accounts, inbox_fetch
from sandbox.models import WorkplaceAccount

pytestmark = pytest.mark.django_db

PLATFORMS = pytest.mark.parametrize("platform_account", ["x", "mastodon", "bluesky"], indirect=True)
NHS_NUMBER_POST = "my mum was admitted on Tuesday, her NHS number is 999 000 0018"


def mention(platform: str, double: Any, account: WorkplaceAccount, text: str, n: int = 0) -> str:
    """Someone from the public mentions the account; the post's remote id as stored."""
    if platform == "x":
        return str(double.add_mention(account.handle, author=f"member_{n % 7}", text=text))
    if platform == "mastodon":
        return str(double.add_mention(account.handle, author=f"member_{n % 7}", text=text)[0])
    return str(double.add_mention(account.handle, author=f"member-{n % 7}.test", text=text))


def delete(platform: str, double: Any, remote_id: str) -> None:
    if platform == "mastodon":
        double.delete_status(remote_id)
    else:
        double.delete_post(remote_id)


def cursor_of(account: WorkplaceAccount) -> InboxCursor:
    return InboxCursor.objects.get(account=account)


@PLATFORMS
def test_a_fetch_reads_every_page_since_the_cursor_and_stores_each_post_once(platform_account):
    platform, account, double = platform_account
    first = mention(platform, double, account, "Is the walk-in centre open on Sunday?")
    assert inbox_fetch(account=account).stored == 1  # the first read sets the cursor
    # More than one page on every platform (X and Bluesky 100 a page, Mastodon 80).
    ids = [mention(platform, double, account, f"Question number {n}", n) for n in range(130)]
    risky = mention(platform, double, account, NHS_NUMBER_POST)

    result = inbox_fetch(account=account)

    assert (result.outcome, result.stored, result.duplicates) == ("fetched", 131, 0)
    stored = set(InboxItem.objects.filter(account=account).values_list("remote_id", flat=True))
    assert stored == {first, risky, *ids}
    item = InboxItem.objects.get(account=account, remote_id=risky)
    assert "patient-identifier" in {risk["code"] for risk in item.risks}
    assert all(risk["message"] for risk in item.risks)
    assert not InboxItem.objects.get(account=account, remote_id=first).risks
    assert item.author_handle.startswith("member") and item.kind == "mention"
    assert item.text.endswith(NHS_NUMBER_POST) and item.posted_at is not None
    cursor = cursor_of(account)
    assert (cursor.fetched_total, cursor.duplicates_total, cursor.error) == (132, 0, "")

    again = inbox_fetch(account=account)

    assert (again.outcome, again.stored, again.duplicates) == ("fetched", 0, 0)
    assert InboxItem.objects.filter(account=account).count() == 132


@PLATFORMS
def test_posts_the_platform_hands_back_again_are_counted_not_stored(platform_account):
    platform, account, double = platform_account
    mention(platform, double, account, "First")
    inbox_fetch(account=account)
    old_since = cursor_of(account).since_id
    for n in range(12):
        mention(platform, double, account, f"Later {n}", n)
    inbox_fetch(account=account)
    # The cursor goes back (a restored backup, a lost update): the platform sends the
    # same twelve posts again.
    InboxCursor.objects.filter(account=account).update(since_id=old_since)

    result = inbox_fetch(account=account)

    assert (result.stored, result.duplicates) == (0, 12)
    assert InboxItem.objects.filter(account=account).count() == 13
    assert cursor_of(account).duplicates_total == 12


@PLATFORMS
def test_a_post_deleted_before_the_fetch_is_not_stored_and_nothing_breaks(platform_account):
    platform, account, double = platform_account
    kept = mention(platform, double, account, "Thank you to ward 12")
    gone = mention(platform, double, account, "Oops, wrong account", 1)
    delete(platform, double, gone)

    result = inbox_fetch(account=account)

    assert result.outcome == "fetched" and result.stored == 1
    assert list(InboxItem.objects.values_list("remote_id", flat=True)) == [kept]
    # Mastodon keeps the notification with its status null: skipped, and said so.
    assert result.unreadable == (1 if platform == "mastodon" else 0)


@PLATFORMS
def test_a_rate_limit_waits_until_the_platforms_reset(platform_account):
    platform, account, double = platform_account
    mention(platform, double, account, "First")
    inbox_fetch(account=account)
    since = cursor_of(account).since_id
    mention(platform, double, account, "Second", 1)
    double.inject("429", on="read")
    before = timezone.now()

    result = inbox_fetch(account=account)

    assert result.outcome == "rate_limited"
    cursor = cursor_of(account)
    # The doubles reset rate_limit_reset_seconds (60) after the refused request.
    assert before + dt.timedelta(seconds=50) < cursor.not_before < before + dt.timedelta(minutes=2)
    assert cursor.since_id == since and "Rate limited until" in cursor.error
    assert account not in fetchable_accounts()
    assert inbox_fetch(account=account).outcome == "skipped"
    assert InboxItem.objects.count() == 1

    InboxCursor.objects.filter(account=account).update(not_before=timezone.now())
    after_reset = inbox_fetch(account=account)

    assert after_reset.stored == 1
    assert (cursor_of(account).not_before, cursor_of(account).error) == (None, "")


@PLATFORMS
def test_a_refused_token_is_kept_in_the_cursor_which_stays_put(platform_account):
    platform, account, double = platform_account
    mention(platform, double, account, "First")
    inbox_fetch(account=account)
    since = cursor_of(account).since_id
    mention(platform, double, account, "Second", 1)
    double.inject("401", on="read")

    result = inbox_fetch(account=account)

    assert result.outcome == "failed"
    cursor = cursor_of(account)
    assert cursor.since_id == since and cursor.error.startswith("AuthFailed: ")
    account.refresh_from_db()
    assert account.status == WorkplaceAccount.Status.NEEDS_RECONNECT
    assert account not in fetchable_accounts()
    assert (
        AuditEvent.objects.filter(
            account=account, action=AuditEvent.Action.INBOX_FETCH_FAILED
        ).count()
        == 1
    )
    assert InboxItem.objects.count() == 1


@pytest.mark.parametrize("platform_account", ["x"], indirect=True)
def test_a_failure_that_persists_is_audited_once(platform_account):
    _, account, double = platform_account
    double.inject("5xx-before", "5xx-before", on="read")

    assert inbox_fetch(account=account).outcome == "failed"
    assert inbox_fetch(account=account).outcome == "failed"
    assert inbox_fetch(account=account).outcome == "fetched"

    failures = AuditEvent.objects.filter(action=AuditEvent.Action.INBOX_FETCH_FAILED)
    assert failures.count() == 1
    assert cursor_of(account).error == ""


@pytest.mark.parametrize("platform_account", ["x"], indirect=True)
def test_a_locked_down_account_is_never_read(platform_account, coach):
    platform, account, double = platform_account
    mention(platform, double, account, "Is this account hacked?")
    Lockdown.objects.create(
        organisation=account.organisation, account=account, reason="Hacked", started_by=coach
    )

    result = inbox_fetch(account=account)

    assert (result.outcome, result.reason) == ("skipped", "the account is locked down")
    assert account not in fetchable_accounts()
    assert not InboxItem.objects.exists() and not InboxCursor.objects.exists()


@pytest.mark.parametrize("platform_account", ["x"], indirect=True)
def test_an_account_without_credentials_is_never_read(platform_account):
    platform, account, double = platform_account
    mention(platform, double, account, "Hello?")
    WorkplaceAccount.objects.filter(pk=account.pk).update(access_token="")
    account.refresh_from_db()

    result = inbox_fetch(account=account)

    assert (result.outcome, result.reason) == ("skipped", "the account has no credentials")
    assert not InboxItem.objects.exists()


@pytest.mark.parametrize("platform_account", ["x"], indirect=True)
def test_new_items_are_handed_on_after_commit(
    platform_account, monkeypatch, django_capture_on_commit_callbacks
):
    platform, account, double = platform_account
    heard: list[tuple[WorkplaceAccount, list[int]]] = []
    monkeypatch.setattr(
        fetching,
        "items_arrived",
        lambda *, account, items: heard.append((account, [i.pk for i in items])),
    )
    mention(platform, double, account, "One")
    mention(platform, double, account, "Two", 1)

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        inbox_fetch(account=account)
        assert heard == []  # not before the commit

    assert len(callbacks) == 1
    ((told_account, pks),) = heard
    assert told_account == account
    assert sorted(pks) == sorted(InboxItem.objects.values_list("pk", flat=True))

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        inbox_fetch(account=account)  # nothing new: nobody is told anything

    assert callbacks == [] and len(heard) == 1


@pytest.mark.parametrize("platform_account", ["x"], indirect=True)
def test_replies_keep_the_post_they_answer_and_their_conversation(platform_account):
    _, account, double = platform_account
    root = double.add_mention(account.handle, author="member_1", text="Where do I park?")
    answer = double.add_mention(
        account.handle, author="member_2", text="Same question here", in_reply_to=root
    )
    quote = double.add_mention(
        account.handle, author="member_3", text="Look at this", quote_of=root
    )
    double.delete_post(root)  # the post answered is gone: the answer still says which

    inbox_fetch(account=account)

    reply = InboxItem.objects.get(remote_id=answer)
    assert (reply.kind, reply.in_reply_to_remote_id, reply.conversation_id) == (
        "reply",
        root,
        root,
    )
    assert InboxItem.objects.get(remote_id=quote).kind == "quote"
    assert not InboxItem.objects.filter(remote_id=root).exists()


@pytest.mark.parametrize("platform_account", ["x"], indirect=True)
def test_storing_takes_as_many_queries_for_many_items_as_for_few(platform_account):
    _, account, double = platform_account
    mention("x", double, account, "First")
    inbox_fetch(account=account)
    counts = []
    for burst in (3, 90):
        for n in range(burst):
            mention("x", double, account, f"Burst {burst} number {n}", n)
        with CaptureQueriesContext(connection) as captured:
            assert inbox_fetch(account=account).stored == burst
        counts.append(len(captured.captured_queries))

    assert counts[0] == counts[1]


@pytest.mark.parametrize(
    ("url", "kept"),
    [
        ("https://mastodon.example/@amara/1", True),
        ("javascript:alert(1)", False),
        ("https://elsewhere.example/" + "a" * 500, False),
        ("", False),
    ],
)
def test_a_posts_link_is_kept_only_when_it_is_a_web_address_that_fits(url, kept):
    from coaching.services.fetching import _safe_url

    assert _safe_url(url) == (url if kept else "")
