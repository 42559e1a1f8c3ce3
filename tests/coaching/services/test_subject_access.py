"""Subject access exports (coaching/services/subject_access.py): the zip opened and read,
what another organisation's admin cannot see, the expiry and the audit."""

import csv
import datetime as dt
import io
import json
import zipfile

import pytest
from django.utils import timezone

from coaching import services as coaching
from coaching.models import AuditEvent, SubjectAccessExport
from coaching.services import comments, drills, subject_access
from sandbox.errors import InvalidState, NotAllowed
from sandbox.models import Cohort, Membership
from tests import builders, factories

pytestmark = pytest.mark.django_db

OWN_WORDS = "Ward 7 bake sale raised 300 pounds for the garden"
ELSEWHERE_WORDS = "Council leisure centre reopens on Monday"
NOTE = "Lovely news; say where the garden is"


@pytest.fixture
def person(organisation, other_organisation):
    """Tina, a trainee of this organisation and of another one."""
    person = factories.member(
        organisation,
        "trainee",
        username="tina.tester",
        first_name="Tina",
        last_name="Tester",
        email="tina.tester@example.nhs.uk",
    )
    Membership.objects.create(user=person, organisation=other_organisation, role="trainee")
    return person


@pytest.fixture
def holdings(person, coach, account, other_account, private_media):
    """What Sandpit holds about Tina: a draft with an image and a coach's note in this
    organisation, and a draft in the other."""
    draft = builders.submitted(person, account, OWN_WORDS)
    image = factories.make_post_image(draft)
    coaching.review_request_changes(draft=draft, by=coach, note=NOTE)
    comments.comment_add(draft=draft, by=person, body="Can I say which ward?")
    comments.comment_add(draft=draft, by=coach, body="Yes, the ward is fine.")
    elsewhere = builders.draft(person, other_account, ELSEWHERE_WORDS)
    return {"draft": draft, "image": image, "elsewhere": elsewhere}


def built(admin, person, organisation, django_capture_on_commit_callbacks):
    membership = Membership.objects.get(user=person, organisation=organisation)
    with django_capture_on_commit_callbacks(execute=False):
        export = subject_access.export_start(by=admin, membership=membership)
    subject_access.export_run(export_id=export.pk)
    export.refresh_from_db()
    return export


def opened(export) -> dict[str, bytes]:
    with export.file.open("rb") as file, zipfile.ZipFile(io.BytesIO(file.read())) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def test_the_zip_holds_json_csvs_images_and_a_readme(
    admin, person, organisation, holdings, django_capture_on_commit_callbacks
):
    export = built(admin, person, organisation, django_capture_on_commit_callbacks)
    assert export.status == "done" and export.processed == export.total
    assert export.expires_at - export.finished_at == dt.timedelta(days=7)
    files = opened(export)
    image = holdings["image"]
    assert {"README.txt", "data.json", "csv/revisions.csv", f"images/{image.pk}.png"} <= set(files)
    # The image as it was stored, byte for byte.
    with image.file.open("rb") as stored:
        assert files[f"images/{image.pk}.png"] == stored.read()

    data = json.loads(files["data.json"])
    assert data["about"] == "Tina Tester"
    assert data["organisations"] == ["Test Health Board"]
    assert data["account"][0]["email"] == "tina.tester@example.nhs.uk"
    assert [r["text"] for r in data["revisions"]] == [OWN_WORDS]
    assert [n["note"] for n in data["feedback_received"]] == [NOTE]
    assert [(c["from"], c["comment"]) for c in data["comments"]] == [
        ("Tina Tester", "Can I say which ward?"),
        ("Cora", "Yes, the ward is fine."),
    ]
    assert data["reviews_received"][0]["decision"] == "Changes requested"
    assert data["memberships"][0]["organisation"] == "Test Health Board"
    assert len(data["memberships"]) == 1
    assert data["images"][0]["file"] == f"images/{image.pk}.png"

    rows = list(csv.DictReader(io.StringIO(files["csv/revisions.csv"].decode("utf-8-sig"))))
    assert rows[0]["text"] == OWN_WORDS
    images = list(csv.DictReader(io.StringIO(files["csv/images.csv"].decode("utf-8-sig"))))
    assert [(row["file"], row["type"]) for row in images] == [
        (f"images/{image.pk}.png", "image/png")
    ]

    readme = files["README.txt"].decode()
    assert "Everything Sandpit holds about Tina Tester" in readme
    assert "The records of these organisations: Test Health Board." in readme
    assert "also belongs to another organisation in Sandpit whose records are NOT" in readme
    assert "csv/revisions.csv (1 row)" in readme


