"""sandbox/services.py through its functions: authoring (drafts and their revisions), images
on posts (stored stripped of metadata, attached with alt text, counted in the content hash,
fed to the checks, carried into publications), practice posts and their simulated audience
(run by a real Celery worker), scenarios, and a coach's availability for cover."""

import dataclasses
import datetime as dt
import io
import time
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from coaching import services as coaching
from coaching.models import Publication
from coaching.selectors import responsible_coaches
from sandbox import audience, services
from sandbox.checks import CheckContext
from sandbox.errors import InvalidInput, NotAllowed
from sandbox.models import (
    Draft,
    DraftRevision,
    Membership,
    PostImage,
    TimelineItem,
)
from sandbox.selectors import check_context, findings_for_posts
from tests.sandbox.test_media import photo, png_declaring

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("private_media")]

TODAY = timezone.localdate()
NEXT_WEEK = TODAY + dt.timedelta(days=7)
PLEDGE = "£1 for every retweet this gets, we'll donate to the hospital charity!"


@pytest.fixture
def post_text() -> str:
    return "Flu clinics open Monday."


# Authoring ------------------------------------------------------------------------------


def test_a_new_draft_has_one_revision_holding_its_text(draft):
    assert draft.status == Draft.Status.DRAFT
    assert draft.revisions.count() == 1
    assert draft.current_revision.text == "Flu clinics open Monday."
    assert draft.current_revision.content_hash == draft.current_revision.hash_text(draft.text)


@pytest.mark.parametrize("text", ["", "   \n\t"])
def test_an_empty_draft_is_refused_with_a_message(trainee, account, text):
    with pytest.raises(InvalidInput, match="empty"):
        services.draft_create(author=trainee, account=account, text=text)
    assert not Draft.objects.exists()


def test_an_over_length_draft_says_by_how_much(trainee, account):
    with pytest.raises(InvalidInput, match="5 characters over X's limit of 280"):
        services.draft_create(author=trainee, account=account, text="a" * 285)


def test_links_count_as_23_so_a_long_url_fits(trainee, account):
    text = "Read our guide: https://example.org/" + "x" * 400
    assert services.draft_create(author=trainee, account=account, text=text).text == text


def test_nobody_drafts_for_another_organisations_account(trainee, other_account):
    with pytest.raises(NotAllowed):
        services.draft_create(author=trainee, account=other_account, text="Hello")


def test_editing_adds_a_revision_and_keeps_the_old_one(draft, trainee):
    services.draft_edit(draft=draft, by=trainee, text="Flu clinics open Tuesday.")
    draft.refresh_from_db()
    assert [r.text for r in draft.revisions.order_by("number")] == [
        "Flu clinics open Monday.",
        "Flu clinics open Tuesday.",
    ]
    assert draft.current_revision.number == 2


def test_saving_the_same_text_makes_no_new_revision(draft, trainee):
    services.draft_edit(draft=draft, by=trainee, text=draft.text)
    assert draft.revisions.count() == 1


def test_only_the_author_edits(draft, other_trainee):
    with pytest.raises(NotAllowed):
        services.draft_edit(draft=draft, by=other_trainee, text="Hijacked")


# Cover: a coach's availability -----------------------------------------------------------


def membership(user, organisation):
    return Membership.objects.get(user=user, organisation=organisation)


def test_away_with_cover_routes_the_trainees_to_the_cover(
    trainee, coach, second_coach, organisation
):
    Membership.objects.filter(user=trainee, organisation=organisation).update(coach=second_coach)
    services.coach_availability_set(
        by=second_coach,
        organisation_id=organisation.pk,
        away_from=TODAY,
        away_until=NEXT_WEEK,
        cover_coach_id=coach.pk,
    )
    assert membership(second_coach, organisation).cover_coach == coach
    coaches, why = responsible_coaches(trainee_id=trainee.pk, organisation_id=organisation.pk)
    assert coaches == [coach] and why == "Cora, covering for Colin"
    services.coach_availability_set(
        by=second_coach,
        organisation_id=organisation.pk,
        away_from=None,
        away_until=None,
        cover_coach_id=coach.pk,
    )
    back = membership(second_coach, organisation)
    assert (back.away_from, back.away_until, back.cover_coach) == (None, None, None)
    assert responsible_coaches(trainee_id=trainee.pk, organisation_id=organisation.pk)[0] == [
        second_coach
    ]


