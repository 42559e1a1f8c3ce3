"""Pieces of HTML kept in the cache (Redis), under keys made of everything they show.

Pages that are polled (the timeline every 10 seconds, the queue every 15) show dozens of
entries, nearly all of them unchanged since the last poll. Each entry's key is made of the
values that can change what it shows, so anything new makes a new key: nothing is ever
invalidated by hand, and a stale piece cannot be shown. Pieces hold nothing of the viewer's
that is not in their key.
"""

import datetime as dt
import hashlib
import logging
from collections.abc import Callable, Sequence
from typing import Any

from django.core.cache import cache
from django.utils.safestring import SafeString, mark_safe
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

# Long enough to serve many polls; "5 minutes ago" wording is in the keys, so a piece
# showing a time moves to a new key as the time it shows changes.
SECONDS = 6 * 60 * 60


def age(moment: dt.datetime | None, now: dt.datetime) -> tuple[int, ...] | None:
    """How old, as finely as "5 minutes ago" wording can show it (Django's timesince, two
    units deep). For keys: it is far cheaper than the wording, and changes whenever the
    wording does. Under a day the wording moves by the minute. After that it moves by the
    hour, and, once months are counted, with the calendar: a month is counted from the
    date and the time of day, so today's date is part of the age too."""
    if moment is None:
        return None
    seconds = int((now - moment).total_seconds())
    if seconds < 24 * 3600:
        return (seconds // 60,)
    return (now.date().toordinal(), seconds // 3600)


def key(kind: str, fingerprint: Sequence[Any]) -> str:
    return f"fragment:{kind}:" + hashlib.sha256(repr(tuple(fingerprint)).encode()).hexdigest()


def joined(keys: list[str], render: Callable[[list[int]], list[str]]) -> SafeString:
    """The pieces under these keys, in order, from the cache in one round trip; ``render``
    is given the positions of the missing ones and returns their HTML, which is kept."""
    try:
        cached = cache.get_many(keys)
    except RedisError:
        logger.warning("The cache is unreachable; rendering without it.")
        cached = {}
    missing = [n for n, k in enumerate(keys) if k not in cached]
    fresh = dict(zip((keys[n] for n in missing), render(missing) if missing else [], strict=True))
    if fresh:
        try:
            cache.set_many(fresh, timeout=SECONDS)
        except RedisError:
            logger.warning("The cache is unreachable; the rendered pieces were not kept.")
    parts = [cached[k] if k in cached else fresh[k] for k in keys]
    return mark_safe("".join(parts))  # noqa: S308 - the templates escaped every value
