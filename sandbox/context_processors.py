import functools

from django.conf import settings
from django.http import HttpRequest
from django.utils.crypto import salted_hmac
from django.utils.functional import SimpleLazyObject

from sandbox.selectors import REVIEWER_ROLES, roles_of
from sandbox.signin import idle_timeout_seconds


def roles(request: HttpRequest) -> dict[str, object]:
    """What the navigation shows. Decorative only: every view checks access."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    # Lazy, like the banners: only the page's header asks, so the htmx fragments that are
    # polled every few seconds never pay for the query or the HMAC.
    user_roles = functools.cache(lambda: set(roles_of(user)))

    def is_reviewer() -> bool:
        return bool(user_roles() & set(REVIEWER_ROLES))

    return {
        "is_reviewer": SimpleLazyObject(is_reviewer),
        # For the idle warning (static/js/idle.js); the server enforces the timeout itself.
        # Counted from the earliest the server may last have noted use (a page read
        # refreshes its mark at most every IDLE_ACTIVITY_RESOLUTION_SECONDS), so the
        # warning comes early rather than late; at the deadline the page asks the server.
        "idle_timeout_seconds": SimpleLazyObject(
            lambda: (
                idle_timeout_seconds(user, is_reviewer())
                - settings.IDLE_ACTIVITY_RESOLUTION_SECONDS
            )
        ),
        "idle_warning_seconds": settings.IDLE_WARNING_MINUTES * 60,
        "is_admin": SimpleLazyObject(lambda: "admin" in user_roles()),
        "is_member": SimpleLazyObject(lambda: bool(user_roles())),
        "is_trainee": SimpleLazyObject(lambda: "trainee" in user_roles()),
        "autosave_owner": SimpleLazyObject(lambda: autosave_owner(user.pk)),
    }


def autosave_owner(user_pk: object) -> str:
    """Who the browser keeps unsent text for: an opaque, stable value per person.

    The browser keys what it keeps by this, so on a shared ward computer one person's
    unsent text is never offered to the next. It is an HMAC with the SECRET_KEY, not the
    id or username: the page (and anyone reading the browser's storage) learns nothing
    about who it is, and cannot make another person's.
    """
    return salted_hmac("sandbox.autosave-owner", str(user_pk), algorithm="sha256").hexdigest()[:32]
