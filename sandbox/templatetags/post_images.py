"""Template filters for the images of a post and the preview of a draft as X will show it."""

from collections.abc import Sequence

from django import template
from django.urls import reverse

from sandbox.models import DraftRevision

register = template.Library()


def _with_urls(entries: Sequence[dict[str, object]]) -> list[dict[str, object]]:
    return [{**entry, "url": reverse("post_image", args=[entry["id"]])} for entry in entries]


@register.filter
def post_images(revision: DraftRevision | None, position: int = 0) -> list[dict[str, object]]:
    """The images of one post of a revision ({"id", "alt", "url"}), from the revision's
    own JSON: no query, so a timeline of many drafts costs nothing more."""
    if revision is None:
        return []
    by_post = revision.images_by_post
    return _with_urls(by_post[position]) if position < len(by_post) else []


@register.filter
def preview_posts(source: DraftRevision | list[dict[str, object]]) -> list[dict[str, object]]:
    """Each post's text and images for the preview card: from a saved revision, or as
    the composer built them from an unsaved form."""
    if not isinstance(source, DraftRevision):
        return source
    return [
        {"text": text, "images": _with_urls(images)}
        for text, images in zip(source.posts, source.images_by_post, strict=True)
    ]
