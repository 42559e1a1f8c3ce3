from django.http import HttpRequest

from sandbox.selectors import REVIEWER_ROLES, roles_of


def roles(request: HttpRequest) -> dict[str, bool]:
    """What the navigation offers. Decorative only: every view checks access itself."""
    user = getattr(request, "user", None)
    user_roles = roles_of(user) if user is not None and user.is_authenticated else set()
    return {
        "is_reviewer": bool(user_roles & set(REVIEWER_ROLES)),
        "is_member": bool(user_roles),
    }
