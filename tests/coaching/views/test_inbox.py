"""The inbox pages (coaching/views/inbox.py): the list and its filters, pages and htmx
fragment with a flat query count; one item with its conversation; the actions on an item;
the account's owner and cover pages; the header's covering line."""

import datetime as dt
import re

import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from coaching.models import AccountCover, InboxItem, Publication
from coaching.selectors.inbox import INBOX_PAGE_SIZE, PATIENT_DETAILS_WARNING
from sandbox.models import WorkplaceAccount
from tests import builders, factories
from tests.factories import InboxItemFactory, signed_in

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
DAY = dt.timedelta(days=1)


def shown(response):
    """The inbox items on the page, by their element ids, in order."""
    return [int(pk) for pk in re.findall(r'id="inbox-item-(\d+)"', response.content.decode())]


def messages_of(response):
    return [str(m) for m in get_messages(response.wsgi_request)]


@pytest.fixture
def as_coach(client, coach):
    return signed_in(client, coach)


# The list and its filters ---------------------------------------------------------------------


def test_the_list_shows_open_items_newest_first(as_coach, account):
    now = timezone.now()
    old = InboxItemFactory(account=account, posted_at=now - dt.timedelta(hours=3))
    new = InboxItemFactory(account=account, posted_at=now)
    InboxItemFactory(account=account, state=InboxItem.State.DONE)
    response = as_coach.get(reverse("inbox"))
    assert response.status_code == 200
    assert shown(response) == [new.pk, old.pk]
    assert "2 posts." in response.content.decode()


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"state": "done"}, ["done"]),
        ({"state": "no_reply"}, ["no_reply"]),
        ({"state": "any"}, ["open-mine", "open-nobody", "open-reply", "done", "no_reply"]),
        ({"assigned": "me"}, ["open-mine"]),
        ({"assigned": "unassigned"}, ["open-nobody", "open-reply"]),
        ({"kind": "reply"}, ["open-reply"]),
        ({"kind": "reply", "assigned": "me"}, []),
    ],
)
def test_filters(as_coach, account, coach, trainee, query, expected):
    now = timezone.now()
    made = {
        "open-mine": InboxItemFactory(account=account, assigned_to=coach),
        "open-nobody": InboxItemFactory(account=account),
        "open-reply": InboxItemFactory(account=account, kind=InboxItem.Kind.REPLY),
        "done": InboxItemFactory(account=account, state=InboxItem.State.DONE),
        "no_reply": InboxItemFactory(account=account, state=InboxItem.State.NO_REPLY),
    }
    for age, item in enumerate(made.values()):  # newest first, in the order above
        InboxItem.objects.filter(pk=item.pk).update(posted_at=now - dt.timedelta(minutes=age))
    response = as_coach.get(reverse("inbox"), query)
    assert shown(response) == [made[name].pk for name in expected]


def test_the_account_filter(as_coach, account, organisation):
    second = factories.AccountFactory(organisation=organisation, handle="TestBoardTwo")
    InboxItemFactory(account=account)
    theirs = InboxItemFactory(account=second)
    response = as_coach.get(reverse("inbox"), {"account": second.pk})
    assert shown(response) == [theirs.pk]


@pytest.mark.parametrize(
    "query",
    [
        {"state": "everything"},
        {"kind": "<script>"},
        {"account": "99999999"},
        {"account": "x"},
        {"assigned": "them"},
        {"page": "abc"},
        {"page": "9999"},
    ],
)
def test_bad_filters_are_reported_and_ignored_never_a_500(as_coach, account, query):
    item = InboxItemFactory(account=account)
    response = as_coach.get(reverse("inbox"), query)
    assert response.status_code == 200
    assert shown(response) == [item.pk]
    if "page" not in query:
        assert "There is a problem with the filters" in response.content.decode()
    assert "<script>" not in response.content.decode().split("</header>")[1]


def test_another_organisations_account_is_not_a_choice_and_filters_nothing_in(
    as_coach, account, other_account
):
    InboxItemFactory(account=other_account)
    response = as_coach.get(reverse("inbox"), {"account": other_account.pk, "state": "any"})
    assert shown(response) == []
    assert "ElsewhereCouncil" not in response.content.decode()


