"""The trainee's timeline page (coaching/views/timeline.py): the composer (threads, images and
previews, messages that lose nothing), practice posts and their reactions, answering the
posts of a scenario, and who may see whose timeline."""

import datetime as dt
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape
from redis.exceptions import RedisError

from coaching import feed as timeline_feed
from coaching import fragments
from coaching import services as coaching
from sandbox import services
from sandbox.errors import InvalidInput, NotAllowed
from sandbox.models import (
    Draft,
    Membership,
    PostImage,
    TimelineItem,
)
from tests.builders import ANSWER
from tests.factories import NHS_NUMBER_POST, PASSWORD, signed_in
from tests.sandbox.test_media import photo, png_declaring

PLEDGE = "£1 for every retweet this gets, we'll donate to the hospital charity!"


# Practice posts and their reactions -------------------------------------------------------


@pytest.mark.django_db
def test_reactions_show_only_once_they_have_arrived(client, trainee, account):
    post = services.practice_post(
        author=trainee, account=account, text="Is the walk-in centre open today?"
    )
    services.audience_simulate(item_id=post.pk)
    client.login(username=trainee.username, password=PASSWORD)
    url = reverse("timeline_item", args=[post.pk])
    first = post.children.order_by("appear_at").first()
    assert first is not None
    # As the page shows it: a reply like "I'd ask at reception" has its apostrophe escaped.
    shown = escape(first.text[:40])
    assert shown not in client.get(url).content.decode()
    TimelineItem.objects.filter(pk=first.pk).update(appear_at=timezone.now())
    assert shown in client.get(url, headers={"HX-Request": "true"}).content.decode()


@pytest.mark.django_db
def test_the_pledge_counts_like_a_viral_post_an_hour_later(client, trainee, account):
    post = services.practice_post(author=trainee, account=account, text=PLEDGE)
    services.audience_simulate(item_id=post.pk)
    TimelineItem.objects.filter(pk=post.pk).update(appear_at=timezone.now() - dt.timedelta(hours=1))
    client.login(username=trainee.username, password=PASSWORD)
    body = client.get(reverse("timeline")).content.decode()
    assert 'K</span> <span class="sp-count-label">reposts' in body  # thousands, shown as X does


@pytest.mark.django_db
def test_the_composer_practise_button_posts_to_the_timeline(client, trainee, account):
    client.login(username=trainee.username, password=PASSWORD)
    response = client.post(
        reverse("timeline"),
        {"text": "Practice makes perfect", "account": account.pk, "practise": "1"},
    )
    assert response.status_code == 302
    assert TimelineItem.objects.get(owner=trainee, parent=None).text == "Practice makes perfect"


# Isolation, in both directions -------------------------------------------------------------------


@pytest.mark.django_db
def test_nobody_else_sees_a_trainees_timeline(
    client, trainee, other_trainee, coach, outside_coach, account
):
    post = services.practice_post(author=trainee, account=account, text="My own practice")
    for person, expected in [
        (other_trainee, 404),
        (outside_coach, 404),
        (coach, 200),
        (trainee, 200),
    ]:
        client.login(username=person.username, password=PASSWORD)
        assert client.get(reverse("timeline_item", args=[post.pk])).status_code == expected
        body = client.get(reverse("timeline")).content.decode()
        if person != trainee:
            assert "My own practice" not in body  # never in anyone else's own feed
    client.login(username=other_trainee.username, password=PASSWORD)
    assert client.get(reverse("trainee_timeline", args=[trainee.pk])).status_code == 404
    client.login(username=outside_coach.username, password=PASSWORD)
    assert client.get(reverse("trainee_timeline", args=[trainee.pk])).status_code == 404
    client.login(username=coach.username, password=PASSWORD)
    assert (
        "My own practice"
        in client.get(reverse("trainee_timeline", args=[trainee.pk])).content.decode()
    )


@pytest.mark.django_db
def test_a_trainee_cannot_see_another_trainees_timeline_the_other_way(
    client, trainee, other_trainee, account
):
    services.practice_post(author=other_trainee, account=account, text="Otto's practice")
    client.login(username=trainee.username, password=PASSWORD)
    assert "Otto's practice" not in client.get(reverse("timeline")).content.decode()


