"""People, managed by their own organisation's admins: invitations, roles, the named coach
and cohort, deactivation, and importing a CSV of people. Every change is audited.

An invitation creates the User (unusable password) and the Membership up front, so single
sign-on can match a verified email to "an invited membership" (docs/architecture.md). The
emailed link carries a random token of which only a SHA-256 is stored.

Deactivation is per organisation: ``Membership.is_active`` off, so the role counts nowhere
(sandbox.selectors reads active memberships only); when the person has no active
membership left, ``User.is_active`` goes off too, which signs them out everywhere and
refuses their password (Django's ModelBackend).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import secrets
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from coaching import notifications
from coaching.models import AuditEvent, Invitation, PeopleImport
from coaching.selectors.people import token_hash
from coaching.services.account_cover import cover_person_left
from coaching.services.lifecycle import _audit
from sandbox import access
from sandbox.errors import DomainError, InputProblems, InvalidInput, InvalidState
from sandbox.models import Cohort, Membership, Organisation
from sandbox.selectors import REVIEWER_ROLES, admin_organisation_ids, display_name

Role = Membership.Role
Action = AuditEvent.Action

LAST_ADMIN = (
    "{name} is the only admin of {organisation}. Make someone else an admin first, so "
    "the organisation is never left without one."
)
NOT_YOURSELF = "You cannot deactivate yourself. Ask another admin to do it."
INVITATION_USED = "This invitation has already been used. Sign in with your password instead."
INVITATION_REPLACED = (
    "This invitation link has been replaced by a newer one. Use the link in the latest email."
)
INVITATION_EXPIRED = "This invitation has expired. Ask your organisation's admin to send it again."
INVITATION_DEACTIVATED = "This invitation was withdrawn. Ask your organisation's admin."

NAME_MAX_LENGTH = 150  # User.first_name and last_name


# Checking what an admin typed --------------------------------------------------------------


def clean_email(value: str) -> str:
    email = value.strip().lower()
    try:
        validate_email(email)
    except ValidationError as exc:
        raise InvalidInput(
            "Enter an email address in the right format, like name@example.nhs.uk.",
            field="email",
        ) from exc
    if len(email) > 254:
        raise InvalidInput("Email addresses are at most 254 characters.", field="email")
    return email


def _clean_role(value: str) -> str:
    role = (value or Role.TRAINEE).strip().lower()
    if role not in Role.values:
        raise InvalidInput("Choose trainee, coach or admin.", field="role")
    return role


def _cohort_in(organisation_id: int, cohort_id: int | None) -> Cohort | None:
    if cohort_id is None:
        return None
    cohort = Cohort.objects.filter(pk=cohort_id, organisation_id=organisation_id).first()
    if cohort is None:
        raise InvalidInput("Choose one of your organisation's cohorts.", field="cohort")
    return cohort


def _coach_in(
    organisation_id: int, coach_id: int | None, *, for_user_id: int | None
) -> User | None:
    """A named coach is an active coach or admin of the same organisation, never the
    person themself."""
    if coach_id is None:
        return None
    coach = (
        Membership.objects.filter(
            user_id=coach_id,
            organisation_id=organisation_id,
            role__in=REVIEWER_ROLES,
            is_active=True,
        )
        .select_related("user")
        .first()
    )
    if coach is None or coach.user_id == for_user_id:
        raise InvalidInput("Choose a coach of your organisation from the list.", field="coach")
    return coach.user


def _username_for(email: str) -> str:
    """A free username from the email's local part (people may still sign in with it)."""
    base = re.sub(r"[^\w.@+-]", "", email.split("@", 1)[0])[:140] or "person"
    candidate, n = base, 1
    while User.objects.filter(username__iexact=candidate).exists():
        n += 1
        candidate = f"{base}{n}"
    return candidate


# Invitations -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Invited:
    membership: Membership
    # True: a new account, sent an invitation link. False: an existing account was added.
    new_account: bool


