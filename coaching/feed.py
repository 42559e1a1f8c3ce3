"""A timeline's feed: which entries it shows, and their HTML, kept in the cache (Redis).

The timeline is polled every 10 seconds and shows 50 entries, nearly all of them unchanged
since the last poll: a revision's text never changes (an edit is a new revision), nor does
a timeline item's. So the feed is read in two steps:

1. ``feed_for`` reads, for the newest entries only, the few columns that say what each one
   shows and that can change: the draft's revision, status and last change, its newest
   publication, the account's name, the reply count and the simulated audience. Plain
   values in two queries, no model instances.
2. ``feed_html`` makes each entry's cache key of those values (plus the "5 minutes ago"
   wording and the link) and fetches every key in one round trip (coaching.fragments).
   Only entries that changed are loaded in full and rendered.
"""

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import User
from django.db.models import Count, IntegerField, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce
from django.template.loader import get_template
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import SafeString

from coaching import fragments
from coaching.draft_display import with_display_data
from coaching.models import Publication
from sandbox import audience, page_cache
from sandbox.models import Draft, TimelineItem, WorkplaceAccount
from sandbox.selectors import in_organisations, reviewer_organisation_ids

FEED_LENGTH = 50

DRAFT_COLUMNS = (
    "pk",
    "updated_at",
    "status",
    "current_revision_id",
    "account__display_name",
    "account__handle",
    "in_reply_to_id",
    "quote_of_id",
    "publication_id",
    "publication_changed",
)
ITEM_COLUMNS = (
    "pk",
    "appear_at",
    "account__display_name",
    "account__handle",
    "persona",
    "kind",
    "quote_of_id",
    "draft_id",
    "scenario_run_id",
    "reply_count",
    "audience",
)


@dataclass(frozen=True)
class FeedEntry:
    """One entry of a feed, by what it shows: a draft or a timeline item."""

    is_draft: bool
    pk: int
    moment: dt.datetime
    shown: tuple[Any, ...]  # the values above, as read
    reply_count: int = 0


@dataclass(frozen=True)
class Feed:
    owner_id: int
    entries: list[FeedEntry]

    def __len__(self) -> int:
        return len(self.entries)


def feed_for(owner_id: int, *, viewer: User | None = None) -> Feed:
    """The owner's timeline, newest first: their drafts and the posts that have arrived
    (practice posts, personas, scenario injects). A coach (``viewer``) sees only what
    belongs to organisations they coach, should the trainee belong to several. Two
    queries, and a third for when the next one is due, however long the timeline."""
    now = timezone.now()
    drafts_q = Draft.objects.filter(author_id=owner_id).exclude(status=Draft.Status.WITHDRAWN)
    items_q = TimelineItem.objects.filter(
        owner_id=owner_id, parent__isnull=True, appear_at__lte=now
    )
    if viewer is not None and viewer.pk != owner_id:
        coached = reviewer_organisation_ids(viewer)
        drafts_q = drafts_q.filter(account__organisation_id__in=coached)
        items_q = items_q.filter(in_organisations(coached))
    newest_publication = Publication.objects.filter(draft=OuterRef("pk")).order_by("-created_at")
    drafts = (
        drafts_q.annotate(
            publication_id=Subquery(newest_publication.values("pk")[:1]),
            publication_changed=Subquery(newest_publication.values("updated_at")[:1]),
        )
        .order_by("-updated_at")
        .values_list(*DRAFT_COLUMNS)[:FEED_LENGTH]
    )
    replies = (
        TimelineItem.objects.filter(parent=OuterRef("pk"), appear_at__lte=now)
        .order_by()
        .values("parent")
        .annotate(n=Count("pk"))
        .values("n")
    )
    items = (
        items_q.annotate(
            reply_count=Coalesce(Subquery(replies, output_field=IntegerField()), Value(0))
        )
        .order_by("-appear_at")
        .values_list(*ITEM_COLUMNS)[:FEED_LENGTH]
    )
    # A page showing this feed is kept (sandbox.page_cache) until the next post or reply
    # is due to appear in it.
    due = (
        TimelineItem.objects.filter(owner_id=owner_id, appear_at__gt=now)
        .order_by("appear_at")
        .values_list("appear_at", flat=True)
        .first()
    )
    if due is not None:
        page_cache.changes_at(due.timestamp())
    entries = [FeedEntry(True, row[0], row[1], row) for row in drafts]
    entries += [FeedEntry(False, row[0], row[1], row, reply_count=row[-2]) for row in items]
    entries.sort(key=lambda entry: entry.moment, reverse=True)
    return Feed(owner_id, entries[:FEED_LENGTH])


def _fingerprint(entry: FeedEntry, own: bool, now: dt.datetime) -> tuple[Any, ...]:
    if entry.is_draft:
        # The owner opens their draft; a coach reviews it.
        shown: tuple[Any, ...] = (*entry.shown, "open" if own else "review")
    else:
        counts = audience.counts_now(entry.shown[-1], entry.moment, now)
        shown = (*entry.shown[:-1], sorted(counts.items()))
        rises = audience.counts_change_at(entry.shown[-1], entry.moment, now)
        if rises is not None:
            page_cache.changes_at(rises.timestamp())
    return (*shown, fragments.age(entry.moment, now))


def feed_html(feed: Feed, *, viewer_id: int) -> SafeString:
    """Every entry of the feed, from the cache where it is there (one round trip); the
    rest loaded in two queries at most, rendered and kept."""
    now = timezone.now()
    own = feed.owner_id == viewer_id
    keys = [
        fragments.key("draft" if entry.is_draft else "item", _fingerprint(entry, own, now))
        for entry in feed.entries
    ]
    return fragments.joined(keys, lambda missing: _render([feed.entries[n] for n in missing], own))


def _render(entries: list[FeedEntry], own: bool) -> list[str]:
    draft_pks = [entry.pk for entry in entries if entry.is_draft]
    item_pks = [entry.pk for entry in entries if not entry.is_draft]
    drafts = (
        with_display_data(Draft.objects.filter(pk__in=draft_pks)).in_bulk() if draft_pks else {}
    )
    items = (
        TimelineItem.objects.select_related("account", "quote_of__account")
        .defer(*WorkplaceAccount.secrets_of("account", "quote_of__account"))
        .in_bulk(item_pks)
        if item_pks
        else {}
    )
    post = get_template("sandbox/_post.html")
    item_template = get_template("sandbox/_timeline_item.html")
    html = []
    for entry in entries:
        # Gone between the two reads (withdrawn, purged, removed by retention): nothing to
        # show, and the next poll's feed will not list it.
        if entry.is_draft:
            draft = drafts.get(entry.pk)
            html.append(post.render(_draft_context(draft, own)) if draft else "")
        else:
            item = items.get(entry.pk)
            if item is not None:
                item.reply_count = entry.reply_count  # type: ignore[attr-defined]
            html.append(item_template.render({"item": item, "link": True}) if item else "")
    return html


def _draft_context(draft: Draft, own: bool) -> dict[str, Any]:
    if own:
        return {
            "draft": draft,
            "link": reverse("draft_detail", args=[draft.pk]),
            "link_text": "Open",
        }
    return {"draft": draft, "link": reverse("review", args=[draft.pk]), "link_text": "Review"}
