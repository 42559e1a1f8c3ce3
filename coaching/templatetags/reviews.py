"""How a review reads: its rubric and scores, its tags, who decided, its claim, and notes
anchored in the text."""

import dataclasses
import datetime as dt
import itertools
from collections.abc import Collection

from django import template
from django.template.loader import get_template
from django.utils import timezone
from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe

from coaching import fragments, portfolio, selectors
from coaching.models import RUBRIC, FeedbackNote, Review
from sandbox.models import Draft, DraftRevision

register = template.Library()


@register.filter
def claim_is_live(draft: Draft) -> bool:
    return selectors.claim_is_live(draft)


@register.simple_tag
def queue_rows(queue: selectors.Queue, chosen: Collection[tuple[int, int]] = ()) -> SafeString:
    """The queue's rows, each from the cache where it is there (coaching.fragments): the
    rows are polled every 15 seconds and rarely change between polls. ``chosen`` are the
    (draft, revision) pairs ticked to approve together, when a refused form comes back.

    Whether a row's post is clean (selectors.is_clean) is worked out only for rows not in
    the cache: their key holds the revision and the organisation's check settings, which
    are all the answer depends on."""
    now = timezone.now()
    chosen = set(chosen or ())  # an unset template variable comes as ""
    check_settings = {pk: repr(context) for pk, context in queue.check_contexts.items()}
    keys = [
        fragments.key(
            "queue-row",
            (
                *_queue_row_shows(row, now),
                check_settings.get(row.organisation_id),
                (row.draft_id, row.revision_id) in chosen,
            ),
        )
        for row in queue.rows
    ]

    def render(missing: list[int]) -> list[str]:
        row_template = get_template("coaching/_queue_row.html")
        return [
            row_template.render(
                {
                    "row": (row := queue.rows[n]),
                    "approvable": _approvable(row, queue),
                    "chosen": (row.draft_id, row.revision_id) in chosen,
                }
            )
            for n in missing
        ]

    return fragments.joined(keys, render)


def _queue_row_shows(row: selectors.QueueRow, now: dt.datetime) -> tuple[object, ...]:
    """Everything coaching/_queue_row.html shows that can change: the row's values (but
    the revision's words and images, which its id stands for), its route's wording, and
    how long it has waited."""
    values = tuple(
        getattr(row, f.name)
        for f in dataclasses.fields(row)
        if f.name not in ("route", "thread", "images")
    )
    return (*values, row.route.reason, fragments.age(row.submitted_at, now))


def _approvable(row: selectors.QueueRow, queue: selectors.Queue) -> bool:
    """Whether the viewer may tick the row to approve it with others: a clean post that no
    other coach is reviewing. The service checks all of it again when they do."""
    context = queue.check_contexts.get(row.organisation_id)
    return (
        row.revision_id is not None
        and not row.held_by_other
        and context is not None
        and selectors.is_clean(row.posts, context, images=row.images)
    )


@register.filter
def rubric_rows(review: Review) -> list[tuple[str, int, str]]:
    """(title, score, what that score means) for each quality the review scored."""
    return [
        (title, given, levels[given])
        for name, (title, levels) in RUBRIC.items()
        if (given := getattr(review, name)) is not None
    ]


@register.filter
def score(value: float | None) -> str:
    """A rubric score or mean score, or a dash for none."""
    if value is None:
        return "\N{EN DASH}"
    return f"{value:.1f}" if isinstance(value, float) else str(value)


register.filter("tag_labels", portfolio.tag_labels)
register.filter("reviewer_name", selectors.reviewer_name)
register.filter("actor_name", selectors.actor_name)


def _anchored_notes(revision: DraftRevision) -> list[FeedbackNote]:
    """The revision's notes on particular words, numbered in the order they were written.
    Reads the prefetched reviews and notes (sandbox.selectors.revisions_with_feedback),
    so it adds no queries; the numbering is kept on the revision for the page."""
    cached = getattr(revision, "_anchored_notes", None)
    if cached is None:
        cached = [
            note
            for review in revision.reviews.all()
            for note in review.notes.all()
            if note.anchor_start is not None and note.anchor_end is not None
        ]
        for number, note in enumerate(cached, start=1):
            note.anchor_number = number
        revision._anchored_notes = cached  # type: ignore[attr-defined]
    return cached


@register.simple_tag
def anchor_number(revision: DraftRevision, note: FeedbackNote) -> int | None:
    for anchored in _anchored_notes(revision):
        if anchored.pk == note.pk:
            return int(anchored.anchor_number)  # type: ignore[attr-defined]
    return None


@register.simple_tag
def anchored_post(revision: DraftRevision, index: int) -> SafeString:
    """One post of the revision, escaped, with the words each note is about marked and
    followed by a numbered link to the note (so the mark is not told by colour alone)."""
    text = revision.posts[index]
    spans = [
        (note, note.anchor_start, note.anchor_end)
        for note in _anchored_notes(revision)
        if note.post_index == index
        and note.anchor_start is not None
        and note.anchor_end is not None
        and text[note.anchor_start : note.anchor_end] == note.quote
    ]
    cuts = sorted({0, len(text), *(start for _, start, _ in spans), *(end for *_, end in spans)})
    pieces: list[str] = []
    for start, end in itertools.pairwise(cuts):
        chunk = text[start:end]
        covered = any(s <= start and end <= e for _, s, e in spans)
        pieces.append(
            format_html('<mark class="sp-anchor">{}</mark>', chunk) if covered else escape(chunk)
        )
        for note, _, note_end in spans:
            if note_end == end:
                number = note.anchor_number  # type: ignore[attr-defined]
                pieces.append(
                    format_html(
                        '<a class="sp-anchor__ref" id="anchor-{}" href="#note-{}">'
                        '<span aria-hidden="true">[{}]</span>'
                        '<span class="nhsuk-u-visually-hidden"> (see note {})</span></a>',
                        note.pk,
                        note.pk,
                        number,
                        number,
                    )
                )
    return mark_safe("".join(pieces))  # noqa: S308  (every piece above is escaped)


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