def test_pages_of_twenty(as_coach, account):
    now = timezone.now()
    items = [
        InboxItemFactory(account=account, posted_at=now - dt.timedelta(minutes=n))
        for n in range(INBOX_PAGE_SIZE + 3)
    ]
    first = as_coach.get(reverse("inbox"))
    assert shown(first) == [i.pk for i in items[:INBOX_PAGE_SIZE]]
    assert "Page 1 of 2" in first.content.decode()
    second = as_coach.get(reverse("inbox"), {"page": 2})
    assert shown(second) == [i.pk for i in items[INBOX_PAGE_SIZE:]]


def make_items(account, people, n):
    """Items of every shape a row can show: assigned to different people, handled, gone,
    flagged, answering the account's own post."""
    now = timezone.now()
    for i in range(n):
        InboxItemFactory(
            account=account,
            assigned_to=people[i % len(people)],
            kind=[InboxItem.Kind.MENTION, InboxItem.Kind.REPLY][i % 2],
            in_reply_to_remote_id="1700" if i % 3 == 0 else "",
            risks=[{"code": "patient-identifier", "message": "An NHS number"}] if i % 4 else [],
            gone_at=now if i % 5 == 0 else None,
            posted_at=now - dt.timedelta(minutes=i),
        )


def count_queries(client, url, **headers):
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url, headers=headers).status_code == 200
    return len(captured)


@pytest.mark.parametrize("htmx", [False, True])
def test_the_query_count_stays_flat_as_items_grow(
    as_coach, account, coach, trainee, second_coach, htmx
):
    headers = {"HX-Request": "true"} if htmx else {}
    url = reverse("inbox") + "?state=any"
    make_items(account, [coach, trainee], 2)
    few = count_queries(as_coach, url, **headers)
    make_items(account, [coach, trainee, second_coach], 30)
    assert count_queries(as_coach, url, **headers) == few


def test_the_page_count_is_what_it_is(as_coach, account, coach, trainee):
    # The full page: the session and user, standings; the accounts, the count, the people
    # to give to, the items, who is on (owners, rota); the header's unread count, covering
    # line and standing stops; and the idle timeout's save of the session (3).
    make_items(account, [coach, trainee], 5)
    assert count_queries(as_coach, reverse("inbox")) == 15


def test_the_htmx_fragment_is_only_the_list_and_varies(as_coach, account):
    item = InboxItemFactory(account=account)
    response = as_coach.get(reverse("inbox"), headers={"HX-Request": "true"})
    body = response.content.decode()
    assert body.lstrip().startswith('<div id="inbox-list"')
    assert "<header" not in body and shown(response) == [item.pk]
    assert "HX-Request" in response["Vary"]


def test_a_row_shows_flags_gone_and_the_post_it_answers(as_coach, account, trainee, coach):
    publication = builders.approved(trainee, coach, account, "Our flu clinics open on Monday")
    Publication.objects.filter(pk=publication.pk).update(
        status=Publication.Status.PUBLISHED, remote_id="1700", published_at=timezone.now()
    )
    InboxItemFactory(
        account=account,
        kind=InboxItem.Kind.REPLY,
        in_reply_to_remote_id="1700",
        text="My mum, NHS no 999 200 2972, was turned away",
        risks=[{"code": "patient-identifier", "message": "It has what looks like an NHS number."}],
        gone_at=timezone.now(),
    )
    body = as_coach.get(reverse("inbox")).content.decode()
    assert PATIENT_DETAILS_WARNING.replace("'", "&#x27;") in body
    assert "It has what looks like an NHS number." in body
    assert "replying to your post “Our flu clinics open on Monday”" in body
    assert "it can no longer be answered" in body


# What a trainee sees -----------------------------------------------------------------------------


def test_a_trainee_sees_only_what_is_given_to_them_and_no_actions(
    client, account, trainee, other_trainee
):
    mine = InboxItemFactory(account=account, assigned_to=trainee)
    InboxItemFactory(account=account, assigned_to=other_trainee)
    InboxItemFactory(account=account)
    response = signed_in(client, trainee).get(reverse("inbox"))
    assert shown(response) == [mine.pk]
    body = response.content.decode()
    assert "You see the posts given to you." in body
    assert reverse("inbox_assign", args=[mine.pk]) not in body
    assert "Mark done" not in body


def test_the_header_links_the_inbox_for_members(client, trainee):
    body = signed_in(client, trainee).get(reverse("timeline")).content.decode()
    assert f'href="{reverse("inbox")}"' in body


# One item and its conversation --------------------------------------------------------------