def test_another_organisations_records_are_not_in_it(
    admin, person, organisation, holdings, django_capture_on_commit_callbacks
):
    export = built(admin, person, organisation, django_capture_on_commit_callbacks)
    everything = b"".join(opened(export).values())
    assert ELSEWHERE_WORDS.encode() not in everything
    assert b"Elsewhere Council" not in everything
    assert (
        str(holdings["elsewhere"].pk).encode()
        not in json.dumps(
            [r["draft"] for r in json.loads(opened(export)["data.json"])["drafts"]]
        ).encode()
    )


def test_an_admin_of_both_organisations_gets_both(
    admin, person, organisation, other_organisation, holdings, django_capture_on_commit_callbacks
):
    Membership.objects.create(user=admin, organisation=other_organisation, role="admin")
    export = built(admin, person, organisation, django_capture_on_commit_callbacks)
    data = json.loads(opened(export)["data.json"])
    assert sorted(r["text"] for r in data["revisions"]) == sorted([OWN_WORDS, ELSEWHERE_WORDS])
    assert data["includes_data_of_no_organisation"] is True
    assert (
        "These are all the organisations the person belongs to"
        in opened(export)["README.txt"].decode()
    )


def test_starting_is_audited_and_queues_one_task_after_commit(
    admin, person, organisation, django_capture_on_commit_callbacks
):
    membership = Membership.objects.get(user=person, organisation=organisation)
    with django_capture_on_commit_callbacks() as callbacks:
        export = subject_access.export_start(by=admin, membership=membership)
        # Asked again while it is being built: the same export, no second task.
        again = subject_access.export_start(by=admin, membership=membership)
    assert again.pk == export.pk and len(callbacks) == 1
    event = AuditEvent.objects.get(action=AuditEvent.Action.SUBJECT_ACCESS_REQUESTED)
    assert (event.actor, event.trainee, event.organisation) == (admin, person, organisation)
    assert export.organisation_ids == [organisation.pk]


def test_only_an_admin_may_start_one(coach, person, organisation):
    membership = Membership.objects.get(user=person, organisation=organisation)
    with pytest.raises(NotAllowed):
        subject_access.export_start(by=coach, membership=membership)


def test_a_download_is_audited_and_refused_once_expired_which_deletes_the_file(
    admin, person, organisation, holdings, django_capture_on_commit_callbacks
):
    export = built(admin, person, organisation, django_capture_on_commit_callbacks)
    with subject_access.export_download(by=admin, export=export) as file:
        assert file.read(2) == b"PK"
    assert AuditEvent.objects.filter(
        action=AuditEvent.Action.SUBJECT_ACCESS_DOWNLOADED, actor=admin, trainee=person
    ).exists()
    storage, name = export.file.storage, export.file.name
    SubjectAccessExport.objects.filter(pk=export.pk).update(
        expires_at=timezone.now() - dt.timedelta(seconds=1)
    )
    export.refresh_from_db()
    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(InvalidState, match="expired"),
    ):
        subject_access.export_download(by=admin, export=export)
    assert not storage.exists(name)
    export.refresh_from_db()
    assert export.status == "expired" and not export.file