@pytest.mark.parametrize(
    ("away_from", "away_until", "cover", "field", "words"),
    [
        (None, NEXT_WEEK, None, "away_from", "Enter the first day you are away"),
        (NEXT_WEEK, TODAY, None, "away_until", "same as or after the first day"),
        (
            TODAY - dt.timedelta(days=9),
            TODAY - dt.timedelta(days=2),
            None,
            "away_until",
            "already passed",
        ),
        (TODAY, NEXT_WEEK, "coach", "cover_coach", "not yourself"),
        (TODAY, NEXT_WEEK, "outside_coach", "cover_coach", "coach of your organisation"),
        (TODAY, NEXT_WEEK, "trainee", "cover_coach", "coach of your organisation"),
    ],
)
def test_bad_availability_gets_a_clear_message(
    request, coach, organisation, away_from, away_until, cover, field, words
):
    cover_id = request.getfixturevalue(cover).pk if cover else None
    with pytest.raises(InvalidInput) as caught:
        services.coach_availability_set(
            by=coach,
            organisation_id=organisation.pk,
            away_from=away_from,
            away_until=away_until,
            cover_coach_id=cover_id,
        )
    assert caught.value.field == field and words in caught.value.message
    assert membership(coach, organisation).away_from is None


def test_bad_dates_and_a_bad_cover_are_reported_together(coach, organisation):
    with pytest.raises(InvalidInput) as caught:
        services.coach_availability_set(
            by=coach,
            organisation_id=organisation.pk,
            away_from=NEXT_WEEK,
            away_until=TODAY,
            cover_coach_id=coach.pk,
        )
    assert [problem.field for problem in caught.value] == ["away_until", "cover_coach"]


def test_trainees_and_outsiders_cannot_set_availability(trainee, outside_coach, organisation):
    for person in (trainee, outside_coach):
        with pytest.raises(NotAllowed):
            services.coach_availability_set(
                by=person,
                organisation_id=organisation.pk,
                away_from=TODAY,
                away_until=None,
                cover_coach_id=None,
            )


# Practice posts and their simulated audience ----------------------------------------------


def plan_findings(text: str):
    from sandbox.checks import run_checks

    return run_checks(text)


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_practice_post_gets_its_audience_from_the_worker(celery_worker, trainee, account):
    post = services.practice_post(author=trainee, account=account, text=PLEDGE)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        post.refresh_from_db()
        if post.audience:
            break
        time.sleep(0.1)
    assert post.audience, "the worker did not simulate the audience"
    plan = audience.AudiencePlan.from_dict(post.audience)
    assert plan == audience.plan(PLEDGE, seed=post.pk, findings=plan_findings(PLEDGE))
    reactions = post.children.exclude(persona="")
    assert reactions.count() == len(plan.reactions) > 0
    # They arrive over minutes, not all at once.
    assert reactions.filter(appear_at__gt=post.appear_at + dt.timedelta(minutes=1)).exists()


@pytest.mark.django_db
def test_simulating_twice_changes_nothing(trainee, account):
    post = services.practice_post(author=trainee, account=account, text=PLEDGE)
    services.audience_simulate(item_id=post.pk)
    count = post.children.count()
    services.audience_simulate(item_id=post.pk)
    assert post.children.count() == count > 0


@pytest.mark.django_db
def test_practising_needs_your_own_organisations_account(trainee, other_account):
    with pytest.raises(NotAllowed):
        services.practice_post(author=trainee, account=other_account, text="Hello")


# Scenarios ------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_coach_writes_a_scenario_and_its_posts_arrive_on_time(coach, trainee, organisation):
    items = services.parse_scenario_script(
        "0 | kelderby-echo | Breaking: phone lines at the hospital are down\n"
        "5 | dave-hollins | reply: Why has nobody said anything?"
    )
    scenario = services.scenario_save(
        by=coach, organisation_id=organisation.pk, title="Outage", description="", items=items
    )
    run = services.scenario_start(scenario=scenario, trainee=trainee, by=coach)
    first, second = run.items.order_by("appear_at")
    assert second.parent == first and second.kind == "reply"
    assert second.appear_at - first.appear_at == dt.timedelta(minutes=5)


