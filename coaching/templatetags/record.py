"""Filters for the trainee's record."""

from django import template

from coaching.models import RUBRIC, Review
from coaching.portfolio import tag_labels

register = template.Library()


@register.filter(name="tag_labels")
def tag_labels_filter(tags: list[str]) -> str:
    return ", ".join(tag_labels(tags))


@register.filter
def score(value: float | None) -> str:
    """A rubric score or mean score, or a dash for none."""
    if value is None:
        return "\N{EN DASH}"
    return f"{value:.1f}" if isinstance(value, float) else str(value)


@register.filter
def titled_scores(review: Review) -> list[tuple[str, int]]:
    """The scores a review gave, each with its rubric heading."""
    return [(RUBRIC[name][0], value) for name, value in review.scores.items() if value is not None]
