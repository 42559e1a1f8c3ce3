"""Reads for answering the public: which inbox items a person may answer, and their own
answers to one. (What a draft answers comes with the draft: draft_display selects
``answer__item``, the queue's rows read it in their one query.)"""

from __future__ import annotations

from django.contrib.auth.models import User
from django.db.models import Prefetch

from coaching.models import Answer, InboxItem, Publication
from coaching.selectors.inbox import inbox_visible_to
from sandbox import selectors as sandbox_selectors
from sandbox.models import WorkplaceAccount


def answerable_item_for(user: User, pk: int) -> InboxItem | None:
    """The inbox item, if ``user`` may see it in the inbox (inbox_visible_to: staff, or
    the person it is given to) and may draft for its account (as the composer's
    accounts); None otherwise, as if it did not exist."""
    return (
        inbox_visible_to(user)
        .filter(pk=pk, account__in=sandbox_selectors.accounts_for_author(user).values("pk"))
        .select_related("account__organisation")
        .defer(*WorkplaceAccount.secrets_of("account"))
        .first()
    )


def answers_by(author: User, item: InboxItem) -> list[Answer]:
    """The author's own answers to the item, newest first, with their drafts: the composer
    lists them so the same post is not answered twice by mistake."""
    return list(
        Answer.objects.filter(item=item, draft__author=author)
        .select_related("draft__current_revision")
        .prefetch_related(
            Prefetch(
                "draft__publications",
                queryset=Publication.objects.order_by("-created_at"),
                to_attr="publication_list",  # what Draft.latest_publication reads
            )
        )
        .order_by("-created_at")
    )
