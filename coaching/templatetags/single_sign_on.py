"""The sign-in page's single sign-on buttons."""

from django import template
from django.http import HttpRequest

from coaching.services import single_sign_on as sign_on_rules
from sandbox.middleware import allow_form_target
from sandbox.models import SingleSignOn

register = template.Library()


@register.simple_tag
def sign_ons_asked_for(request: HttpRequest) -> list[SingleSignOn]:
    """The provider of the organisation a sign-in link names (?organisation=<slug>)."""
    slug = request.GET.get("organisation", "")
    sign_on = sign_on_rules.sign_on_for(slug) if slug else None
    if sign_on is None:
        return []
    allow_form_target(request, sign_on.issuer)
    return [sign_on]