@pytest.mark.django_db
def test_the_feed_takes_the_same_number_of_queries_however_long_it_is(
    client, trainee, account, django_assert_max_num_queries
):

    client.login(username=trainee.username, password=PASSWORD)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            client.get(reverse("timeline"), headers={"HX-Request": "true"})
        return len(captured)

    services.practice_post(author=trainee, account=account, text="One")
    few = queries()
    for n in range(30):
        post = services.practice_post(author=trainee, account=account, text=f"Post {n}")
        services.audience_simulate(item_id=post.pk)
    assert queries() == few


@pytest.mark.django_db
def test_the_whole_page_takes_the_same_number_of_queries_with_many_drafts(
    client, trainee, coach, account
):
    client.login(username=trainee.username, password=PASSWORD)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(reverse("timeline")).status_code == 200
        return len(captured)

    def drafts(n: int) -> None:
        for i in range(n):
            draft = services.draft_create(author=trainee, account=account, text=f"Draft {i}")
            coaching.draft_submit(draft=draft, by=trainee)

    drafts(1)
    few = queries()
    drafts(12)
    assert queries() == few


@pytest.mark.django_db
def test_the_polled_feed_skips_the_headers_queries(client, trainee, account):
    services.draft_create(author=trainee, account=account, text="Polled")
    client.login(username=trainee.username, password=PASSWORD)

    def tables(**headers: str) -> str:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(reverse("timeline"), headers=headers).status_code == 200
        return " ".join(query["sql"] for query in captured)

    # The page's header shows emergency stops; the fragment polled every 10 s does not.
    assert "coaching_publishingstop" in tables()
    assert "coaching_publishingstop" not in tables(HX_Request="true")


# The feed's entries are kept in the cache ------------------------------------------------


@pytest.mark.django_db
def test_an_edited_post_shows_its_new_text_not_the_cached_one(client, trainee, account):
    draft = services.draft_create(author=trainee, account=account, text="Clinic opens at 9")
    client.login(username=trainee.username, password=PASSWORD)
    feed = lambda: client.get(reverse("timeline"), headers={"HX-Request": "true"}).content.decode()  # noqa: E731
    assert "Clinic opens at 9" in feed() and "Clinic opens at 9" in feed()  # now cached
    services.draft_edit(draft=draft, by=trainee, text="Clinic opens at 10")
    again = feed()
    assert "Clinic opens at 10" in again and "Clinic opens at 9" not in again


@pytest.mark.django_db
def test_unchanged_entries_come_from_the_cache(client, trainee, account, monkeypatch):
    services.draft_create(author=trainee, account=account, text="Rendered once")
    practice = services.practice_post(author=trainee, account=account, text="Practised once")
    # Days old, so its audience has settled and its counts no longer move between polls.
    TimelineItem.objects.filter(pk=practice.pk).update(
        appear_at=timezone.now() - dt.timedelta(days=3)
    )
    client.login(username=trainee.username, password=PASSWORD)
    url = reverse("timeline")
    first = client.get(url, headers={"HX-Request": "true"}).content.decode()

    def no_rendering(name: str) -> object:
        raise AssertionError(f"{name} rendered again although nothing changed")

    monkeypatch.setattr(timeline_feed, "get_template", no_rendering)
    second = client.get(url, headers={"HX-Request": "true"}).content.decode()
    assert second == first and "Rendered once" in second and "Practised once" in second


@pytest.mark.django_db
def test_the_feed_still_shows_when_the_cache_is_unreachable(client, trainee, account, monkeypatch):
    services.draft_create(author=trainee, account=account, text="Still here")

    def unreachable(*args: object, **kwargs: object) -> None:
        raise RedisError("connection refused")

    monkeypatch.setattr(fragments.cache, "get_many", unreachable)
    monkeypatch.setattr(fragments.cache, "set_many", unreachable)
    client.login(username=trainee.username, password=PASSWORD)
    assert "Still here" in client.get(reverse("timeline")).content.decode()