def person_invite(
    *,
    by: User,
    organisation_id: int,
    email: str,
    first_name: str = "",
    last_name: str = "",
    role: str = Role.TRAINEE,
    cohort_id: int | None = None,
    coach_id: int | None = None,
    source: str = "",
) -> Invited:
    """Invite a person by email. Someone Sandpit already knows (from another organisation)
    is added with this role and told so; anyone else gets an account with no password and
    a link to choose one."""
    access.require_admin(by, organisation_id)
    # Every field is checked and every problem reported at once.
    problems = InputProblems()
    email = problems.check(lambda: clean_email(email)) or ""
    role = problems.check(lambda: _clean_role(role)) or ""
    first_name, last_name = first_name.strip(), last_name.strip()
    if len(first_name) > NAME_MAX_LENGTH or len(last_name) > NAME_MAX_LENGTH:
        problems.found.append(
            InvalidInput(f"Names are at most {NAME_MAX_LENGTH} characters.", field="first_name")
        )
    cohort = problems.check(lambda: _cohort_in(organisation_id, cohort_id))
    coach = problems.check(lambda: _coach_in(organisation_id, coach_id, for_user_id=None))
    problems.raise_any()
    return _invite(
        by=by,
        organisation=Organisation.objects.get(pk=organisation_id),
        email=email,
        first_name=first_name,
        last_name=last_name,
        role=role,
        cohort=cohort,
        coach=coach,
        source=source,
    )


def _invite(
    *,
    by: User,
    organisation: Organisation,
    email: str,
    first_name: str,
    last_name: str,
    role: str,
    cohort: Cohort | None,
    coach: User | None,
    source: str,
) -> Invited:
    """The invitation itself, for values already checked (by person_invite, or once per
    import for what every row shares)."""
    with transaction.atomic():
        user = User.objects.select_for_update().filter(email__iexact=email).first()
        if (
            user is not None
            and Membership.objects.filter(user=user, organisation=organisation).exists()
        ):
            raise InvalidInput(
                f"{email} is already in {organisation.name}. Find them in the list of people.",
                field="email",
            )
        if coach is not None and user is not None and coach.pk == user.pk:
            raise InvalidInput("Choose a coach of your organisation from the list.", field="coach")
        new_account = user is None
        if user is None:
            user = User(
                username=_username_for(email),
                email=email,
                first_name=first_name,
                last_name=last_name,
            )
            user.set_unusable_password()
            user.save()
        membership = Membership.objects.create(
            user=user, organisation=organisation, role=role, cohort=cohort, coach=coach
        )
        how = f" ({source})" if source else ""
        _audit(
            Action.PERSON_INVITED,
            organisation_id=organisation.pk,
            actor=by,
            detail=f"{email} invited as {Role(role).label.lower()}{how}"
            + ("" if new_account else "; they already had an account, so they were added"),
        )
        if new_account:
            _send_invitation(membership, organisation, by=by, replace=False)
        else:
            _email_added(membership, organisation)
    return Invited(membership=membership, new_account=new_account)


def _send_invitation(
    membership: Membership, organisation: Organisation, *, by: User, replace: bool = True
) -> None:
    """A new link (any earlier one stops working), emailed after commit."""
    now = timezone.now()
    if replace:
        Invitation.objects.filter(
            membership__user_id=membership.user_id,
            accepted_at__isnull=True,
            replaced_at__isnull=True,
        ).update(replaced_at=now)
    token = secrets.token_urlsafe(32)
    Invitation.objects.create(
        membership=membership,
        token_hash=token_hash(token),
        invited_by=by,
        expires_at=now + dt.timedelta(days=settings.INVITATION_DAYS),
    )
    link = notifications.absolute(reverse("invitation_accept", args=[token]))
    notifications.email_person_after_commit(
        to=membership.user.email,
        subject=f"You are invited to {organisation.name}",
        body=(
            f"{display_name(by)} has invited you to practise and review social media posts "
            f"for {organisation.name} in Sandpit.\n\n"
            f"Choose a password to start:\n{link}\n\n"
            f"This link works once and expires in {settings.INVITATION_DAYS} days. If it "
            "has expired, ask your admin to send it again."
        ),
    )


def _email_added(membership: Membership, organisation: Organisation) -> None:
    notifications.email_person_after_commit(
        to=membership.user.email,
        subject=f"You've been added to {organisation.name}",
        body=(
            f"You've been added to {organisation.name} in Sandpit as "
            f"{membership.get_role_display().lower()}. Sign in as usual:\n"
            f"{notifications.absolute('/')}"
        ),
    )


