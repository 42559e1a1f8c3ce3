"""Celery tasks for the trainee's world: thin, they re-read by id and call a service."""

from celery import shared_task


@shared_task(acks_late=True, ignore_result=True)
def simulate_audience(item_id: int) -> None:
    from sandbox import services

    services.audience_simulate(item_id=item_id)


@shared_task(ignore_result=True)
def discard_unattached_images() -> None:
    from sandbox import services

    services.post_images_discard_unattached()


@shared_task(ignore_result=True)
def clear_expired_sessions() -> None:
    from sandbox import services

    services.sessions_clear_expired()


@shared_task(ignore_result=True)
def link_card_fetch(url: str) -> None:
    from sandbox import link_cards

    link_cards.link_card_fetch(url=url)