@pytest.mark.django_db
def test_a_coach_sees_only_their_organisations_part_of_a_shared_trainees_timeline(
    client, trainee, coach, other_organisation, other_account, account
):
    from sandbox.models import Membership

    # The trainee also belongs to another organisation, whose coach is not ours.
    Membership.objects.create(user=trainee, organisation=other_organisation, role="trainee")
    ours = services.practice_post(author=trainee, account=account, text="For our board")
    theirs = services.practice_post(author=trainee, account=other_account, text="For the council")
    services.draft_create(author=trainee, account=other_account, text="Council draft")
    client.login(username=coach.username, password=PASSWORD)
    body = client.get(reverse("trainee_timeline", args=[trainee.pk])).content.decode()
    assert "For our board" in body
    assert "For the council" not in body and "Council draft" not in body
    assert client.get(reverse("timeline_item", args=[ours.pk])).status_code == 200
    assert client.get(reverse("timeline_item", args=[theirs.pk])).status_code == 404


@pytest.mark.django_db
def test_a_trainee_practises_a_reply_to_a_scenario_post(
    client, trainee, other_trainee, coach, organisation, account
):
    scenario = services.scenario_save(
        by=coach,
        organisation_id=organisation.pk,
        title="Troll",
        description="",
        items=services.parse_scenario_script("0 | wake-up-kelderby | The clinic is a scam"),
    )
    run = services.scenario_start(scenario=scenario, trainee=trainee, by=coach)
    troll = run.items.get()
    client.login(username=trainee.username, password=PASSWORD)
    url = reverse("timeline_item", args=[troll.pk])
    assert "Respond to this post" in client.get(url).content.decode()
    empty = client.post(url, {"text": ""})
    assert empty.status_code == 422 and "empty" in empty.content.decode()
    client.post(url, {"text": "The clinic is run by NHS Kelderby. Details: nhs.uk/flu"})
    reply = TimelineItem.objects.get(parent=troll, persona="")
    assert reply.kind == "reply" and reply.owner == trainee
    assert "The clinic is run by NHS Kelderby" in client.get(url).content.decode()
    # Nobody else can reply into this trainee's timeline, coaches included.
    for person in (other_trainee, coach):
        client.login(username=person.username, password=PASSWORD)
        assert client.post(url, {"text": "Hijack"}).status_code == 404
    assert not TimelineItem.objects.filter(text="Hijack").exists()


# The composer -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_saving_a_draft_shows_it_on_the_timeline(as_trainee, account):
    response = as_trainee.post(reverse("timeline"), {"text": "Hello #NHS", "account": account.pk})
    draft = Draft.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("draft_detail", args=[draft.pk])
    assert draft.status == Draft.Status.DRAFT
    timeline = as_trainee.get(reverse("timeline")).content.decode()
    assert "Hello" in timeline and "sp-entity--hashtag" in timeline


@pytest.mark.django_db
def test_send_to_coach_submits_straight_away(as_trainee, account):
    as_trainee.post(reverse("timeline"), {"text": "Hi", "account": account.pk, "submit": "1"})
    assert Draft.objects.get().status == Draft.Status.SUBMITTED


@pytest.mark.django_db
def test_an_empty_post_gets_a_clear_message(as_trainee, account):
    response = as_trainee.post(reverse("timeline"), {"text": "", "account": account.pk})
    assert response.status_code == 422
    assert "the post is empty" in response.content.decode()
    assert not Draft.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("length", [281, 10_000])
def test_an_over_length_post_is_refused_and_keeps_its_text(as_trainee, account, length):
    text = "Our flu clinic " + "z" * (length - 15)
    response = as_trainee.post(reverse("timeline"), {"text": text, "account": account.pk})
    body = response.content.decode()
    assert response.status_code == 422
    over = length - 280
    assert f"{over} character{'s' if over > 1 else ''} over X" in body
    assert text in body  # nothing the trainee typed is lost
    assert not Draft.objects.exists()


@pytest.mark.django_db
def test_a_forged_account_is_refused(as_trainee, other_account):
    response = as_trainee.post(reverse("timeline"), {"text": "Hi", "account": other_account.pk})
    assert response.status_code == 422
    assert not Draft.objects.exists()