def invitation_send_again(*, by: User, membership: Membership) -> None:
    """A fresh link for someone who has not yet chosen a password."""
    access.require_admin(by, membership.organisation_id)
    user = membership.user
    if user.has_usable_password():
        raise InvalidState(f"{display_name(user)} has already accepted their invitation.")
    if not membership.is_active:
        raise InvalidState(f"Reactivate {display_name(user)} before inviting them again.")
    with transaction.atomic():
        _send_invitation(membership, membership.organisation, by=by)
        _audit(
            Action.INVITATION_SENT_AGAIN,
            organisation_id=membership.organisation_id,
            actor=by,
            detail=f"New invitation link sent to {user.email}",
        )


def invitation_check(invitation: Invitation | None) -> Invitation:
    """The invitation a link found, or the plain reason it no longer works."""
    if invitation is None:
        raise InvalidState(
            "This invitation link is not valid. Check you copied all of it from the email."
        )
    if invitation.accepted_at is not None:
        raise InvalidState(INVITATION_USED)
    if invitation.replaced_at is not None:
        raise InvalidState(INVITATION_REPLACED)
    if invitation.expires_at <= timezone.now():
        raise InvalidState(INVITATION_EXPIRED)
    if not invitation.membership.is_active:
        raise InvalidState(INVITATION_DEACTIVATED)
    return invitation


def invitation_accept(*, invitation: Invitation, password: str) -> User:
    """The invited person chooses their password (already checked against the password
    validators by the form): the link is used up."""
    with transaction.atomic():
        locked = (
            Invitation.objects.select_for_update()
            .select_related("membership__user")
            .filter(pk=invitation.pk)
            .first()
        )
        invitation = invitation_check(locked)
        user = invitation.membership.user
        user.set_password(password)
        user.is_active = True
        user.save(update_fields=["password", "is_active"])
        invitation.accepted_at = timezone.now()
        invitation.save(update_fields=["accepted_at"])
        _audit(
            Action.INVITATION_ACCEPTED,
            organisation_id=invitation.membership.organisation_id,
            actor=user,
            detail=f"{user.email} accepted their invitation and chose a password",
        )
    return user


# Role, coach, cohort and deactivation ------------------------------------------------------


def _other_active_admins(membership: Membership) -> bool:
    """Whether the organisation has an active admin besides this one. Every admin row is
    locked, this one included, so two admins demoting each other at once are serialised:
    the second sees the first's change and is refused."""
    admins = list(
        Membership.objects.select_for_update()
        .filter(organisation_id=membership.organisation_id, role=Role.ADMIN, is_active=True)
        .values_list("pk", flat=True)
    )
    return any(pk != membership.pk for pk in admins)


def person_change(
    *,
    by: User,
    membership: Membership,
    role: str,
    coach_id: int | None,
    cohort_id: int | None,
) -> list[str]:
    """Change a person's role, named coach and cohort; returns what changed, in words."""
    organisation_id = membership.organisation_id
    access.require_admin(by, organisation_id)
    problems = InputProblems()
    role = problems.check(lambda: _clean_role(role)) or membership.role
    coach = problems.check(
        lambda: _coach_in(organisation_id, coach_id, for_user_id=membership.user_id)
    )
    cohort = problems.check(lambda: _cohort_in(organisation_id, cohort_id))
    problems.raise_any()
    name = display_name(membership.user)
    changes: list[tuple[str, str]] = []
    with transaction.atomic():
        if role != membership.role:
            if (
                membership.role == Role.ADMIN
                and membership.is_active
                and not _other_active_admins(membership)
            ):
                raise InvalidInput(
                    LAST_ADMIN.format(name=name, organisation=membership.organisation),
                    field="role",
                )
            changes.append(
                (
                    Action.ROLE_CHANGED,
                    f"{name}: {membership.get_role_display().lower()} → {Role(role).label.lower()}",
                )
            )
            membership.role = role
        if (coach.pk if coach else None) != membership.coach_id:
            before = display_name(membership.coach) if membership.coach else "none"
            after = display_name(coach) if coach else "none"
            changes.append((Action.COACH_CHANGED, f"{name}'s coach: {before} → {after}"))
            membership.coach = coach
        if (cohort.pk if cohort else None) != membership.cohort_id:
            before = membership.cohort.name if membership.cohort else "none"
            after = cohort.name if cohort else "none"
            changes.append((Action.COHORT_CHANGED, f"{name}'s cohort: {before} → {after}"))
            membership.cohort = cohort
        if changes:
            membership.save(update_fields=["role", "coach", "cohort"])
        for action, detail in changes:
            _audit(action, organisation_id=organisation_id, actor=by, detail=detail)
    return [detail for _, detail in changes]


