"""The subject access and erasure pages (coaching/views/subject_access.py): starting an
export and following it to the download, the expired link, and the erasure confirmation
(what stays, the live posts, the refusals, a wrong name kept as typed)."""

import datetime as dt
import io
import json
import time
import zipfile

import pytest
from django.contrib.auth.models import User
from django.urls import reverse
from django.utils import timezone

from coaching.models import AuditEvent, Publication, SubjectAccessExport
from sandbox.models import Membership
from tests import builders
from tests.factories import wait_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def membership(trainee, organisation):
    return Membership.objects.get(user=trainee, organisation=organisation)


def test_a_persons_page_offers_an_export_and_erasure(client, admin, membership):
    client.force_login(admin)
    page = client.get(reverse("person", args=[membership.pk])).content.decode()
    assert reverse("subject_access_start", args=[membership.pk]) in page
    assert "Export everything about Tara" in page
    assert reverse("person_erase", args=[membership.pk]) in page
    assert "the link works for 7 days" in page


def test_starting_an_export_shows_its_progress_page(
    client, admin, membership, django_capture_on_commit_callbacks
):
    client.force_login(admin)
    with django_capture_on_commit_callbacks(execute=False):
        response = client.post(reverse("subject_access_start", args=[membership.pk]))
    export = SubjectAccessExport.objects.get()
    assert response["Location"] == reverse("subject_access_export", args=[export.pk])
    page = client.get(response["Location"]).content.decode()
    assert 'hx-trigger="every 2s"' in page and "Waiting to start" in page
    fragment = client.get(response["Location"], headers={"HX-Request": "true"}).content.decode()
    assert fragment.lstrip().startswith('<div id="export-progress"') and "<html" not in fragment


def test_an_expired_link_says_so_and_the_file_is_gone(
    client, admin, membership, private_media, django_capture_on_commit_callbacks
):
    from coaching.services import subject_access

    with django_capture_on_commit_callbacks(execute=False):
        export = subject_access.export_start(by=admin, membership=membership)
    subject_access.export_run(export_id=export.pk)
    export.refresh_from_db()
    storage, name = export.file.storage, export.file.name
    SubjectAccessExport.objects.filter(pk=export.pk).update(
        expires_at=timezone.now() - dt.timedelta(minutes=1)
    )
    client.force_login(admin)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.get(reverse("subject_access_download", args=[export.pk]))
    assert response.status_code == 410
    assert "This export has expired and its file has been deleted" in response.content.decode()
    assert not storage.exists(name)


# Erasure ----------------------------------------------------------------------------------


def test_the_confirmation_page_lists_live_posts_and_what_stays(
    client, admin, trainee, coach, account, membership, x_double
):
    live = builders.sent(builders.approved(trainee, coach, account, "Flu jabs at Ward 4 today"))
    assert live.status == Publication.Status.PUBLISHED
    client.force_login(admin)
    page = client.get(reverse("person_erase", args=[membership.pk])).content.decode()
    assert "Their posts that are live now" in page
    assert "Flu jabs at Ward 4 today" in page and live.remote_url in page
    assert reverse("review", args=[live.draft_id]) in page
    assert "Type <strong>Tara</strong> to confirm" in page
    assert 'name="csrfmiddlewaretoken"' in page


def test_a_refused_erasure_shows_why_and_no_button(client, admin, membership, organisation):
    organisation.records_on_hold = True
    organisation.records_on_hold_reason = "Employment tribunal"
    organisation.save()
    client.force_login(admin)
    page = client.get(reverse("person_erase", args=[membership.pk])).content.decode()
    assert "Tara cannot be erased now" in page
    assert "legal hold (Employment tribunal)" in page
    assert "Erase Tara</button>" not in page
    # Posting anyway is refused with the same reason, and nothing is erased.
    response = client.post(
        reverse("person_erase", args=[membership.pk]), {"confirmation": "Tara"}, follow=True
    )
    assert "legal hold (Employment tribunal)" in response.content.decode()
    assert User.objects.get(pk=membership.user_id).username == "tara"


def test_a_wrong_name_is_refused_and_kept_as_typed(client, admin, membership):
    client.force_login(admin)
    response = client.post(reverse("person_erase", args=[membership.pk]), {"confirmation": "Tera"})
    assert response.status_code == 422
    page = response.content.decode()
    assert "Type Tara exactly as shown" in page and 'value="Tera"' in page
    assert User.objects.get(pk=membership.user_id).username == "tara"


def test_erasing_goes_back_to_the_person_page_with_the_reference(client, admin, membership):
    client.force_login(admin)
    response = client.post(
        reverse("person_erase", args=[membership.pk]), {"confirmation": "tara"}, follow=True
    )
    page = response.content.decode()
    erased = User.objects.get(pk=membership.user_id)
    assert f"The audit log now calls them {erased.username}" in page
    assert "This person has been erased." in page
    assert "A former member of staff" in page
    assert AuditEvent.objects.filter(action=AuditEvent.Action.PERSON_ERASED).count() == 1
    # The confirmation page is not offered again.
    again = client.get(reverse("person_erase", args=[membership.pk]))
    assert again.status_code == 302


# The worker ---------------------------------------------------------------------------------


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_the_worker_builds_the_export_and_the_admin_downloads_it(
    client, celery_worker, admin, trainee, account, organisation, private_media
):
    for n in range(30):
        builders.draft(trainee, account, f"Practice post number {n}")
    membership = Membership.objects.get(user=trainee, organisation=organisation)
    client.force_login(admin)
    response = client.post(reverse("subject_access_start", args=[membership.pk]))
    page_url = response["Location"]

    def ready() -> bool:
        fragment = client.get(page_url, headers={"HX-Request": "true"}).content.decode()
        return "Ready: one zip file" in fragment

    started = time.monotonic()
    wait_for(ready, timeout=60)
    print(f"export built and seen ready in {time.monotonic() - started:.1f}s")
    export = SubjectAccessExport.objects.get()
    download = client.get(reverse("subject_access_download", args=[export.pk]))
    assert download.status_code == 200
    assert download["Content-Disposition"].startswith("attachment;")
    with zipfile.ZipFile(io.BytesIO(b"".join(download.streaming_content))) as archive:
        data = json.loads(archive.read("data.json"))
        assert "README.txt" in archive.namelist()
    assert len(data["drafts"]) == 30