@pytest.mark.django_db
def test_posts_are_escaped(as_trainee, trainee, account):
    services.draft_create(author=trainee, account=account, text="<script>alert(1)</script> & co")
    body = as_trainee.get(reverse("timeline")).content.decode()
    assert "<script>alert(1)</script>" not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; co" in body


def compose(client: Client, account, **fields: object):
    return client.post(
        reverse("timeline"), {"text": "Our new ward", "account": account.pk, **fields}
    )


@pytest.mark.django_db
@pytest.mark.usefixtures("private_media")
def test_a_post_with_an_image_and_alt_text_saves_in_one_go(as_trainee, account):
    response = compose(as_trainee, account, **{"upload-0": photo(), "upload-alt-0": "The desk"})
    draft = Draft.objects.get()
    assert response.status_code == 302
    image = PostImage.objects.get()
    assert image.draft == draft
    assert draft.current_revision.images == [[{"id": image.pk, "alt": "The desk"}]]
    timeline = as_trainee.get(reverse("timeline")).content.decode()
    url = reverse("post_image", args=[image.pk])
    assert f'src="{url}" alt="The desk"' in timeline


@pytest.mark.django_db
@pytest.mark.usefixtures("private_media")
def test_attach_shows_the_image_with_its_alt_box_and_saves_nothing(as_trainee, account):
    response = compose(as_trainee, account, attach="0", **{"upload-0": photo()})
    assert response.status_code == 200
    assert not Draft.objects.exists()
    image = PostImage.objects.get()
    page = response.content.decode()
    assert f'name="image-0" value="{image.pk}"' in page
    assert f'name="alt-0-{image.pk}"' in page
    assert "Our new ward" in page
    # Saving without describing it: a clear message beside the box, text and image kept.
    response = compose(as_trainee, account, **{"image-0": image.pk, f"alt-0-{image.pk}": ""})
    assert response.status_code == 422
    page = response.content.decode()
    assert "Describe this image (alt text)" in page
    assert f'href="#alt-0-{image.pk}"' in page  # in the error summary
    assert "Our new ward" in page and f'value="{image.pk}"' in page
    assert not Draft.objects.exists()
    compose(as_trainee, account, **{"image-0": image.pk, f"alt-0-{image.pk}": "The desk"})
    assert Draft.objects.get().current_revision.images == [[{"id": image.pk, "alt": "The desk"}]]


@pytest.mark.django_db
@pytest.mark.usefixtures("private_media")
@pytest.mark.parametrize(
    ("upload", "message"),
    [
        (SimpleUploadedFile("scan.png", b"%PDF-1.7\n%%EOF\n"), "PDF"),
        (SimpleUploadedFile("bomb.png", png_declaring(50_000, 50_000)), "too large to open safely"),
    ],
)
def test_a_bad_file_gets_a_clear_message_and_loses_nothing(
    as_trainee, trainee, account, upload, message
):
    kept = services.post_image_add(by=trainee, draft=None, upload=photo())
    response = compose(
        as_trainee,
        account,
        **{
            "thread-1": "Second post",
            "image-0": kept.pk,
            f"alt-0-{kept.pk}": "The desk",
            "upload-0": upload,
            "upload-alt-0": "What I typed",
        },
    )
    assert response.status_code == 422
    page = response.content.decode()
    assert message in page
    assert 'href="#upload-0"' in page
    assert "Our new ward" in page and "Second post" in page and "What I typed" in page
    assert f'name="image-0" value="{kept.pk}"' in page and "The desk" in page
    assert not Draft.objects.exists()
    assert PostImage.objects.count() == 1


@pytest.mark.django_db
@pytest.mark.usefixtures("private_media")
def test_a_fifth_image_is_refused_beside_the_field(as_trainee, trainee, account):
    images = [services.post_image_add(by=trainee, draft=None, upload=photo()) for _ in range(4)]
    fields: dict[str, object] = {"image-0": [i.pk for i in images]}
    fields.update({f"alt-0-{i.pk}": "A" for i in images})
    response = compose(as_trainee, account, **fields, **{"upload-0": photo()})
    assert response.status_code == 422
    assert "already has 4 images" in response.content.decode()
    assert PostImage.objects.count() == 4