def person_deactivate(*, by: User, membership: Membership) -> None:
    organisation_id = membership.organisation_id
    access.require_admin(by, organisation_id)
    name = display_name(membership.user)
    if membership.user_id == by.pk:
        raise InvalidInput(NOT_YOURSELF)
    with transaction.atomic():
        if not membership.is_active:
            raise InvalidState(f"{name} is already deactivated.")
        if membership.role == Role.ADMIN and not _other_active_admins(membership):
            raise InvalidInput(LAST_ADMIN.format(name=name, organisation=membership.organisation))
        membership.is_active = False
        membership.save(update_fields=["is_active"])
        user = membership.user
        cover_person_left(person=user, organisation_id=organisation_id)
        if not Membership.objects.filter(user=user, is_active=True).exists():
            user.is_active = False
            user.save(update_fields=["is_active"])
        _audit(
            Action.PERSON_DEACTIVATED,
            organisation_id=organisation_id,
            actor=by,
            detail=f"{name} ({user.email or user.username}) deactivated",
        )


def person_reactivate(*, by: User, membership: Membership) -> None:
    organisation_id = membership.organisation_id
    access.require_admin(by, organisation_id)
    name = display_name(membership.user)
    with transaction.atomic():
        if membership.is_active:
            raise InvalidState(f"{name} is already active.")
        membership.is_active = True
        membership.save(update_fields=["is_active"])
        user = membership.user
        if not user.is_active:
            user.is_active = True
            user.save(update_fields=["is_active"])
        _audit(
            Action.PERSON_REACTIVATED,
            organisation_id=organisation_id,
            actor=by,
            detail=f"{name} ({user.email or user.username}) reactivated",
        )


def cohort_create(*, by: User, organisation_id: int, name: str) -> Cohort:
    access.require_admin(by, organisation_id)
    name = " ".join(name.split())
    if not name:
        raise InvalidInput(
            "Enter a name for the cohort, like 'Ward 5' or 'May intake'.", field="name"
        )
    if len(name) > 100:
        raise InvalidInput("Cohort names are at most 100 characters.", field="name")
    with transaction.atomic():
        cohort, created = Cohort.objects.get_or_create(organisation_id=organisation_id, name=name)
        if not created:
            raise InvalidInput(f"There is already a cohort called '{name}'.", field="name")
        _audit(
            Action.COHORT_CREATED,
            organisation_id=organisation_id,
            actor=by,
            detail=f"Cohort '{name}' created",
        )
    return cohort


# Importing people from a CSV file ----------------------------------------------------------

IMPORT_COLUMNS = ("email", "name", "role", "cohort", "coach email")
REQUIRED_COLUMNS = ("email",)
# How often the running import writes its progress (rows): often enough for a live bar,
# seldom enough that a large file is not slowed by it.
PROGRESS_EVERY = 20


def max_import_bytes() -> int:
    return int(settings.PEOPLE_IMPORT_MAX_BYTES)


def _header_key(value: str) -> str:
    return " ".join(value.strip().lower().replace("_", " ").split())


