"""Retention: how long each organisation keeps what never reached its real account, set
by its admins and applied every night by a beat task (coaching.tasks.apply_retention).

What is due is read by one selector (coaching.selectors.retention.retention_due), which the
admin's dry run counts too, so the page says exactly what the next run removes. Every run
is audited with its counts, one event per organisation, even when it removed nothing.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import DatabaseError, models, transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone

from coaching.models import Answer, AuditEvent, InboxItem, Notification, PublishAttempt
from coaching.selectors.retention import KINDS, retention_due
from coaching.services.lifecycle import _audit
from sandbox import access
from sandbox.errors import InvalidInput
from sandbox.models import Draft, Organisation, ScenarioRun, TimelineItem

logger = logging.getLogger(__name__)


def retention_label(name: str) -> str:
    field = Organisation._meta.get_field(name)
    assert isinstance(field, models.Field)
    return str(field.verbose_name)


def retention_set(*, by: User, organisation_id: int, periods: Mapping[str, int]) -> list[str]:
    """Change the organisation's retention periods (validated by the model's own rules).
    Returns the changes, as the audit log words them."""
    access.require_admin(by, organisation_id)
    with transaction.atomic():
        organisation = Organisation.objects.select_for_update().get(pk=organisation_id)
        changed = []
        for name in Organisation.RETENTION_FIELDS:
            before, after = getattr(organisation, name), periods[name]
            if before != after:
                setattr(organisation, name, after)
                changed.append(f"{retention_label(name)}: {before} → {after}")
        others = [
            field.name
            for field in Organisation._meta.fields
            if field.name not in Organisation.RETENTION_FIELDS
        ]
        try:
            organisation.clean_fields(exclude=others)
        except ValidationError as exc:
            field, errors = next(iter(exc.message_dict.items()))
            raise InvalidInput(" ".join(errors), field=field) from exc
        if changed:
            organisation.save(update_fields=list(Organisation.RETENTION_FIELDS))
            _audit(
                AuditEvent.Action.RETENTION_CHANGED,
                organisation_id=organisation_id,
                actor=by,
                detail="; ".join(changed),
            )
    return changed


def retention_preview(*, by: User, organisation_id: int) -> dict[str, int]:
    """The dry run: what the next run would remove now, kind by kind."""
    access.require_admin(by, organisation_id)
    organisation = Organisation.objects.get(pk=organisation_id)
    return retention_due(organisation, timezone.now()).counts()


def retention_apply(*, now: dt.datetime | None = None) -> dict[int, dict[str, int]]:
    """Apply every organisation's retention. Returns each organisation's counts. One
    organisation's failure (logged) does not stop the others'; it is tried again the next
    night, and its missing audit event shows it did not run."""
    now = now or timezone.now()
    applied = {}
    # A legal hold keeps everyone's records as they are: retention waits until it is lifted.
    not_held = Organisation.objects.filter(records_on_hold=False)
    for organisation_id in not_held.order_by("pk").values_list("pk", flat=True):
        try:
            applied[organisation_id] = retention_apply_to(organisation_id=organisation_id, now=now)
        except DatabaseError:
            logger.exception("Retention failed for organisation %s.", organisation_id)
    return applied


def retention_apply_to(*, organisation_id: int, now: dt.datetime) -> dict[str, int]:
    """One organisation's run, in one transaction. The organisation's row is locked first,
    so two runs at once take turns and the second finds nothing left to do."""
    with transaction.atomic():
        organisation = Organisation.objects.select_for_update().get(pk=organisation_id)
        due = retention_due(organisation, now)
        counts = due.counts()
        # Read every id before removing anything: the querysets refer to one another.
        drafts = [
            *due.drafts_never_sent.values_list("pk", flat=True),
            *due.practice_responses.values_list("pk", flat=True),
        ]
        items = list(due.timeline_items.values_list("pk", flat=True))
        runs = list(due.scenario_runs.values_list("pk", flat=True))
        notifications = list(due.notifications.values_list("pk", flat=True))
        attempts = list(due.attempt_bodies.values_list("pk", flat=True))
        inbox_posts = list(due.inbox_posts.values_list("pk", flat=True))
        # Drafts first: a practice response holds on to the post it answers. Their images
        # go with them, files included (sandbox.models deletes a PostImage's file once its
        # row's deletion has committed).
        drafts_delete(Draft.objects.filter(pk__in=drafts))
        TimelineItem.objects.filter(pk__in=items).delete()
        ScenarioRun.objects.filter(pk__in=runs).delete()
        Notification.objects.filter(pk__in=notifications).delete()
        PublishAttempt.objects.filter(pk__in=attempts).update(error_body="")
        inbox_posts_remove(InboxItem.objects.filter(pk__in=inbox_posts))
        _audit(
            AuditEvent.Action.RETENTION_APPLIED,
            organisation_id=organisation_id,
            detail=describe_counts(counts),
        )
    return counts


def drafts_delete(drafts: QuerySet[Draft]) -> None:
    """Delete drafts with everything that is theirs (revisions, reviews, notes, images and
    their files, notifications); the audit log keeps its events, unlinked."""
    # A draft's pointer to its latest revision protects that revision: let it go first.
    drafts.update(current_revision=None)
    drafts.delete()


def inbox_posts_remove(items: QuerySet[InboxItem]) -> None:
    """The public's posts go; one Sandpit answered keeps its row, without its words and
    its author's name, so the answer's record still says which post it answered."""
    answered = Exists(Answer.objects.filter(item=OuterRef("pk")))
    items.filter(answered).update(text="", author_name="", risks=[])
    items.exclude(answered).delete()


def describe_counts(counts: Mapping[str, int]) -> str:
    return "Removed " + ", ".join(f"{counts[kind]} {words}" for kind, words in KINDS.items()) + "."
