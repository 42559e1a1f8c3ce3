"""Reads for answering the public: which inbox items a person may answer, and what a
draft answers (for the draft page, the queue row and the review page)."""

from __future__ import annotations

from django.contrib.auth.models import User

from coaching.models import Answer, InboxItem
from sandbox import selectors as sandbox_selectors
from sandbox.models import WorkplaceAccount


def answerable_item_for(user: User, pk: int) -> InboxItem | None:
    """The inbox item, if it is on an account ``user`` may draft for (a member of its
    organisation, as the composer's accounts); None otherwise, as if it did not exist."""
    return (
        InboxItem.objects.filter(
            pk=pk, account__in=sandbox_selectors.accounts_for_author(user).values("pk")
        )
        .select_related("account__organisation")
        .defer(*WorkplaceAccount.secrets_of("account"))
        .first()
    )


def answer_of(draft_id: int) -> Answer | None:
    """What the draft answers (the item and its author), or None for an ordinary post."""
    return Answer.objects.filter(draft_id=draft_id).select_related("item").first()
