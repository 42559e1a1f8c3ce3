"""The link card under a post in the preview (sandbox.link_cards)."""

from django import template

from sandbox.link_cards import card_for

register = template.Library()


@register.inclusion_tag("sandbox/_link_card.html")
def link_card(text: str) -> dict[str, object]:
    return {"card": card_for(str(text))}
