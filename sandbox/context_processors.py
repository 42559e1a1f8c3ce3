from django.http import HttpRequest

from sandbox.selectors import REVIEWER_ROLES, roles_of


def roles(request: HttpRequest) -> dict[str, bool]:
    """What the navigation offers. Decorative only: every view checks access itself."""
    user_roles = roles_of(request.user) if hasattr(request, "user") else set()
    return {
        "is_reviewer": bool(user_roles & set(REVIEWER_ROLES)),
        "is_member": bool(user_roles),
    }