def read_people_csv(*, file_name: str, content: bytes) -> list[dict[str, str]]:
    """The rows of an uploaded CSV, each {column: value}, or the one plain reason the file
    cannot be used. Checked here, before anything is queued, so the admin hears at once."""
    if not file_name.lower().endswith(".csv"):
        raise InvalidInput("Choose a CSV file (its name ends in .csv).", field="file")
    if len(content) > settings.PEOPLE_IMPORT_MAX_BYTES:
        limit = settings.PEOPLE_IMPORT_MAX_BYTES // 1000
        raise InvalidInput(f"The file is too big: the limit is {limit:,} KB.", field="file")
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidInput(
            "The file is not saved as UTF-8 text. In Excel, choose 'CSV UTF-8' when you save.",
            field="file",
        ) from exc
    if "\x00" in text:
        raise InvalidInput("This is not a CSV file: it has binary data in it.", field="file")
    try:
        reader = csv.reader(io.StringIO(text, newline=""), strict=True)
        lines = list(reader)
    except csv.Error as exc:
        raise InvalidInput(f"The file could not be read as CSV: {exc}.", field="file") from exc
    if not lines:
        raise InvalidInput("The file is empty.", field="file")
    header = [_header_key(cell) for cell in lines[0]]
    unknown = [cell for cell in header if cell and cell not in IMPORT_COLUMNS]
    missing = [column for column in REQUIRED_COLUMNS if column not in header]
    if missing or unknown:
        expected = ", ".join(IMPORT_COLUMNS)
        problem = (
            f"it has no '{missing[0]}' column" if missing else f"'{unknown[0]}' is not a column"
        )
        raise InvalidInput(
            f"The first line must name the columns, and {problem}. Use: {expected}.",
            field="file",
        )
    body = [line for line in lines[1:] if any(cell.strip() for cell in line)]
    if not body:
        raise InvalidInput("The file has its column names but no people.", field="file")
    if len(body) > settings.PEOPLE_IMPORT_MAX_ROWS:
        raise InvalidInput(
            f"The file has {len(body):,} people; import at most "
            f"{settings.PEOPLE_IMPORT_MAX_ROWS:,} at a time.",
            field="file",
        )
    return [
        {column: (line[i].strip() if i < len(line) else "") for i, column in enumerate(header)}
        for line in body
    ]


def people_import_start(
    *, by: User, organisation_id: int, file_name: str, content: bytes
) -> PeopleImport:
    """Check the file and queue the import; the worker does the rows (people_import_run)."""
    from coaching import tasks  # tasks call services; a task module imports them at the top

    access.require_admin(by, organisation_id)
    rows = read_people_csv(file_name=file_name, content=content)
    with transaction.atomic():
        people_import = PeopleImport.objects.create(
            organisation_id=organisation_id,
            started_by=by,
            file_name=file_name[:200],
            rows=rows,
            total=len(rows),
        )
        transaction.on_commit(lambda: tasks.import_people.delay(people_import.pk))
    return people_import


@dataclass
class _ImportRun:
    """What every row of one import shares, looked up once: the organisation, and the
    cohorts and coaches rows name (by name and email)."""

    people_import: PeopleImport
    by: User | None
    cohorts: dict[str, Cohort]
    coaches: dict[str, User | None]


def people_import_run(*, import_id: int) -> PeopleImport | None:
    """Work through an import's rows. Safe to run again (a redelivered task): it carries on
    after the last row it recorded, and a person already in the organisation is skipped,
    never added twice, so re-importing the same file changes nothing."""
    claimed = PeopleImport.objects.filter(
        pk=import_id, status__in=[PeopleImport.Status.QUEUED, PeopleImport.Status.RUNNING]
    ).update(status=PeopleImport.Status.RUNNING)
    people_import = PeopleImport.objects.select_related("started_by", "organisation").get(
        pk=import_id
    )
    if not claimed:
        return people_import
    run = _ImportRun(people_import, people_import.started_by, cohorts={}, coaches={})
    results = list(people_import.results)
    try:
        while len(results) < len(people_import.rows):
            # A batch of rows per transaction (each row in its own savepoint, so a refused
            # row undoes only itself), with its progress: one commit per batch, not per row.
            with transaction.atomic():
                if run.by is not None and people_import.organisation_id not in (
                    admin_organisation_ids(run.by)
                ):
                    run.by = None  # the admin who started it is no longer one: refuse the rest
                for position in range(
                    len(results), min(len(results) + PROGRESS_EVERY, len(people_import.rows))
                ):
                    row = people_import.rows[position]
                    outcome, reason = _import_row(run, row)
                    results.append(
                        {
                            "line": position + 2,
                            "email": row.get("email", "")[:254],
                            "outcome": outcome,
                            "reason": reason,
                        }
                    )
                _save_progress(people_import, results)
    except Exception as exc:
        _save_progress(people_import, results, status=PeopleImport.Status.FAILED, error=str(exc))
        raise
    _save_progress(people_import, results, status=PeopleImport.Status.DONE)
    _audit(
        Action.PEOPLE_IMPORTED,
        organisation_id=people_import.organisation_id,
        actor=people_import.started_by,
        detail=(
            f"{people_import.file_name}: {people_import.created_count} added, "
            f"{people_import.skipped_count} skipped, {people_import.refused_count} refused"
        ),
    )
    return people_import


