"""Answering the public: a reply to, or a quote of, a post in the account's inbox, drafted
and reviewed like any post, and published as a real reply or quote on the platform.

An answer is a real post (unlike a practice response to a simulated timeline item): its
draft has no ``in_reply_to`` or ``quote_of`` of the sandbox's, so nothing treats it as
practice only. Its target travels as the ``Answer`` row until approval, which copies the
item's ``remote_id`` into the Publication (``publication_target``), so what is sent is
fixed at the approved moment.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Subquery
from django.utils import timezone

from coaching import notifications
from coaching.models import Answer, InboxItem, Publication
from coaching.selectors.inbox import inbox_visible_to, patient_details_in
from sandbox import access
from sandbox import services as sandbox_services
from sandbox.errors import InvalidInput, InvalidState, NotAllowed
from sandbox.models import Draft, DraftRevision, WorkplaceAccount

GONE = (
    "This post has been deleted (or hidden from the account), so it can no longer be "
    "answered. Mark it done in the inbox."
)
QUOTE_OF_PATIENT_DETAILS = (
    "This post contains a patient's details. Quoting it would publish them again under "
    "the organisation's name, so it cannot be quoted. Reply instead, without repeating "
    "the details, or move the conversation to a private channel."
)
# X: media is "mutually exclusive from Quote Tweet ID"; Mastodon 4.5: a quote cannot have
# attachments. Bluesky takes both (app.bsky.embed.recordWithMedia).
QUOTE_WITHOUT_IMAGES = (WorkplaceAccount.Platform.X, WorkplaceAccount.Platform.MASTODON)


NOT_YOURS_TO_ANSWER = (
    "Only the organisation's coaches and admins, or the person this post is given to, "
    "can answer it."
)


def answer_start(
    *,
    author: User,
    item: InboxItem,
    kind: str,
    text: str,
    thread: Sequence[str] = (),
) -> Draft:
    """A draft answering ``item`` (a reply or a quote), with its Answer, in one
    transaction. Refused for an item that is gone, on an account the author cannot post
    for, or (a quote) whose words hold a patient's details."""
    if kind not in Answer.Kind.values:
        raise InvalidInput("Choose whether to reply to the post or quote it.", field="kind")
    account = item.account
    # The same rules as the composer's: a member of the account's organisation, who may
    # see the post in the inbox (staff, or the person it is given to).
    access.require_member(author, account.organisation_id)
    if not inbox_visible_to(author).filter(pk=item.pk).exists():
        raise NotAllowed(NOT_YOURS_TO_ANSWER)
    _refuse_unanswerable(item, kind=kind)
    with transaction.atomic():
        # Locked so an item marked gone a moment ago is not answered after all.
        locked = InboxItem.objects.select_for_update().get(pk=item.pk)
        _refuse_unanswerable(locked, kind=kind)
        draft = sandbox_services.draft_create(
            author=author, account=account, text=text, thread=thread
        )
        Answer.objects.create(draft=draft, item=locked, kind=kind)
    return draft


def _refuse_unanswerable(item: InboxItem, *, kind: str) -> None:
    if not item.is_answerable:
        raise InvalidState(GONE)
    if kind == Answer.Kind.QUOTE and patient_details_in(item):
        raise InvalidState(QUOTE_OF_PATIENT_DETAILS)


def publication_target(draft: Draft, revision: DraftRevision) -> dict[str, str]:
    """What the approved revision answers, as the Publication keeps it
    (``reply_to_remote_id`` or ``quote_of_remote_id``); {} for a post that answers
    nothing. Refuses, at approval, what must not go out: an answer to a post known to be
    gone, a quote of a patient's details, a quote with images where the platform
    refuses them."""
    answer = Answer.objects.filter(draft=draft).select_related("item__account").first()
    if answer is None:
        return {}
    item = answer.item
    _refuse_unanswerable(item, kind=answer.kind)
    if answer.kind == Answer.Kind.QUOTE:
        if any(revision.images_by_post[0]) and item.account.platform in QUOTE_WITHOUT_IMAGES:
            raise InvalidState(
                f"{item.account.get_platform_display()} does not take images on a quote. "
                "Ask for the images to be removed from the first post, or reply instead."
            )
        return {"quote_of_remote_id": item.remote_id}
    return {"reply_to_remote_id": item.remote_id}


def answers_flagged_post(draft: Draft) -> bool:
    """Whether the draft answers an inbox post that holds a patient's details."""
    answer = Answer.objects.filter(draft=draft).select_related("item__account").first()
    return answer is not None and bool(patient_details_in(answer.item))


def answer_went_live(publication: Publication) -> int:
    """The answer is live: its item is done, handled by the answer's author (unless
    someone dealt with it already), and the notices about it leave the badge. Returns
    how many items that changed (0 or 1)."""
    open_items = InboxItem.objects.filter(
        answers__draft_id=publication.draft_id, state=InboxItem.State.OPEN
    )
    item_ids = list(open_items.values_list("pk", flat=True))
    changed = InboxItem.objects.filter(pk__in=item_ids, state=InboxItem.State.OPEN).update(
        state=InboxItem.State.DONE,
        handled_by_id=Subquery(
            Draft.objects.filter(pk=publication.draft_id).values("author_id")[:1]
        ),
        handled_at=timezone.now(),
    )
    for item_id in item_ids:
        notifications.inbox_notices_resolved(item_id=item_id)
    return changed


def answer_target_gone(publication: Publication) -> int:
    """The platform said the post this publication answers is deleted or hidden: its
    inbox item is marked gone (it stays, with its words, for the record)."""
    return InboxItem.objects.filter(
        answers__draft_id=publication.draft_id, gone_at__isnull=True
    ).update(gone_at=timezone.now())
