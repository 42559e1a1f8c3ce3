"""A timeline's entries, each rendered once and then served from the cache (Redis).

The timeline is polled every 10 seconds and shows 50 entries, nearly all of them unchanged
since the last poll: a revision's text never changes (an edit is a new revision), nor does
a timeline item's. So each entry's HTML is kept under a key made of everything it shows
that can change: the draft's revision, status and last change, its publication's state,
the account's name, the reply and reaction counts, the "5 minutes ago" wording, the link.
Anything new makes a new key, so nothing is ever invalidated by hand, and a stale entry
cannot be shown. The HTML holds nothing of the viewer's but the link, which is in the key.
"""

import hashlib
import logging
from typing import Any

from django import template
from django.core.cache import cache
from django.template.loader import get_template
from django.urls import reverse
from django.utils.safestring import SafeString, mark_safe
from redis.exceptions import RedisError

from sandbox.models import Draft, TimelineItem
from sandbox.templatetags.sandpit import ago, audience_counts

register = template.Library()
logger = logging.getLogger(__name__)

# Long enough to serve many polls; an entry's "ago" wording changes its key anyway.
ENTRY_SECONDS = 6 * 60 * 60
KEY_PREFIX = "feed-entry:v1:"


def _draft_context(draft: Draft, viewer_id: int) -> dict[str, Any]:
    if draft.author_id == viewer_id:
        return {
            "draft": draft,
            "link": reverse("draft_detail", args=[draft.pk]),
            "link_text": "Open",
        }
    return {"draft": draft, "link": reverse("review", args=[draft.pk]), "link_text": "Review"}


def _fingerprint(entry: Draft | TimelineItem, context: dict[str, Any]) -> tuple[object, ...]:
    if isinstance(entry, Draft):
        publication = entry.latest_publication
        return (
            "draft",
            entry.pk,
            entry.updated_at,
            entry.status,
            entry.current_revision_id,
            entry.account.display_name,
            entry.account.handle,
            publication and (publication.pk, publication.updated_at),
            entry.in_reply_to_id,
            entry.quote_of_id,
            context["link"],
            ago(entry.updated_at),
        )
    counts = audience_counts(entry)
    return (
        "item",
        entry.pk,
        entry.account and (entry.account.display_name, entry.account.handle),
        getattr(entry, "reply_count", None),
        sorted(counts.items()),
        entry.quote_of_id,
        entry.draft_id,
        ago(entry.appear_at),
    )


def _key(fingerprint: tuple[object, ...]) -> str:
    return KEY_PREFIX + hashlib.sha256(repr(fingerprint).encode()).hexdigest()


@register.simple_tag(takes_context=True)
def feed_entries(context: template.Context, feed: list[Draft | TimelineItem]) -> SafeString:
    """Every entry of the feed, from the cache where it is there (one round trip)."""
    viewer_id = context["user"].pk
    contexts = [
        _draft_context(entry, viewer_id)
        if isinstance(entry, Draft)
        else {"item": entry, "link": True}
        for entry in feed
    ]
    keys = [_key(_fingerprint(entry, ctx)) for entry, ctx in zip(feed, contexts, strict=True)]
    try:
        cached = cache.get_many(keys)
    except RedisError:
        logger.warning("The cache is unreachable; rendering the feed without it.")
        cached = {}
    parts, fresh = [], {}
    for entry, ctx, key in zip(feed, contexts, keys, strict=True):
        html = cached.get(key)
        if html is None:
            name = (
                "sandbox/_post.html" if isinstance(entry, Draft) else "sandbox/_timeline_item.html"
            )
            html = get_template(name).render(ctx)
            fresh[key] = html
        parts.append(html)
    if fresh:
        try:
            cache.set_many(fresh, timeout=ENTRY_SECONDS)
        except RedisError:
            logger.warning("The cache is unreachable; the feed's entries were not kept.")
    return mark_safe("".join(parts))  # noqa: S308 - the templates escaped every value
