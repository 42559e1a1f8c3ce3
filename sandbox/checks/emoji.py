"""Emoji: screen readers read each one aloud by its full name ("party popper")."""

from __future__ import annotations

import itertools
from collections.abc import Iterator

# The emoji grammar that counts a post's length, so both agree on what one emoji is.
from sandbox.checks.base import CheckContext, Hit, Post
from sandbox.tweet_text import _EMOJI

_MAX_EMOJI = 3


def emoji_overuse(post: Post, context: CheckContext) -> Iterator[Hit]:
    if post.text.isascii():  # every emoji has a character beyond ASCII
        return
    found = list(_EMOJI.finditer(post.text))
    if not found:
        return
    repeated = any(
        a.group() == b.group() and not post.text[a.end() : b.start()].strip()
        for a, b in itertools.pairwise(found)
    )
    if len(found) <= _MAX_EMOJI and not repeated:
        return
    problem = f"{len(found)} emoji" + (", with the same one repeated" if repeated else "")
    yield Hit(
        found[0].start(),
        found[-1].end(),
        f"This post has {problem}. Screen readers read every emoji aloud by its full name "
        f"(🎉 is 'party popper'), so a row of them is tiring to listen to. Use no more than "
        f"{_MAX_EMOJI}, and put them at the end rather than in place of words.",
    )
