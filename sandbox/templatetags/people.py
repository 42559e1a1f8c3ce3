"""How a person is named on a page: ``{{ user|person }}``."""

from django import template
from django.contrib.auth.models import User

from sandbox.selectors import display_name

register = template.Library()


@register.filter
def person(user: User | None) -> str:
    # Nobody (a deleted account, an unset field) renders as nothing, as a missing
    # attribute does in a template.
    return display_name(user) if user else ""
