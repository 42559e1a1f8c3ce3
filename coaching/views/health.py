"""/health/ for load balancers and monitoring."""

import time

from celery.exceptions import TimeoutError as CeleryTimeoutError
from django.conf import settings
from django.contrib.auth.models import User
from django.db import DatabaseError, connection
from django.http import (
    HttpRequest,
    JsonResponse,
)
from django.views.decorators.http import require_safe

from sandbox import selectors as sandbox_selectors


@require_safe
def health(request: HttpRequest) -> JsonResponse:
    """For load balancers and monitoring: 200 only if the database answers, Redis answers
    and a Celery worker takes a heartbeat task off the queue and answers it in time.
    Which part failed, and how many posts are stuck, is shown only to staff (is_staff, or a
    coach or admin anywhere): to anyone else it would map the insides of the service."""
    from coaching import selectors as coaching_selectors
    from coaching.tasks import heartbeat

    checks: dict[str, object] = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        checks["database"] = "ok"
    except DatabaseError as exc:
        checks["database"] = f"error: {exc.__class__.__name__}"
    try:
        started = time.monotonic()
        heartbeat.apply_async(expires=settings.HEALTH_WORKER_TIMEOUT).get(
            timeout=settings.HEALTH_WORKER_TIMEOUT
        )
        checks["worker"] = "ok"
        checks["worker_round_trip_ms"] = round((time.monotonic() - started) * 1000)
    except CeleryTimeoutError:
        checks["worker"] = f"no answer within {settings.HEALTH_WORKER_TIMEOUT} seconds"
    except Exception as exc:  # the broker itself is down: kombu raises several kinds
        checks["worker"] = f"error: broker unreachable ({exc.__class__.__name__})"
    healthy = checks["database"] == "ok" and checks["worker"] == "ok"
    body: dict[str, object] = {"status": "ok" if healthy else "failing"}
    # Only signed-in staff (a User; the anonymous caller is not one) see the details.
    # Recognising them reads their session from the database: with the database down, no
    # one is recognised and everyone gets the bare status.
    user = request.user
    if (
        checks["database"] == "ok"
        and isinstance(user, User)
        and (
            user.is_staff
            or sandbox_selectors.roles_of(user) & set(sandbox_selectors.REVIEWER_ROLES)
        )
    ):
        checks["stuck_publishing"] = coaching_selectors.stuck_publication_count()
        body.update(checks)
    return JsonResponse(body, status=200 if healthy else 503)