def test_the_beat_deletes_expired_exports_only(
    admin, person, organisation, holdings, django_capture_on_commit_callbacks
):
    old = built(admin, person, organisation, django_capture_on_commit_callbacks)
    fresh = built(admin, person, organisation, django_capture_on_commit_callbacks)
    SubjectAccessExport.objects.filter(pk=old.pk).update(
        expires_at=timezone.now() - dt.timedelta(minutes=1)
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert subject_access.exports_expire() == 1
    assert not old.file.storage.exists(old.file.name)
    assert fresh.file.storage.exists(fresh.file.name)
    assert SubjectAccessExport.objects.get(pk=fresh.pk).status == "done"


def test_the_audit_events_are_those_by_about_or_naming_them_and_no_others(
    admin, person, organisation, django_capture_on_commit_callbacks
):
    from coaching.models import PeopleImport
    from coaching.services import people

    membership = Membership.objects.get(user=person, organisation=organisation)
    people.person_deactivate(by=admin, membership=membership)
    namesake = factories.member(
        organisation, "trainee", username="tt2", first_name="Tina", last_name="Testerson"
    )
    people.person_deactivate(
        by=admin, membership=Membership.objects.get(user=namesake, organisation=organisation)
    )
    PeopleImport.objects.create(
        organisation=organisation,
        started_by=admin,
        file_name="march.csv",
        results=[
            {"line": 2, "email": "tina.tester@example.nhs.uk", "outcome": "created", "reason": ""},
            {"line": 3, "email": "someone@example.org", "outcome": "refused", "reason": "No."},
        ],
    )
    data = json.loads(
        opened(built(admin, person, organisation, django_capture_on_commit_callbacks))["data.json"]
    )
    details = [event["detail"] for event in data["audit_events"]]
    assert "Tina Tester (tina.tester@example.nhs.uk) deactivated" in details
    assert not any("Testerson" in detail for detail in details)
    assert [(row["file"], row["line"]) for row in data["people_imports"]] == [("march.csv", 2)]


def test_their_lockdown_drill_runs_are_in_it_step_by_step(
    admin, person, coach, account, organisation, django_capture_on_commit_callbacks
):
    ward = Cohort.objects.create(organisation=organisation, name="Drill ward")
    Membership.objects.filter(user=person, organisation=organisation).update(cohort=ward)
    drill = drills.drill_start(by=coach, account=account, cohort=ward, incident="Vouchers")
    run = drill.runs.get(trainee=person)
    drills.drill_run_begin(by=person, run=run)
    drills.drill_lock_down(by=person, run=run)
    export = built(admin, person, organisation, django_capture_on_commit_callbacks)
    rows = json.loads(opened(export)["data.json"])["drill_runs"]
    assert len(rows) == 7 and rows[0]["drill"] == "@TestBoard, Drill ward"
    assert rows[0]["incident"] == "Vouchers" and rows[0]["locked_down"] is not None
    assert rows[0]["step"] == "Change the password and second factor at the platform"
    assert all(row["step_done"] is None for row in rows)


def test_the_inbox_and_cover_rota_are_in_it_for_this_organisation_only(
    admin, person, organisation, account, other_account, private_media,
    django_capture_on_commit_callbacks,
):  # fmt: skip
    from coaching.models import AccountCover

    today = timezone.localdate()
    AccountCover.objects.create(
        account=account, person=person, starts_on=today, ends_on=today, handover_note="Be kind"
    )
    AccountCover.objects.create(
        account=other_account, person=person, starts_on=today, ends_on=today
    )
    factories.InboxItemFactory(account=account, assigned_to=person, remote_id="1801")
    factories.InboxItemFactory(account=other_account, assigned_to=person, remote_id="1802")
    export = built(admin, person, organisation, django_capture_on_commit_callbacks)
    data = json.loads(opened(export)["data.json"])
    assert [(c["account"], c["handover_note"]) for c in data["account_cover"]] == [
        ("@TestBoard", "Be kind")
    ]
    assert [(i["post"], i["given_to_them"]) for i in data["inbox"]] == [("1801", True)]