def test_the_item_page_shows_the_conversation_around_it(as_coach, account, trainee, coach):
    now = timezone.now()
    publication = builders.approved(trainee, coach, account, "Flu clinics open Monday")
    Publication.objects.filter(pk=publication.pk).update(
        status=Publication.Status.PUBLISHED,
        remote_id="1700",
        published_at=now - dt.timedelta(hours=2),
    )
    first = InboxItemFactory(
        account=account,
        in_reply_to_remote_id="1700",
        conversation_id="1700",
        text="Which clinics?",
        posted_at=now - dt.timedelta(hours=1),
    )
    item = InboxItemFactory(
        account=account,
        in_reply_to_remote_id=first.remote_id,
        conversation_id="1700",
        text="Same question here",
        posted_at=now,
    )
    InboxItemFactory(account=account, text="Unrelated", conversation_id="999")
    response = as_coach.get(reverse("inbox_item", args=[item.pk]))
    body = response.content.decode()
    conversation = body.split('id="conversation-title"')[1]
    assert conversation.index("Flu clinics open Monday") < conversation.index("Which clinics?")
    assert conversation.index("Which clinics?") < conversation.index("Same question here")
    assert "Unrelated" not in body
    assert "The account's post" in conversation


def test_the_item_pages_query_count_stays_flat_as_its_conversation_grows(as_coach, account):
    def conversation_of(n):
        items = [
            InboxItemFactory(account=account, conversation_id=f"c{n}", in_reply_to_remote_id="1")
            for _ in range(n)
        ]
        return reverse("inbox_item", args=[items[-1].pk])

    short = count_queries(as_coach, conversation_of(2))
    assert count_queries(as_coach, conversation_of(25)) == short


def test_the_item_page_has_the_answer_actions_slot(as_coach, account):
    item = InboxItemFactory(account=account)
    response = as_coach.get(reverse("inbox_item", args=[item.pk]))
    assert "coaching/_answer_actions.html" in [t.name for t in response.templates]


def test_an_unknown_item_is_not_found(as_coach):
    assert as_coach.get(reverse("inbox_item", args=[10**17])).status_code == 404


# Actions ------------------------------------------------------------------------------------------


def test_give_to_me_and_back_to_the_filtered_list(as_coach, account, coach):
    item = InboxItemFactory(account=account)
    back = reverse("inbox") + "?kind=mention&assigned=unassigned"
    response = as_coach.post(reverse("inbox_assign", args=[item.pk]), {"to": "me", "back": back})
    assert response.status_code == 302 and response["Location"] == back
    assert InboxItem.objects.get(pk=item.pk).assigned_to == coach
    assert messages_of(response) == [f"@{item.author_handle}'s post is now with you."]


def test_give_to_a_trainee(as_coach, account, trainee):
    item = InboxItemFactory(account=account)
    response = as_coach.post(reverse("inbox_assign", args=[item.pk]), {"to": str(trainee.pk)})
    assert response["Location"] == reverse("inbox_item", args=[item.pk])
    assert InboxItem.objects.get(pk=item.pk).assigned_to == trainee


@pytest.mark.parametrize("to", ["abc", "99999999", "1" * 30])
def test_give_to_someone_not_on_the_list_says_so(as_coach, account, to, outside_coach):
    item = InboxItemFactory(account=account)
    response = as_coach.post(reverse("inbox_assign", args=[item.pk]), {"to": to})
    assert response.status_code == 302
    assert messages_of(response) == ["Choose someone from the organisation from the list."]
    assert InboxItem.objects.get(pk=item.pk).assigned_to is None


def test_give_to_someone_of_another_organisation_is_refused(as_coach, account, outside_coach):
    item = InboxItemFactory(account=account)
    as_coach.post(reverse("inbox_assign", args=[item.pk]), {"to": str(outside_coach.pk)})
    assert InboxItem.objects.get(pk=item.pk).assigned_to is None


@pytest.mark.parametrize("back", ["https://evil.example/", "//evil.example/inbox/", "/queue/"])
def test_back_goes_only_to_the_inbox(as_coach, account, back):
    item = InboxItemFactory(account=account)
    response = as_coach.post(reverse("inbox_item_state", args=[item.pk, "done"]), {"back": back})
    assert response["Location"] == reverse("inbox_item", args=[item.pk])


def test_done_no_reply_and_reopen(as_coach, account, coach):
    item = InboxItemFactory(account=account)
    url = lambda action: reverse("inbox_item_state", args=[item.pk, action])  # noqa: E731
    as_coach.post(url("done"))
    assert InboxItem.objects.get(pk=item.pk).state == InboxItem.State.DONE
    again = as_coach.post(url("no-reply"))
    assert again.status_code == 303
    assert messages_of(again)[-1] == "This post was already marked done."
    as_coach.post(url("reopen"))
    assert InboxItem.objects.get(pk=item.pk).state == InboxItem.State.OPEN
    as_coach.post(url("no-reply"))
    assert InboxItem.objects.get(pk=item.pk).state == InboxItem.State.NO_REPLY


