"""Template filters that draw posts the way X draws them."""

import datetime as dt
import functools
import itertools

from django import template
from django.utils import timezone
from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.timesince import timesince

from sandbox import audience, personas
from sandbox.checks import CHECKS, Finding
from sandbox.diff import word_diff
from sandbox.models import TimelineItem
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
    return _post_html(str(text))


# The HTML depends on the text alone, and a post's text never changes (an edit is a new
# revision, so new text), so each process extracts a text's entities once, not on every
# render and every 10-second poll. 4,096 posts of up to a few KB each: a few MB at most.
@functools.lru_cache(maxsize=4096)
def _post_html(text: str) -> SafeString:
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


_RANK = {"block": 3, "warn": 2, "tip": 1}


@register.filter
def highlight_findings(text: str, findings: list[Finding]) -> SafeString:
    """The text, escaped, with each finding's span marked; where findings overlap the
    most severe one wins, so a block is never hidden under a tip."""
    # Findings in an image's description point into that description, not the text.
    findings = [f for f in findings if f.media_index is None]
    cuts = sorted({0, len(text), *(f.start for f in findings), *(f.end for f in findings)})
    pieces: list[str] = []
    for start, end in itertools.pairwise(cuts):
        covering = [f for f in findings if f.start <= start and end <= f.end]
        chunk = text[start:end]
        if not covering:
            pieces.append(escape(chunk))
            continue
        worst = max(covering, key=lambda f: _RANK.get(f.severity, 0))
        pieces.append(
            format_html(
                '<mark class="sp-finding sp-finding--{}" title="{}">{}</mark>',
                worst.severity,
                worst.message,
                chunk,
            )
        )
    return mark_safe("".join(pieces))  # noqa: S308  (every piece above is escaped)


@register.filter
def check_title(code: str) -> str:
    return next((check.title for check in CHECKS if check.code == code), code)


@register.filter
def span_of(text: str, finding: Finding) -> str:
    """The words a finding is about; empty for findings about the whole post, and for
    findings in an image's description (see finding_words)."""
    if finding.media_index is not None or (finding.start == 0 and finding.end >= len(text)):
        return ""
    return text[finding.start : finding.end]


@register.simple_tag
def finding_words(finding: Finding, text: str, alts: list[str] | None = None) -> str:
    """The words a finding is about, in the post's text or in its image's description;
    empty for a finding about the whole of either."""
    if finding.media_index is None:
        return span_of(text, finding)
    if not alts or finding.media_index >= len(alts):
        return ""
    alt = alts[finding.media_index]
    if finding.start == 0 and finding.end >= len(alt):
        return ""
    return alt[finding.start : finding.end]


@register.filter
def finding_where(finding: Finding) -> str:
    """Where a finding is, for people: "" for the post's text, "Image 2's description"."""
    if finding.media_index is None:
        return ""
    return f"Image {finding.media_index + 1}\u2019s description"


@register.filter
def in_image(findings: list[Finding], index: int) -> list[Finding]:
    """The findings in one image's description (index counts from 0)."""
    return [f for f in findings if f.media_index == index]


@register.filter
def ago(moment: dt.datetime | None) -> str:
    """Relative time in plain words: "just now", "5 minutes ago"."""
    if moment is None:
        return ""
    if timezone.now() - moment < dt.timedelta(minutes=1):
        return "just now"
    return f"{timesince(moment)} ago"


@register.simple_tag
def revision_diff(old: str, new: str) -> SafeString:
    """<del>/<ins> runs, each labelled for screen readers (they do not announce the tags)."""
    pieces = []
    for op, text in word_diff(old, new):
        if op == "same":
            pieces.append(escape(text))
        elif op == "added":
            pieces.append(
                format_html(
                    '<ins><span class="nhsuk-u-visually-hidden">added: </span>{}</ins>', text
                )
            )
        else:
            pieces.append(
                format_html(
                    '<del><span class="nhsuk-u-visually-hidden">removed: </span>{}</del>', text
                )
            )
    return mark_safe("".join(pieces))  # noqa: S308  (every piece above is escaped)


@register.filter
def pair_posts(old: list[str], new: list[str]) -> list[tuple[str, str]]:
    """Posts of two revisions side by side; a post added or removed pairs with ''."""
    return list(itertools.zip_longest(old, new, fillvalue=""))


@register.filter
def persona(slug: str) -> personas.Persona | None:
    """The persona behind a simulated post; None for the trainee's own (or a retired slug)."""
    try:
        return personas.persona(slug) if slug else None
    except KeyError:
        return None


@register.filter
def audience_counts(item: TimelineItem) -> dict[str, int]:
    """X-style counts for a practice post, as its simulated audience stands right now."""
    return audience.counts_now(item.audience, item.appear_at, timezone.now())


@register.filter
def compact_number(value: int | None) -> str:
    """Counts as X shows them: 950, 1.2K, 14.2K, 3.4M."""
    number = int(value or 0)
    for size, suffix in ((1_000_000, "M"), (1_000, "K")):
        if number >= size:
            shown = f"{number / size:.1f}".rstrip("0").rstrip(".")
            return f"{shown}{suffix}"
    return str(number)


@register.filter
def minutes(seconds: int | str | None) -> int:
    return round(int(seconds or 0) / 60)


@register.filter
def since(moment: dt.datetime | None, start: dt.datetime | None) -> str:
    """Time from ``start`` as a clock, for a scenario's debrief: 0:00, 2:30, 1:05:00."""
    if moment is None or start is None:
        return ""
    seconds = max(0, int((moment - start).total_seconds()))
    hours, rest = divmod(seconds, 3600)
    minutes_part, secs = divmod(rest, 60)
    if hours:
        return f"{hours}:{minutes_part:02d}:{secs:02d}"
    return f"{minutes_part}:{secs:02d}"