def _save_progress(
    people_import: PeopleImport,
    results: list[dict[str, object]],
    *,
    status: str | None = None,
    error: str = "",
) -> None:
    counts = {outcome: 0 for outcome in PeopleImport.Outcome.values}
    for result in results:
        counts[str(result["outcome"])] += 1
    people_import.results = results
    people_import.processed = len(results)
    people_import.created_count = counts["created"] + counts["added"]
    people_import.skipped_count = counts["skipped"]
    people_import.refused_count = counts["refused"]
    fields = ["results", "processed", "created_count", "skipped_count", "refused_count"]
    if status:
        people_import.status = status
        people_import.error = error[:2000]
        people_import.finished_at = timezone.now()
        fields += ["status", "error", "finished_at"]
    people_import.save(update_fields=fields)


def _import_row(run: _ImportRun, row: dict[str, str]) -> tuple[str, str]:
    """One person: (outcome, reason). Refusals are the same words a form would show."""
    Outcome = PeopleImport.Outcome
    people_import = run.people_import
    organisation = people_import.organisation
    raw_email = row.get("email", "")
    if not raw_email:
        return Outcome.REFUSED, "No email address."
    try:
        email = clean_email(raw_email)
        role = _clean_role(row.get("role", ""))
    except InvalidInput as error:
        return Outcome.REFUSED, error.message
    if Membership.objects.filter(organisation=organisation, user__email__iexact=email).exists():
        return Outcome.SKIPPED, "Already in the organisation."
    if run.by is None:
        return Outcome.REFUSED, "The admin who started this import is no longer an admin here."
    first, _, last = row.get("name", "").strip().partition(" ")
    if len(first) > NAME_MAX_LENGTH or len(last) > NAME_MAX_LENGTH:
        return Outcome.REFUSED, f"Names are at most {NAME_MAX_LENGTH} characters."
    coach = None
    if coach_email := row.get("coach email", "").strip().lower():
        if coach_email not in run.coaches:
            run.coaches[coach_email] = User.objects.filter(
                email__iexact=coach_email,
                memberships__organisation=organisation,
                memberships__role__in=REVIEWER_ROLES,
                memberships__is_active=True,
            ).first()
        coach = run.coaches[coach_email]
        if coach is None:
            # Not cached as missing: a coach may be added by a later row of the same file.
            del run.coaches[coach_email]
            return Outcome.REFUSED, f"{coach_email} is not a coach or admin here."
    cohort = None
    if cohort_name := row.get("cohort", "").strip()[:100]:
        # Outside the row's savepoint: a cohort the file names stays even if the row is
        # refused, so the cache never holds one that was rolled back.
        if cohort_name not in run.cohorts:
            run.cohorts[cohort_name] = Cohort.objects.get_or_create(
                organisation=organisation, name=cohort_name
            )[0]
        cohort = run.cohorts[cohort_name]
    try:
        with transaction.atomic():
            invited = _invite(
                by=run.by,
                organisation=organisation,
                email=email,
                first_name=first,
                last_name=last.strip(),
                role=role,
                cohort=cohort,
                coach=coach,
                source=f"imported from {people_import.file_name}",
            )
    except DomainError as error:
        return Outcome.REFUSED, error.message
    if invited.new_account:
        return Outcome.CREATED, "Invited by email."
    return Outcome.ADDED, "Already had a Sandpit account: added, and told by email."