@pytest.mark.django_db
def test_a_scenario_addresses_the_account_the_trainee_practises_for(
    coach, trainee, organisation, account
):
    from sandbox import scenario_scripts

    example = scenario_scripts.scenario("vaccine-clinic-rumour")
    assert any("@{account}" in item.text for item in example.items)
    scenario = services.scenario_save(
        by=coach,
        organisation_id=organisation.pk,
        title=example.title,
        description=example.description,
        items=[dataclasses.asdict(item) for item in example.items],
    )
    run = services.scenario_start(scenario=scenario, trainee=trainee, by=coach)
    texts = " ".join(run.items.values_list("text", flat=True))
    assert "@TestBoard can you confirm" in texts
    assert "{account}" not in texts and "@NHSKelderby" not in texts


def test_every_bad_scenario_line_is_reported_at_once():
    with pytest.raises(InvalidInput) as refused:
        services.parse_scenario_script("1 | a | fine\nno pipes here\n2 | b | fine\nsoon | x | y")
    assert [(p.field, p.message[:7]) for p in refused.value] == [
        ("script", "Line 2:"),
        ("script", "Line 4:"),
    ]


@pytest.mark.django_db
def test_bad_scenario_lines_get_a_clear_message(coach, organisation):
    with pytest.raises(InvalidInput, match="Line 1: write it as"):
        services.parse_scenario_script("no pipes here")
    with pytest.raises(InvalidInput, match="not a number of minutes"):
        services.parse_scenario_script("soon | x | y")
    with pytest.raises(InvalidInput):
        services.scenario_save(
            by=coach,
            organisation_id=organisation.pk,
            title="Bad",
            description="",
            items=[{"offset_seconds": 0, "persona": "nobody-at-all", "kind": "post", "text": "Hi"}],
        )


@pytest.mark.django_db
def test_only_coaches_write_or_start_scenarios(trainee, organisation):
    with pytest.raises(NotAllowed):
        services.scenario_save(
            by=trainee, organisation_id=organisation.pk, title="x", description="", items=[]
        )


# Images on posts --------------------------------------------------------------------------


def upload(trainee, draft=None, name: str = "ward.jpg") -> PostImage:
    return services.post_image_add(by=trainee, draft=draft, upload=photo(name))


def test_the_stored_file_has_no_exif_and_no_gps(trainee):
    image = upload(trainee)
    with image.file.open("rb") as handle:
        stored = Image.open(io.BytesIO(handle.read()))
        stored.load()
    assert stored.format == "JPEG"
    assert not stored.getexif()
    assert "exif" not in stored.info
    raw = image.file.open("rb").read()
    assert b"SANDPIT-DATUM" not in raw and b"Acme Cam" not in raw
    assert (image.width, image.height, image.content_type) == (64, 48, "image/jpeg")
    assert image.size == len(raw)
    # The trainee's file name can say who is in the photo; it is not kept.
    assert "ward" not in image.file.name