@pytest.mark.django_db
@pytest.mark.usefixtures("private_media")
def test_removing_an_image_and_a_post_keeps_the_rest_in_place(as_trainee, trainee, account):
    one, two = (services.post_image_add(by=trainee, draft=None, upload=photo()) for _ in range(2))
    fields = {
        "thread-1": "Second",
        "thread-2": "Third",
        "image-1": one.pk,
        f"alt-1-{one.pk}": "On two",
        "image-2": two.pk,
        f"alt-2-{two.pk}": "On three",
    }
    page = compose(as_trainee, account, remove_post="1", **fields).content.decode()
    # Post 3 is now post 2, and its image moved with it.
    assert f'name="image-1" value="{two.pk}"' in page and f'name="alt-1-{two.pk}"' in page
    assert f'value="{one.pk}"' not in page
    page = compose(as_trainee, account, remove_image=f"1-{one.pk}", **fields).content.decode()
    assert f'value="{one.pk}"' not in page and f'name="image-2" value="{two.pk}"' in page


@pytest.mark.django_db
@pytest.mark.usefixtures("private_media")
def test_an_image_on_an_empty_thread_post_is_refused_not_dropped(as_trainee, trainee, account):
    image = services.post_image_add(by=trainee, draft=None, upload=photo())
    response = compose(
        as_trainee, account, **{"thread-1": " ", "image-1": image.pk, f"alt-1-{image.pk}": "A"}
    )
    assert response.status_code == 422
    assert "has an image but no text" in response.content.decode()


@pytest.mark.django_db
@pytest.mark.usefixtures("private_media")
def test_practice_posts_say_images_are_not_supported(as_trainee, trainee, account):
    image = services.post_image_add(by=trainee, draft=None, upload=photo())
    response = compose(
        as_trainee, account, practise="1", **{"image-0": image.pk, f"alt-0-{image.pk}": "A"}
    )
    assert response.status_code == 422
    assert "Practice posts cannot have images yet" in response.content.decode()


@pytest.mark.django_db
@pytest.mark.usefixtures("private_media")
def test_the_composer_previews_without_saving(as_trainee, account):
    response = compose(as_trainee, account, preview="1", **{"thread-1": "And more"})
    assert response.status_code == 200
    page = response.content.decode()
    assert "how it will look on @" in page and "not saved yet" not in page
    assert "Thread of 2 posts" in page
    assert not Draft.objects.exists()


@pytest.mark.django_db
@pytest.mark.usefixtures("private_media")
def test_the_timeline_needs_no_extra_queries_for_images(as_trainee, trainee, account):

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            as_trainee.get(reverse("timeline"))
        return len(queries)

    services.draft_create(author=trainee, account=account, text="Plain")
    plain = count()
    for n in range(3):
        image = services.post_image_add(by=trainee, draft=None, upload=photo())
        services.draft_create(
            author=trainee,
            account=account,
            text=f"Pic {n}",
            images=[[{"id": image.pk, "alt": "A"}]],
        )
    assert count() == plain
    assert (
        len(
            re.findall(
                r'class="sp-media__image"', as_trainee.get(reverse("timeline")).content.decode()
            )
        )
        == 3
    )


@pytest.mark.django_db
def test_send_to_coach_with_a_blocking_finding_lands_on_the_saved_draft(client, trainee, account):
    client.login(username=trainee.username, password=PASSWORD)
    response = client.post(
        reverse("timeline"),
        {"text": NHS_NUMBER_POST, "account": account.pk, "submit": "1"},
        follow=True,
    )
    draft = Draft.objects.get()
    assert draft.status == Draft.Status.DRAFT and draft.text == NHS_NUMBER_POST
    assert response.redirect_chain[-1][0] == reverse("draft_detail", args=[draft.pk])
    assert "Saved as a draft, but not sent." in response.content.decode()


