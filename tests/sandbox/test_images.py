"""Images on posts, through the services: stored stripped of metadata, attached with alt
text, counted in the content hash, fed to the checks, and carried into publications."""

import datetime as dt
import io
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from coaching import services as coaching
from coaching.models import Publication
from sandbox import services
from sandbox.checks import CheckContext
from sandbox.errors import InvalidInput, NotAllowed
from sandbox.models import DraftRevision, PostImage, TimelineItem
from sandbox.selectors import check_context, findings_for_posts
from tests.sandbox.test_media import photo, png_declaring

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("private_media")]


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