def test_a_pdf_renamed_png_is_refused_in_plain_words(trainee):
    fake = SimpleUploadedFile("scan.png", b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\n")
    with pytest.raises(InvalidInput, match="PDF"):
        services.post_image_add(by=trainee, draft=None, upload=fake)
    assert not PostImage.objects.exists()


def test_a_decompression_bomb_is_refused(trainee):
    bomb = SimpleUploadedFile("bomb.png", png_declaring(50_000, 50_000))
    with pytest.raises(InvalidInput, match="too large to open safely"):
        services.post_image_add(by=trainee, draft=None, upload=bomb)
    assert not PostImage.objects.exists()


def test_a_file_far_too_big_is_refused_before_it_is_read(trainee):
    huge = SimpleUploadedFile("huge.jpg", b"\xff\xd8" + b"\0" * (16 * 1024 * 1024))
    with pytest.raises(InvalidInput, match="X accepts images up to 5 MB"):
        services.post_image_add(by=trainee, draft=None, upload=huge)


def test_only_the_author_adds_images_to_a_draft(trainee, other_trainee, account):
    draft = services.draft_create(author=trainee, account=account, text="Hi")
    with pytest.raises(NotAllowed):
        upload(other_trainee, draft)


def test_a_new_draft_claims_the_images_uploaded_for_it(trainee, account):
    image = upload(trainee)
    assert image.draft is None
    draft = services.draft_create(
        author=trainee,
        account=account,
        text="Our new ward",
        thread=["Open from Monday"],
        images=[[{"id": image.pk, "alt": "  The ward's front desk  "}], []],
    )
    image.refresh_from_db()
    assert image.draft == draft
    assert draft.current_revision.images == [[{"id": image.pk, "alt": "The ward's front desk"}], []]
    assert draft.current_revision.images_by_post == draft.current_revision.images


def test_every_problem_of_a_post_is_reported_at_once(trainee, account):
    first, second = upload(trainee), upload(trainee)
    with pytest.raises(InvalidInput) as refused:
        services.draft_create(
            author=trainee,
            account=account,
            text="a" * 285,
            thread=["", "Fine"],
            images=[[{"id": first.pk, "alt": ""}], [{"id": second.pk, "alt": " "}]],
        )
    problems = [(problem.field, problem.message[:24]) for problem in refused.value]
    assert problems == [
        ("text", "Post 1 of the thread is "),
        ("text", "Write something before y"),
        (f"alt-0-{first.pk}", "Describe this image (alt"),
        (f"alt-1-{second.pk}", "Describe this image (alt"),
    ]
    assert not Draft.objects.exists()


def test_alt_text_is_required(trainee, account):
    image = upload(trainee)
    with pytest.raises(InvalidInput, match="Describe this image") as refused:
        services.draft_create(
            author=trainee, account=account, text="Hi", images=[[{"id": image.pk, "alt": " "}]]
        )
    assert refused.value.field == f"alt-0-{image.pk}"
    image.refresh_from_db()
    assert image.draft is None  # still the trainee's, to attach on the next try


def test_alt_text_is_at_most_1000_characters(trainee, account):
    image = upload(trainee)
    entry = {"id": image.pk, "alt": "x" * 1000}
    services.draft_create(author=trainee, account=account, text="Hi", images=[[entry]])
    other = upload(trainee)
    with pytest.raises(InvalidInput, match="1 character too long"):
        services.draft_create(
            author=trainee,
            account=account,
            text="Hi",
            images=[[{"id": other.pk, "alt": "é" * 1001}]],
        )


def test_a_fifth_image_is_refused(trainee, account):
    images = [{"id": upload(trainee).pk, "alt": f"Photo {n}"} for n in range(5)]
    with pytest.raises(InvalidInput, match="already has 4 images") as refused:
        services.draft_create(author=trainee, account=account, text="Hi", images=[images])
    assert refused.value.field == "upload-0"
    services.draft_create(author=trainee, account=account, text="Hi", images=[images[:4]])


def test_another_trainees_image_cannot_be_used(trainee, other_trainee, account):
    theirs = upload(other_trainee)
    with pytest.raises(InvalidInput, match="not available"):
        services.draft_create(
            author=trainee, account=account, text="Hi", images=[[{"id": theirs.pk, "alt": "A"}]]
        )
    theirs.refresh_from_db()
    assert theirs.draft is None


def test_an_image_of_another_draft_cannot_be_used(trainee, account):
    first = upload(trainee)
    services.draft_create(
        author=trainee, account=account, text="One", images=[[{"id": first.pk, "alt": "A"}]]
    )
    second = services.draft_create(author=trainee, account=account, text="Two")
    with pytest.raises(InvalidInput, match="not available"):
        services.draft_edit(
            draft=second, by=trainee, text="Two", images=[[{"id": first.pk, "alt": "A"}]]
        )


def test_changing_only_the_alt_text_is_a_new_revision_with_a_new_hash(trainee, account):
    image = upload(trainee)
    draft = services.draft_create(
        author=trainee, account=account, text="Hi", images=[[{"id": image.pk, "alt": "A ward"}]]
    )
    first = draft.current_revision
    same = services.draft_edit(
        draft=draft, by=trainee, text="Hi", images=[[{"id": image.pk, "alt": "A ward"}]]
    )
    assert same.current_revision == first  # nothing changed
    edited = services.draft_edit(
        draft=draft, by=trainee, text="Hi", images=[[{"id": image.pk, "alt": "The new ward"}]]
    )
    assert edited.current_revision.number == 2
    assert edited.current_revision.content_hash != first.content_hash
    removed = services.draft_edit(draft=draft, by=trainee, text="Hi", images=[[]])
    assert removed.current_revision.number == 3
    assert removed.current_revision.content_hash == DraftRevision.hash_text("Hi")


def test_posts_without_images_keep_their_old_hash():
    posts = ["One", "Two"]
    assert DraftRevision.hash_posts(posts, [[], []]) == DraftRevision.hash_posts(posts)
    with_image = DraftRevision.hash_posts(posts, [[], [{"id": 1, "alt": "A"}]])
    assert with_image != DraftRevision.hash_posts(posts)
    # Which post an image is on matters.
    assert with_image != DraftRevision.hash_posts(posts, [[{"id": 1, "alt": "A"}], []])


def test_editing_an_approved_draft_s_alt_text_voids_the_approval(trainee, coach, account):
    image = upload(trainee)
    draft = services.draft_create(
        author=trainee, account=account, text="Hi", images=[[{"id": image.pk, "alt": "A"}]]
    )
    coaching.draft_submit(draft=draft, by=trainee)
    coaching.review_approve(draft=draft, by=coach)
    draft.refresh_from_db()
    assert draft.status == "approved"
    services.draft_edit(draft=draft, by=trainee, text="Hi", images=[[{"id": image.pk, "alt": "B"}]])
    draft.refresh_from_db()
    assert draft.status != "approved"


def test_the_publication_carries_each_posts_images(trainee, coach, account):
    image = upload(trainee)
    draft = services.draft_create(
        author=trainee,
        account=account,
        text="Our new ward",
        thread=["Open from Monday"],
        images=[[], [{"id": image.pk, "alt": "The front desk"}]],
    )
    coaching.draft_submit(draft=draft, by=trainee)
    coaching.review_approve(draft=draft, by=coach)
    parts = Publication.objects.get(draft=draft).parts
    assert [part["images"] for part in parts] == [[], [{"id": image.pk, "alt": "The front desk"}]]
    assert [part["text"] for part in parts] == ["Our new ward", "Open from Monday"]


def test_the_checks_see_an_image_without_alt_text(organisation):
    context = check_context(organisation.pk)
    found = findings_for_posts(
        ["Our new ward", "Open Monday"], context, images=[[{"id": 1, "alt": ""}], []]
    )
    assert [f.code for f in found[0]].count("missing-alt-text") == 1
    assert "missing-alt-text" not in [f.code for f in found[1]]
    described = findings_for_posts(
        ["Our new ward"], CheckContext(), images=[[{"id": 1, "alt": "A"}]]
    )
    assert "missing-alt-text" not in [f.code for f in described[0]]


def test_images_never_saved_with_a_draft_are_discarded_after_a_day(
    trainee, account, django_capture_on_commit_callbacks
):
    kept = upload(trainee)
    abandoned = upload(trainee)
    attached = upload(trainee)
    draft = services.draft_create(
        author=trainee,
        account=account,
        text="Ward 4 today",
        images=[[{"id": attached.pk, "alt": "The ward's new garden"}]],
    )
    yesterday = timezone.now() - dt.timedelta(hours=25)
    PostImage.objects.filter(pk__in=[abandoned.pk, attached.pk]).update(created_at=yesterday)
    path = Path(abandoned.file.path)
    assert path.exists()

    with django_capture_on_commit_callbacks(execute=True):
        assert services.post_images_discard_unattached() == 1

    assert set(PostImage.objects.values_list("pk", flat=True)) == {kept.pk, attached.pk}
    assert not path.exists()
    assert PostImage.objects.get(pk=attached.pk).draft == draft


def test_deleting_a_draft_deletes_its_image_files(
    trainee, account, django_capture_on_commit_callbacks
):
    image = upload(trainee)
    draft = services.draft_create(
        author=trainee,
        account=account,
        text="Ward 4 today",
        images=[[{"id": image.pk, "alt": "The ward's new garden"}]],
    )
    path = Path(image.file.path)
    with django_capture_on_commit_callbacks(execute=True):
        # Revisions are protected by the draft's pointer, so clear it as an admin would.
        draft.__class__.objects.filter(pk=draft.pk).update(current_revision=None)
        draft.delete()
    assert not PostImage.objects.exists()
    assert not path.exists()


def test_a_practice_response_cannot_have_images(trainee, account):
    troll = TimelineItem.objects.create(
        owner=trainee, persona="troll", text="Your clinic is a joke", appear_at=timezone.now()
    )
    image = upload(trainee)
    with pytest.raises(InvalidInput, match="practice response cannot have images"):
        services.draft_create(
            author=trainee,
            account=account,
            text="Sorry to hear that",
            in_reply_to=troll,
            images=[[{"id": image.pk, "alt": "Our waiting room"}]],
        )
    response = services.draft_create(
        author=trainee, account=account, text="Sorry to hear that", in_reply_to=troll
    )
    with pytest.raises(InvalidInput, match="practice response cannot have images"):
        services.draft_edit(
            draft=response,
            by=trainee,
            text="Sorry to hear that",
            images=[[{"id": image.pk, "alt": "Our waiting room"}]],
        )