# Quote posts ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_practice_quote_is_a_post_of_its_own_with_the_quoted_post_embedded(
    client, trainee, account, inject
):
    quote = services.practice_post(
        author=trainee, account=account, text="This is not true.", quote_of=inject
    )
    assert (quote.kind, quote.parent, quote.quote_of) == ("quote", None, inject)
    services.audience_simulate(item_id=quote.pk)
    quote.refresh_from_db()
    assert quote.audience is not None  # reactions are simulated like any practice post

    body = signed_in(client, trainee).get(reverse("timeline")).content.decode()
    # In the feed as a post, with the quoted post inside it.
    assert "This is not true." in body
    embedded = body[body.index("This is not true.") :]
    assert 'class="sp-quoted"' in embedded
    assert "@WakeUpKelderby" in embedded[: embedded.index("</article>")]
    # And listed under the quoted post, as X lists quotes.
    conversation = client.get(reverse("timeline_item", args=[inject.pk])).content.decode()
    assert "This is not true." in conversation


@pytest.mark.django_db
def test_quoting_from_the_conversation_page(client, trainee, account, inject):
    url = reverse("timeline_item", args=[inject.pk])
    response = signed_in(client, trainee).post(
        url, {"kind": "quote", "text": "Please check before sharing.", "practise": "1"}
    )
    assert response.status_code == 302
    quote = TimelineItem.objects.get(owner=trainee, kind="quote", persona="")
    assert quote.quote_of == inject and quote.parent is None
    assert not Draft.objects.exists()


@pytest.mark.django_db
def test_a_reply_and_a_quote_at_once_is_refused_clearly(trainee, account, inject):
    with pytest.raises(InvalidInput, match="not both"):
        services.practice_post(
            author=trainee, account=account, text="x", in_reply_to=inject, quote_of=inject
        )


@pytest.mark.django_db
def test_an_unknown_kind_of_answer_keeps_the_text(client, trainee, account, inject):
    url = reverse("timeline_item", args=[inject.pk])
    response = signed_in(client, trainee).post(url, {"kind": "retweet", "text": ANSWER})
    assert response.status_code == 422
    body = response.content.decode()
    assert "Choose a reply or a quote." in body and "nhs.uk/flu" in body
    assert not TimelineItem.objects.filter(persona="").exists()


# Responses drafted for the coach ----------------------------------------------------------


@pytest.mark.django_db
def test_a_response_with_a_blocking_finding_is_saved_but_not_sent(client, trainee, account, inject):
    text = NHS_NUMBER_POST  # a patient detail: a blocking finding
    url = reverse("timeline_item", args=[inject.pk])
    data = {"kind": "reply", "text": text, "submit": "1"}
    response = signed_in(client, trainee).post(url, data, follow=True)
    draft = Draft.objects.get(author=trainee)
    assert draft.status == Draft.Status.DRAFT and draft.text == text
    assert response.redirect_chain[-1][0] == draft.get_absolute_url()
    assert "Saved as a draft, but not sent." in response.content.decode()


@pytest.mark.django_db
def test_a_response_for_the_coach_is_a_draft_that_answers_the_post(
    client, trainee, coach, account, inject
):
    url = reverse("timeline_item", args=[inject.pk])
    data = {"kind": "reply", "text": ANSWER, "submit": "1"}
    response = signed_in(client, trainee).post(url, data)
    draft = Draft.objects.get(author=trainee)
    assert response.status_code == 302 and response["Location"] == draft.get_absolute_url()
    assert draft.in_reply_to == inject and draft.quote_of is None and draft.is_sandbox_only
    assert draft.status == Draft.Status.SUBMITTED
    assert not TimelineItem.objects.filter(owner=trainee, persona="").exists()

    page = client.get(draft.get_absolute_url()).content.decode()
    assert "A reply to this post" in page and "Wake Up Kelderby" in page
    assert "never published to @TestBoard" in page
    # The conversation lists it, with its status.
    assert "Waiting for review" in client.get(url).content.decode()

    review = signed_in(client, coach).get(reverse("review", args=[draft.pk])).content.decode()
    assert "A reply to this post" in review and "out-of-date vaccines" in review
    assert "Wake Up Kelderby" in review


