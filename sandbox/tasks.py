"""Celery tasks for the trainee's world: thin, they re-read by id and call a service."""

from celery import shared_task


@shared_task(acks_late=True, ignore_result=True)
def simulate_audience(item_id: int) -> None:
    from sandbox import services

    services.audience_simulate(item_id=item_id)
