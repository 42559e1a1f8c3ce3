"""Filters for the trainee's record."""

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString

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


# Each rubric series has its own marker shape, besides its colour and dash, so the chart
# reads without colour even where a series is a single point (one review). The legend
# draws the same markers. Sizes give the three shapes about the same area.
_MARKERS = {
    "safe": '<circle class="sp-chart__dot" cx="{x}" cy="{y}" r="5"></circle>',
    "person_centred": '<rect class="sp-chart__dot" x="{left}" y="{top}" width="9" height="9">'
    "</rect>",
    "effective": '<polygon class="sp-chart__dot" points="{x},{apex} {right},{base} {left_base},'
    '{base}"></polygon>',
}


@register.simple_tag
def chart_marker(series: str, x: float, y: float) -> SafeString:
    """The marker of one score on the chart (or in its legend), centred on x, y."""
    shape = _MARKERS.get(series, _MARKERS["safe"])
    return format_html(
        shape,
        x=x,
        y=y,
        left=round(x - 4.5, 1),
        top=round(y - 4.5, 1),
        apex=round(y - 7, 1),
        base=round(y + 4.5, 1),
        right=round(x + 6.5, 1),
        left_base=round(x - 6.5, 1),
    )
