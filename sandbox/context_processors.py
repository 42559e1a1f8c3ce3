from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from sandbox.selectors import REVIEWER_ROLES, roles_of


def roles(request: HttpRequest) -> dict[str, object]:
    """What the navigation and banners show. Decorative only: every view checks access."""
    from coaching.selectors import standing_stops_for, unread_notification_count

    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    user_roles = roles_of(user)
    return {
        "is_reviewer": bool(user_roles & set(REVIEWER_ROLES)),
        "is_admin": "admin" in user_roles,
        "is_member": bool(user_roles),
        "is_trainee": "trainee" in user_roles,
        # Everyone in the organisation sees an emergency stop, trainees included.
        "standing_stops": list(standing_stops_for(user)),
        # Lazy: counted only when a template shows it (the header), so htmx fragments
        # and polls, which render no header, never pay for the query.
        "unread_notifications": SimpleLazyObject(lambda: unread_notification_count(user)),
    }
