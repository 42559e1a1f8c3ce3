"""Subject access: an admin asks for everything Sandpit holds about one person; a Celery
task gathers it (coaching.selectors.subject_access) into one zip in private media storage;
it can be downloaded until it expires, and is deleted then (on the first download after,
or by the beat, whichever comes first). Starting and downloading are audited.

The zip: ``data.json`` (every table), one CSV per table, ``images/`` and ``README.txt``,
which says in plain English what is there and what is not."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import secrets
import tempfile
import zipfile
from collections.abc import Sequence
from functools import partial

from django.conf import settings
from django.contrib.auth.models import User
from django.core.files import File
from django.db import transaction
from django.utils import timezone

from coaching.exports import csv_cell
from coaching.models import AuditEvent, SubjectAccessExport
from coaching.selectors import subject_access as holdings
from coaching.services.lifecycle import _audit
from sandbox import access
from sandbox.errors import InvalidState
from sandbox.models import Membership, Organisation
from sandbox.selectors import admin_organisation_ids, display_name

Status = SubjectAccessExport.Status
EXPIRED = (
    "This export has expired and its file has been deleted. Start a new one from the person's page."
)


def export_days() -> int:
    return int(settings.SUBJECT_ACCESS_EXPORT_DAYS)


def export_start(*, by: User, membership: Membership) -> SubjectAccessExport:
    """Queue an export of the person of this membership, covering every organisation of
    theirs that ``by`` administers. One at a time per person: while one is being built,
    asking again gives that one."""
    from coaching import tasks  # tasks call services; a task module imports them at the top

    access.require_admin(by, membership.organisation_id)
    person = membership.user
    scope = holdings.scope_for(person, admin_organisation_ids(by))
    with transaction.atomic():
        # Serialise two admins pressing the button at once for the same person.
        User.objects.select_for_update().filter(pk=person.pk).first()
        building = SubjectAccessExport.objects.filter(
            person=person,
            organisation_ids=list(scope.organisation_ids),
            status__in=[Status.QUEUED, Status.RUNNING],
        ).first()
        if building is not None:
            return building
        export = SubjectAccessExport.objects.create(
            organisation_id=membership.organisation_id,
            organisation_ids=list(scope.organisation_ids),
            person=person,
            requested_by=by,
            total=len(holdings.SECTIONS) + len(holdings.images_of(scope)) + 1,
        )
        for organisation_id in scope.organisation_ids:
            _audit(
                AuditEvent.Action.SUBJECT_ACCESS_REQUESTED,
                organisation_id=organisation_id,
                actor=by,
                trainee=person,
                detail=f"Export {export.pk} of everything held about {display_name(person)}",
            )
        transaction.on_commit(lambda: tasks.subject_access_export.delay(export.pk))
    return export


# How often the running export writes its progress (images).
PROGRESS_EVERY = 10


def export_run(*, export_id: int) -> SubjectAccessExport | None:
    """Build the zip. A redelivered message builds it again from the start (nothing is
    kept half-made); one already finished is left alone."""
    claimed = SubjectAccessExport.objects.filter(
        pk=export_id, status__in=[Status.QUEUED, Status.RUNNING]
    ).update(status=Status.RUNNING, processed=0)
    export = (
        SubjectAccessExport.objects.select_related("person", "requested_by")
        .filter(pk=export_id)
        .first()
    )
    if not claimed or export is None:
        return export
    scope = holdings.scope_for(export.person, export.organisation_ids)
    try:
        with tempfile.TemporaryFile() as spool:
            with zipfile.ZipFile(spool, "w", zipfile.ZIP_DEFLATED) as archive:
                _write(export, scope, archive)
            spool.seek(0)
            name = f"{secrets.token_hex(16)}.zip"
            with transaction.atomic():
                # The person may have been erased meanwhile (which deletes their exports):
                # then nothing is saved.
                if not SubjectAccessExport.objects.filter(pk=export.pk).exists():
                    return None
                export.file.save(name, File(spool), save=False)
                now = timezone.now()
                export.size = export.file.size
                export.status = Status.DONE
                export.processed = export.total
                export.finished_at = now
                export.expires_at = now + dt.timedelta(days=export_days())
                export.save(
                    update_fields=[
                        "file",
                        "size",
                        "status",
                        "processed",
                        "finished_at",
                        "expires_at",
                    ]
                )
    except Exception as exc:
        SubjectAccessExport.objects.filter(pk=export.pk).update(
            status=Status.FAILED, error=str(exc)[:2000], finished_at=timezone.now()
        )
        raise
    return export


def _progress(export: SubjectAccessExport, processed: int) -> None:
    export.processed = processed
    SubjectAccessExport.objects.filter(pk=export.pk).update(processed=processed)


def _write(export: SubjectAccessExport, scope: holdings.Scope, archive: zipfile.ZipFile) -> None:
    tables: dict[str, list[holdings.Row]] = {}
    for done, (name, rows_of) in enumerate(holdings.SECTIONS, start=1):
        rows = rows_of(scope)
        tables[name] = rows
        archive.writestr(f"csv/{name}.csv", _csv(rows))
        _progress(export, done)
    images = holdings.images_of(scope)
    for number, image in enumerate(images, start=1):
        with image.file.open("rb") as source:
            archive.writestr(holdings.image_path(image), source.read())
        if number % PROGRESS_EVERY == 0:
            _progress(export, len(holdings.SECTIONS) + number)
    made = timezone.now()
    archive.writestr(
        "data.json",
        json.dumps(
            {
                "about": display_name(scope.person),
                "made": made.isoformat(),
                "organisations": _organisation_names(scope.organisation_ids),
                "includes_data_of_no_organisation": scope.whole_person,
                **tables,
            },
            ensure_ascii=False,
            indent=2,
            default=str,
        ),
    )
    archive.writestr("README.txt", _readme(export, scope, tables, made))


def _organisation_names(ids: Sequence[int]) -> list[str]:
    return list(
        Organisation.objects.filter(pk__in=ids).order_by("name").values_list("name", flat=True)
    )


def _csv(rows: list[holdings.Row]) -> str:
    out = io.StringIO()
    # A byte-order mark, so Excel reads the file as UTF-8 (names, emoji).
    out.write("\ufeff")
    writer = csv.writer(out)
    header = list(rows[0]) if rows else []
    writer.writerow(header)
    for row in rows:
        writer.writerow(
            [
                csv_cell(
                    json.dumps(value, ensure_ascii=False)
                    if isinstance(value, list | dict)
                    else value
                )
                for value in row.values()
            ]
        )
    return out.getvalue()


TABLE_WORDS = {
    "account": "their Sandpit account: name, email, username, when they joined and last signed in",
    "email_addresses": "the email addresses Sandpit signs them in with",
    "second_factors": (
        "their passkeys, authenticator apps and recovery codes: the kind and dates only, "
        "never the secrets"
    ),
    "sessions": "where they are signed in: the browser, the internet address, when",
    "single_sign_on_links": (
        "their links to an organisation's sign-in provider, with what the provider sent"
    ),
    "notification_preferences": "which emails they asked for",
    "memberships": "their role in each organisation, their cohort, named coach and review mode",
    "invitations": "the invitations sent to them (who sent them and when; never the link)",
    "people_imports": "their line in any file of people an admin imported, and what became of it",
    "drafts": "every post they drafted",
    "revisions": "every version of every draft, with its text, thread and image descriptions",
    "images": "the images they uploaded (the files are in the images folder)",
    "reviews_received": (
        "coaches' decisions on their drafts, with scores, tags and suggested rewrites"
    ),
    "feedback_received": "coaches' notes on their drafts",
    "publications": "their posts that were sent to the organisation's real account",
    "reviews_written": (
        "the reviews they made as a coach (the draft is named by number only: it is someone else's)"
    ),
    "notes_written": "the notes they wrote as a coach",
    "comments": "the conversation on their posts, and what they wrote in others' (by number)",
    "overrides_written": "the risk checks they overrode as a coach, and why",
    "publishing_stops": "the emergency stops they started or ended",
    "lockdowns": "the account lockdowns they started, and the recovery steps they ticked",
    "account_cover": (
        "the times they looked after an account for its owner, or others did for them, with "
        "the handover and handback notes"
    ),
    "inbox": "the posts by the public given to them or dealt with by them (by id only)",
    "timeline": (
        "their private practice timeline: their practice posts and the simulated "
        "audience's reactions"
    ),
    "scenario_runs": "the practice scenarios they were given",
    "drill_runs": "the lockdown drills they were given, and their time at each step",
    "notifications": "the notices Sandpit sent them",
    "audit_events": "the audit log entries they made, that are about them, or that name them",
}


def _readme(
    export: SubjectAccessExport,
    scope: holdings.Scope,
    tables: dict[str, list[holdings.Row]],
    made: dt.datetime,
) -> str:
    person = display_name(scope.person)
    organisations = ", ".join(_organisation_names(scope.organisation_ids)) or "none"
    asked_by = display_name(export.requested_by) if export.requested_by else "an admin"
    lines = [
        f"Everything Sandpit holds about {person}",
        "=" * (len(person) + 32),
        "",
        f"Made on {timezone.localtime(made):%d %B %Y at %H:%M} for a subject access request,",
        f"asked for by {asked_by}.",
        "",
        "What this covers",
        "----------------",
        f"The records of these organisations: {organisations}.",
        "It was asked for by an admin of those organisations, so it holds their records only.",
        "It also holds the person's own Sandpit account (name, email and how they sign in),",
        "which belongs to no one organisation.",
    ]
    if scope.whole_person:
        lines.append("These are all the organisations the person belongs to in Sandpit.")
    else:
        lines += [
            "The person also belongs to another organisation in Sandpit whose records are NOT",
            "in this file: ask that organisation for them. For the same reason, images not yet",
            "attached to a post and notices about no particular post are left out.",
        ]
    lines += [
        "",
        "Other people's details are kept out where they are not about this person: a review",
        "they wrote of someone else's post names that post by number only.",
        "",
        "The files",
        "---------",
        "data.json   every table below in one file, for a computer to read.",
        "csv/        the same tables, one spreadsheet (CSV) each. Lists inside a cell are",
        "            written as JSON. Open them in Excel or any spreadsheet program.",
        "images/     the images they uploaded, named by number as in csv/images.csv.",
        "",
    ]
    for name, rows in tables.items():
        lines.append(f"csv/{name}.csv ({len(rows)} {'row' if len(rows) == 1 else 'rows'}):")
        lines.append(f"    {TABLE_WORDS[name]}.")
    lines += [
        "",
        "Dates and times are in ISO 8601 (2026-12-06T22:35:00+00:00), in UTC.",
        "",
        "This file is personal data. Keep it safe, send it only to the person it is about",
        "(or whoever they have authorised), and delete your copy when the request is closed.",
        f"Sandpit deletes its own copy {export_days()} days after it was made.",
        "",
    ]
    return "\n".join(lines)


def export_download(*, by: User, export: SubjectAccessExport) -> File:
    """The zip to send, audited, or refused once it has expired (and then deleted)."""
    if export.status == Status.DONE and export.expires_at and export.expires_at <= timezone.now():
        _expire(export)
    if export.status == Status.EXPIRED:
        raise InvalidState(EXPIRED)
    if export.status != Status.DONE or not export.file:
        raise InvalidState("This export is not ready yet.")
    if not holdings.may_download(by, export):
        raise access.NotAllowed(access.ADMIN_ONLY)
    _audit(
        AuditEvent.Action.SUBJECT_ACCESS_DOWNLOADED,
        organisation_id=export.organisation_id,
        actor=by,
        trainee=export.person,
        detail=f"Export {export.pk} downloaded",
    )
    return export.file.open("rb")


def _expire(export: SubjectAccessExport) -> None:
    name = export.file.name
    with transaction.atomic():
        updated = SubjectAccessExport.objects.filter(pk=export.pk, status=Status.DONE).update(
            status=Status.EXPIRED, file=""
        )
        if updated and name:
            storage = export.file.storage
            transaction.on_commit(partial(storage.delete, name))
    export.status = Status.EXPIRED
    export.file.name = ""


def exports_expire() -> int:
    """The beat: delete every export past its time. Returns how many."""
    due = SubjectAccessExport.objects.filter(status=Status.DONE, expires_at__lte=timezone.now())
    count = 0
    for export in due:
        _expire(export)
        count += 1
    return count


def exports_delete_of(person: User) -> int:
    """Every export about the person, file and row (their erasure)."""
    count = 0
    for export in SubjectAccessExport.objects.filter(person=person):
        name = export.file.name
        if name:
            storage = export.file.storage
            transaction.on_commit(partial(storage.delete, name))
        export.delete()
        count += 1
    return count
