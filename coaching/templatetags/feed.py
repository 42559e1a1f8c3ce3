"""The feed's entries in a template, each from the cache where it is there (coaching.feed)."""

from django import template
from django.utils.safestring import SafeString

from coaching.feed import Feed, feed_html

register = template.Library()


@register.simple_tag(takes_context=True)
def feed_entries(context: template.Context, feed: Feed) -> SafeString:
    return feed_html(feed, viewer_id=context["user"].pk)
