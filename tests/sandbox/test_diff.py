import pytest

from coaching import services as coaching
from sandbox import services
from sandbox.diff import word_diff
from tests.factories import PASSWORD


def test_a_changed_word_shows_as_removed_then_added():
    assert word_diff("Clinic opens Monday", "Clinic opens Tuesday") == [
        ("same", "Clinic opens "),
        ("removed", "Monday"),
        ("added", "Tuesday"),
    ]


def test_punctuation_changes_alone():
    assert ("added", ",") in word_diff("Hello all", "Hello, all")


def test_joining_the_runs_gives_back_the_new_text():
    old, new = "Flu jabs at Ward 4 today!", "Flu and Covid jabs at Ward 6 today."
    runs = word_diff(old, new)
    assert "".join(text for op, text in runs if op != "removed") == new
    assert "".join(text for op, text in runs if op != "added") == old


@pytest.mark.django_db
def test_trainee_and_coach_see_what_changed_since_the_review(client, trainee, coach, account):
    draft = services.draft_create(author=trainee, account=account, text="Clinic opens Monday")
    coaching.draft_submit(draft=draft, by=trainee)
    coaching.review_request_changes(draft=draft, by=coach, note="Which clinic?")
    services.draft_edit(draft=draft, by=trainee, text="Ward 4 clinic opens Monday")
    for person, url in [(trainee, f"/drafts/{draft.pk}/"), (coach, f"/review/{draft.pk}/")]:
        client.login(username=person.username, password=PASSWORD)
        body = client.get(url).content.decode()
        assert "Changes since revision 1" in body
        assert '<span class="nhsuk-u-visually-hidden">added: </span>Ward 4 clinic</ins>' in body