def test_an_unknown_action_is_not_found(as_coach, account):
    item = InboxItemFactory(account=account)
    assert as_coach.post(f"/inbox/{item.pk}/delete/").status_code == 404


# The account's owner and cover ------------------------------------------------------------------


def test_an_admin_names_the_owner_on_the_accounts_page(client, admin, account, coach):
    client = signed_in(client, admin)
    page = client.get(reverse("accounts")).content.decode()
    assert f'id="owner-{account.pk}"' in page
    response = client.post(
        reverse("account_owner", args=[account.pk]), {"owner": coach.pk, "back": "accounts"}
    )
    assert response["Location"] == reverse("accounts")
    assert WorkplaceAccount.objects.get(pk=account.pk).owner == coach
    assert messages_of(response) == ["@TestBoard is looked after by Cora."]


def test_adding_cover_with_bad_dates_keeps_what_was_typed(as_coach, account, trainee):
    response = as_coach.post(
        reverse("account_cover_add", args=[account.pk]),
        {
            "person": trainee.pk,
            "starts_on": (TODAY + 3 * DAY).isoformat(),
            "ends_on": (TODAY + DAY).isoformat(),
            "handover_note": "Watch the strike thread",
        },
    )
    assert response.status_code == 422
    body = response.content.decode()
    assert "The last day of cover must be on or after the first day." in body
    assert "Watch the strike thread" in body
    assert f'value="{(TODAY + 3 * DAY).isoformat()}"' in body
    assert not AccountCover.objects.exists()


def test_adding_cover_with_a_date_that_is_not_a_date(as_coach, account, trainee):
    response = as_coach.post(
        reverse("account_cover_add", args=[account.pk]),
        {"person": trainee.pk, "starts_on": "next tuesday", "ends_on": "2026-02-30"},
    )
    assert response.status_code == 422
    body = response.content.decode()
    assert "Enter the first day as a date" in body and "Enter the last day as a date" in body


def test_cover_added_shows_on_the_page_the_inbox_and_the_header(
    as_coach, account, coach, trainee, admin
):
    account.owner = admin
    account.save()
    response = as_coach.post(
        reverse("account_cover_add", args=[account.pk]),
        {
            "person": trainee.pk,
            "starts_on": TODAY.isoformat(),
            "ends_on": (TODAY + 2 * DAY).isoformat(),
            "handover_note": "Two threads to watch",
        },
    )
    assert response.status_code == 302
    page = as_coach.get(reverse("account_cover", args=[account.pk])).content.decode()
    assert "Tara is covering until" in page and "Two threads to watch" in page
    end = TODAY + 2 * DAY
    line = f"@TestBoard: Tara is covering until {end.day} {end:%b} (owner: Ada)"
    assert line in as_coach.get(reverse("queue")).content.decode()
    assert "Tara is covering until" in as_coach.get(reverse("inbox")).content.decode()


def test_the_cover_leaves_the_handback_on_the_page(client, account, trainee, coach):
    cover = AccountCover.objects.create(
        account=account, person=trainee, starts_on=TODAY, ends_on=TODAY
    )
    client = signed_in(client, trainee)
    url = reverse("account_cover_handback", args=[account.pk, cover.pk])
    empty = client.post(url, {"note": ""})
    assert empty.status_code == 422
    assert "Write the note for the owner first." in empty.content.decode()
    client.post(url, {"note": "All quiet, one complaint answered."})
    page = client.get(reverse("account_cover", args=[account.pk])).content.decode()
    assert "All quiet, one complaint answered." in page


def test_trainees_see_no_covering_line(client, account, trainee, other_trainee):
    AccountCover.objects.create(
        account=account, person=other_trainee, starts_on=TODAY, ends_on=TODAY
    )
    body = signed_in(client, trainee).get(reverse("timeline")).content.decode()
    assert "is covering until" not in body


def test_a_post_whose_words_retention_removed_says_so(client, coach, account):
    item = InboxItemFactory(account=account, text="", author_name="", state="done")
    client.force_login(coach)
    page = client.get(reverse("inbox_item", args=[item.pk])).content.decode()
    assert "Its words were removed after the organisation's retention period." in page
