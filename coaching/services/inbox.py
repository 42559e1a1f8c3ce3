"""The inbox's state changes: who an item is assigned to, and whether it is dealt with."""

from __future__ import annotations

from collections.abc import Sequence

from coaching.models import InboxItem
from sandbox.models import WorkplaceAccount


def items_arrived(*, account: WorkplaceAccount, items: Sequence[InboxItem]) -> None:
    """New items fetched for ``account``: assign them to whoever looks after it today,
    and tell them. Called by the fetch (coaching.services.fetching) after it stores them."""
