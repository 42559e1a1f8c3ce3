"""Importing people from a CSV file (coaching/views/imports.py): the upload is checked at
once (a bad file is told why, never a 500, and nothing is queued), the real Celery worker
does the rows, and the import's page shows progress (htmx polls its fragment) and then the
line-by-line report, which outlives the page. Running the same file again is safe."""

import time

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from coaching.models import PeopleImport
from sandbox.models import Membership
from tests.factories import client_for, wait_for

pytestmark = pytest.mark.django_db

HEADER = "email,name,role,cohort,coach email"


def csv_file(lines: list[str], name: str = "people.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, ("\n".join(lines) + "\n").encode(), "text/csv")


@pytest.mark.parametrize(
    ("who", "status"),
    [("anonymous", 302), ("trainee", 403), ("coach", 403), ("outside_coach", 403), ("admin", 200)],
)
def test_who_can_open_the_import_page(client, request, who, status, organisation):
    response = client_for(request, client, who).get(reverse("people_import"))
    assert response.status_code == status


@pytest.mark.parametrize(
    ("upload", "message"),
    [
        (SimpleUploadedFile("people.pdf", b"%PDF-1.4", "application/pdf"), "Choose a CSV file"),
        (SimpleUploadedFile("people.csv", b"\xff\xfe\x00e\x00m", "text/csv"), "UTF-8"),
        (
            SimpleUploadedFile("people.csv", b"who,what\nx,y\n", "text/csv"),
            "no &#x27;email&#x27; column",
        ),
        (SimpleUploadedFile("people.csv", b"", "text/csv"), "empty"),
    ],
)
def test_a_bad_file_is_told_why_and_nothing_is_queued(client, admin, upload, message):
    client.force_login(admin)
    response = client.post(reverse("people_import"), {"file": upload})
    assert response.status_code == 422
    assert message in response.content.decode()
    assert not PeopleImport.objects.exists()


def test_a_file_too_big_is_refused(client, admin, settings):
    settings.PEOPLE_IMPORT_MAX_BYTES = 1000
    client.force_login(admin)
    lines = [HEADER] + [f"p{n}@example.org,P {n},,," for n in range(100)]
    response = client.post(reverse("people_import"), {"file": csv_file(lines)})
    assert response.status_code == 422
    assert "too big" in response.content.decode()


def test_no_file_at_all(client, admin):
    client.force_login(admin)
    response = client.post(reverse("people_import"), {})
    assert response.status_code == 422
    assert "Choose a CSV file to import." in response.content.decode()


def test_another_organisations_import_is_not_found(
    client, admin, outside_staff_admin, organisation
):
    theirs = PeopleImport.objects.create(
        organisation=outside_staff_admin.memberships.get().organisation,
        started_by=outside_staff_admin,
        file_name="theirs.csv",
    )
    client.force_login(admin)
    assert client.get(reverse("people_import_report", args=[theirs.pk])).status_code == 404


def test_the_report_page_and_its_progress_fragment(client, admin, organisation):
    running = PeopleImport.objects.create(
        organisation=organisation,
        started_by=admin,
        file_name="staff.csv",
        status=PeopleImport.Status.RUNNING,
        total=40,
        processed=10,
    )
    client.force_login(admin)
    response = client.get(reverse("people_import_report", args=[running.pk]))
    assert "HX-Request" in response["Vary"]
    page = response.content.decode()
    assert "<html" in page and 'hx-trigger="every 2s"' in page
    assert '<progress id="import-bar" class="sp-progress" max="40" value="10"' in page
    fragment = client.get(
        reverse("people_import_report", args=[running.pk]), headers={"HX-Request": "true"}
    ).content.decode()
    assert fragment.lstrip().startswith('<div id="import-progress"') and "<html" not in fragment
    assert "10 of 40 people done" in fragment


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_the_worker_imports_the_file_with_live_progress_and_a_report(
    client, celery_worker, admin, coach, organisation, settings
):
    coach.email = "colin@example.org"
    coach.save()
    rows = [
        f"person{n}@example.org,Person {n},trainee,Ward 5,colin@example.org" for n in range(300)
    ]
    lines = [HEADER, *rows, "broken,Nobody,,,", "person0@example.org,Twice,,,"]
    client.force_login(admin)
    response = client.post(reverse("people_import"), {"file": csv_file(lines)})
    assert response.status_code == 302
    report_url = response["Location"]
    # Polled as htmx does: progress is seen part-way, then the report.
    seen = set()

    def finished() -> bool:
        fragment = client.get(report_url, headers={"HX-Request": "true"}).content.decode()
        seen.add(fragment.split('value="', 1)[1].split('"', 1)[0])
        return "The import has finished." in fragment

    started = time.monotonic()
    wait_for(finished, timeout=120)
    elapsed = time.monotonic() - started
    done = PeopleImport.objects.get()
    assert (done.status, done.created_count, done.skipped_count, done.refused_count) == (
        "done",
        300,
        1,
        1,
    )
    assert len(seen) >= 2, f"no progress was seen between start and end: {seen}"
    page = client.get(report_url).content.decode()
    assert "hx-trigger" not in page  # finished: no more polling
    assert "Already in the organisation." in page and "Enter an email address" in page
    assert Membership.objects.filter(organisation=organisation, role="trainee").count() == 300
    print(f"\nimported 300 rows in {elapsed:.1f} s ({300 / elapsed:.0f} rows/s, polling included)")

    # The same file again: everyone is skipped, no one is added twice.
    response = client.post(reverse("people_import"), {"file": csv_file(lines)})
    again = int(response["Location"].rstrip("/").rsplit("/", 1)[1])
    wait_for(lambda: PeopleImport.objects.get(pk=again).finished, timeout=120)
    rerun = PeopleImport.objects.get(pk=again)
    assert (rerun.created_count, rerun.skipped_count, rerun.refused_count) == (0, 301, 1)
    assert Membership.objects.filter(organisation=organisation, role="trainee").count() == 300
