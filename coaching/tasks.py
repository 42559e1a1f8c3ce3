"""Celery tasks: another way in to the services. They take ids, re-read state and call
one service; all the rules live in coaching.services."""

import contextlib

from celery import shared_task

from coaching import notifications, services
from coaching.models import Publication
from coaching.services import account_cover, fetching, inbox, people, retention, subject_access
from sandbox import page_cache
from sandbox.errors import DomainError
from sandbox.models import WorkplaceAccount


@shared_task(acks_late=True, ignore_result=True)
def publish(publication_id: int) -> None:
    # Idempotent: the service claims the row with a conditional update, so a message
    # redelivered after a worker crash does nothing if the post was already handled.
    services.publication_send(publication_id=publication_id)


@shared_task(acks_late=True, ignore_result=True)
def resume_publishing(account_id: int) -> None:
    # Scheduled once per rate-limit reset: sends the account's waiting posts then.
    services.account_resume(account_id=account_id)


@shared_task(ignore_result=True)
def tell_settled() -> int:
    # Sent after a publication's commit (at most one message a moment per process, see
    # outbox._tell_soon), so telling people never slows or undoes a post; each message
    # tells about every settled post nobody has heard of yet.
    return notifications.tell_settled()


@shared_task(ignore_result=True)
def publication_settled(publication_id: int) -> int:
    # The one-message-per-post notice of earlier releases: a message of that kind still
    # in Redis after an upgrade tells about everything settled, as tell_settled does.
    return notifications.tell_settled()


@shared_task(acks_late=True, ignore_result=True)
def reconcile(publication_id: int) -> None:
    publication = Publication.objects.filter(pk=publication_id).first()
    if publication is None or publication.status != Publication.Status.UNCONFIRMED:
        return
    # If the account cannot be read this time, the sweep schedules another look.
    with contextlib.suppress(DomainError):
        services.publication_reconcile(publication=publication)


@shared_task(ignore_result=True)
def sweep_publications() -> dict[str, int]:
    return services.publication_sweep()


@shared_task
def heartbeat() -> str:
    """Answered by a worker to prove it is consuming (see the /health/ view)."""
    return "ok"


@shared_task(ignore_result=True)
def notify_past_target() -> int:
    # Idempotent: each coach hears once per draft (a unique constraint decides).
    return notifications.past_target_sweep()


@shared_task(ignore_result=True)
def send_digests() -> int:
    # Idempotent within a day: each coach's digest is claimed before it is sent.
    return notifications.send_due_digests()


@shared_task(acks_late=True, ignore_result=True)
def import_people(import_id: int) -> None:
    # Idempotent: a redelivered message carries on after the last row recorded, and a
    # person already in the organisation is skipped, never added twice.
    people.people_import_run(import_id=import_id)


@shared_task(acks_late=True, ignore_result=True)
def subject_access_export(export_id: int) -> None:
    # Idempotent: a redelivered message builds the zip again from the start; a finished
    # export is left alone.
    subject_access.export_run(export_id=export_id)


@shared_task(ignore_result=True)
def expire_subject_access_exports() -> int:
    return subject_access.exports_expire()


@shared_task(ignore_result=True)
def apply_retention() -> None:
    # Idempotent: each organisation's run locks its row, and what one run removed is not
    # due for the next.
    retention.retention_apply()


@shared_task(ignore_result=True)
def fetch_inboxes() -> int:
    # The beat's fan-out: one message per account that may be read now, so one slow or
    # failing platform never holds up another account's inbox.
    account_ids = list(fetching.fetchable_accounts().values_list("pk", flat=True))
    for account_id in account_ids:
        fetch_inbox.delay(account_id)
    return len(account_ids)


@shared_task(ignore_result=True)
def fetch_inbox(account_id: int) -> str:
    # Idempotent: items are stored once per account and post, and the cursor moves only
    # with them, so a redelivered or overlapping fetch stores nothing twice.
    account = WorkplaceAccount.objects.filter(pk=account_id).first()
    if account is None:
        return "gone"
    with page_cache.writes_for(account.organisation_id):
        return fetching.inbox_fetch(account=account).outcome


@shared_task(ignore_result=True)
def inbox_alerts() -> int:
    # Handover notes for cover that has started, then items past the response target:
    # each said once (conditional updates), so overlapping beats are harmless.
    return account_cover.handovers_due() + inbox.inbox_overdue_alerts()
