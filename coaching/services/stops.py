"""Emergency stops: a coach or admin halts publishing for an account or the whole organisation,
and resumes it.
"""

from __future__ import annotations

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.utils import timezone

from coaching.models import (
    AuditEvent,
    PublishingStop,
)
from coaching.services.lifecycle import _audit, clean_reason
from coaching.services.outbox import publication_sweep
from sandbox import access
from sandbox.errors import InvalidState, NotAllowed
from sandbox.models import WorkplaceAccount


def publishing_stop(
    *, by: User, organisation_id: int, account: WorkplaceAccount | None = None, reason: str
) -> PublishingStop:
    access.require_reviewer(by, organisation_id)
    if account is not None and account.organisation_id != organisation_id:
        raise NotAllowed("That account belongs to another organisation.")
    reason = clean_reason(
        reason, missing="Say why you are stopping publishing; everyone will see it."
    )
    try:
        with transaction.atomic():
            stop = PublishingStop.objects.create(
                organisation_id=organisation_id, account=account, reason=reason, started_by=by
            )
            _audit(
                AuditEvent.Action.PUBLISHING_STOPPED,
                organisation_id=organisation_id,
                actor=by,
                account=account,
                detail=reason,
            )
    except IntegrityError as exc:
        raise InvalidState("Publishing is already stopped there.") from exc
    return stop


def publishing_resume(*, by: User, stop: PublishingStop) -> None:
    access.require_reviewer(by, stop.organisation_id)
    with transaction.atomic():
        ended = PublishingStop.objects.filter(pk=stop.pk, ended_at__isnull=True).update(
            ended_at=timezone.now(), ended_by=by
        )
        if not ended:
            raise InvalidState("Publishing has already been resumed.")
        _audit(
            AuditEvent.Action.PUBLISHING_RESUMED,
            organisation_id=stop.organisation_id,
            actor=by,
            account=stop.account,
            detail=f"Stopped because: {stop.reason}",
        )
    # Waiting posts go out now rather than at the next sweep.
    publication_sweep()
