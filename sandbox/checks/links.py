"""Links: one clear link per post."""

from __future__ import annotations

from collections.abc import Iterator

from sandbox.checks.base import CheckContext, Hit, Post


def link_count(post: Post, context: CheckContext) -> Iterator[Hit]:
    urls = post.urls
    if len(urls) > 1:
        yield Hit(
            urls[1].start,
            urls[-1].end,
            f"This post has {len(urls)} links. One link with a clear call to action gets more "
            "clicks; several split people's attention, and screen readers read each one out. "
            "Keep the one that matters most.",
        )
