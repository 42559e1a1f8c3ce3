"""Template filters that draw posts the way X draws them."""

from django import template
from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe

from sandbox.tweet_text import extract_entities, parse_tweet

register = template.Library()

# X shows links without their scheme, cut to this many characters with an ellipsis.
URL_DISPLAY_LENGTH = 26


def _display_url(url: str) -> str:
    shown = url.split("://", 1)[-1]
    return shown if len(shown) <= URL_DISPLAY_LENGTH else shown[: URL_DISPLAY_LENGTH - 1] + "…"


@register.filter
def post_html(text: str) -> SafeString:
    """Escape the text and link its entities. Mentions, hashtags and cashtags stay inside
    the sandbox (they link nowhere outside); URLs show shortened, as on X."""
    # Entity indices count code points; Python strings index code points too.
    parts: list[str] = []
    cursor = 0
    for entity in sorted(extract_entities(text), key=lambda e: e.start):
        parts.append(escape(text[cursor : entity.start]))
        shown = text[entity.start : entity.end]
        if entity.kind == "url":
            href = entity.value if "://" in entity.value else f"https://{entity.value}"
            parts.append(
                format_html(
                    '<a class="sp-entity sp-entity--url" href="{}" rel="noopener noreferrer '
                    'nofollow" title="{}">{}</a>',
                    href,
                    entity.value,
                    _display_url(entity.value),
                )
            )
        else:
            parts.append(
                format_html('<span class="sp-entity sp-entity--{}">{}</span>', entity.kind, shown)
            )
        cursor = entity.end
    parts.append(escape(text[cursor:]))
    return mark_safe("".join(parts))  # noqa: S308  (every piece above is escaped)


@register.filter
def initials(name: str) -> str:
    words = [word for word in str(name).split() if word[:1].isalnum()]
    return "".join(word[0] for word in words[:2]).upper() or "?"


@register.filter
def weighted_length(text: str | None) -> int:
    return parse_tweet(text or "").weighted_length