@pytest.mark.django_db
def test_a_quote_response_saved_as_a_draft_is_not_sent(client, trainee, account, inject):
    url = reverse("timeline_item", args=[inject.pk])
    signed_in(client, trainee).post(url, {"kind": "quote", "text": ANSWER, "save": "1"})
    draft = Draft.objects.get(author=trainee)
    assert draft.quote_of == inject and draft.in_reply_to is None
    assert draft.status == Draft.Status.DRAFT


@pytest.mark.django_db
def test_a_response_over_the_limit_keeps_the_text(client, trainee, account, inject):
    url = reverse("timeline_item", args=[inject.pk])
    too_long = "Not true. " * 40
    response = signed_in(client, trainee).post(url, {"text": too_long, "submit": "1"})
    assert response.status_code == 422
    assert "over X&#x27;s limit" in response.content.decode()
    assert too_long.strip() in response.content.decode()
    assert not Draft.objects.exists()


@pytest.mark.django_db
def test_nobody_answers_another_trainees_post_either_way_round(
    trainee, other_trainee, account, inject, other_inject
):
    for author, item in ((trainee, other_inject), (other_trainee, inject)):
        with pytest.raises(NotAllowed, match="your own timeline"):
            services.draft_create(author=author, account=account, text="x", in_reply_to=item)
        with pytest.raises(NotAllowed, match="your own timeline"):
            services.draft_create(author=author, account=account, text="x", quote_of=item)
        with pytest.raises(NotAllowed, match="your own timeline"):
            services.practice_post(author=author, account=account, text="x", quote_of=item)
    assert not Draft.objects.exists()
    assert not TimelineItem.objects.filter(persona="").exists()


@pytest.mark.django_db
def test_a_post_that_has_not_arrived_cannot_be_answered(client, trainee, account, run):
    later = run.items.order_by("-appear_at").first()
    assert later.appear_at > timezone.now()
    with pytest.raises(NotAllowed):
        services.draft_create(author=trainee, account=account, text="x", in_reply_to=later)
    url = reverse("timeline_item", args=[later.pk])
    assert signed_in(client, trainee).post(url, {"text": "x", "submit": "1"}).status_code == 404


@pytest.mark.django_db
def test_a_post_of_another_organisations_practice_is_answered_only_as_that_organisation(
    trainee, other_organisation, other_account, inject
):
    Membership.objects.create(user=trainee, organisation=other_organisation, role="trainee")
    with pytest.raises(NotAllowed, match="another organisation"):
        services.draft_create(author=trainee, account=other_account, text="x", in_reply_to=inject)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("anonymous", 302),
        ("other_trainee", 404),
        ("coach", 404),
        ("outside_coach", 404),
        ("admin", 404),
    ],
)
def test_only_the_timelines_owner_can_answer_its_posts(
    request, client, inject, account, who, expected
):
    if who != "anonymous":
        signed_in(client, request.getfixturevalue(who))
    url = reverse("timeline_item", args=[inject.pk])
    for action in ("practise", "submit", "save"):
        response = client.post(url, {"kind": "quote", "text": "Hijack", action: "1"})
        assert response.status_code == expected
    assert not Draft.objects.exists()
    assert not TimelineItem.objects.filter(text="Hijack").exists()


@pytest.mark.django_db(transaction=True)
def test_the_kept_timeline_shows_the_post_going_live_as_it_happens(
    client, trainee, coach, account, x_double
):
    """Publishing is a task's write, committed: the trainee's kept feed (sandbox.page_cache)
    is refreshed by it, with nothing else changing."""
    from coaching.models import Publication
    from tests.builders import approved, sent

    publication = approved(trainee, coach, account, "Going live while you watch")
    signed_in(client, trainee)
    feed = {"HX-Request": "true"}
    for _ in range(2):  # the session's first page is not kept; the second is
        before = client.get(reverse("timeline"), headers=feed).content.decode()
    assert client.get(reverse("timeline"), headers=feed).content.decode() == before
    assert sent(publication).status == Publication.Status.PUBLISHED
    live = 'nhsuk-tag--green">Live</strong>'
    assert live not in before
    assert live in client.get(reverse("timeline"), headers=feed).content.decode()
