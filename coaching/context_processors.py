from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from coaching.selectors import standing_stops_for, unread_notification_count
from coaching.selectors.inbox import covering_lines


def banners(request: HttpRequest) -> dict[str, object]:
    """Coaching's part of every page: emergency stops, the unread notification count and who
    is covering an account."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {
        # Everyone in the organisation sees an emergency stop, trainees included.
        # Lazy too: the header shows them, the polled fragments do not.
        "standing_stops": SimpleLazyObject(lambda: list(standing_stops_for(user))),
        # Lazy: counted only when a template shows it (the header), so htmx fragments
        # and polls, which render no header, never pay for the query.
        "unread_notifications": SimpleLazyObject(lambda: unread_notification_count(user)),
        # Who is covering an account of the staff member's organisations today: one query,
        # and only when the header shows it.
        "covering": SimpleLazyObject(lambda: covering_lines(user)),
    }
