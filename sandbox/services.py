"""Authoring writes: creating drafts and adding revisions.

Status changes after authoring belong to coaching.services, which holds the one
state machine; draft_edit asks it to move the draft when an edit must change state.
"""

from collections.abc import Sequence

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Max

from sandbox.errors import InvalidInput, InvalidState, NotAllowed
from sandbox.models import Draft, DraftRevision, WorkplaceAccount
from sandbox.selectors import role_in
from sandbox.tweet_text import parse_tweet

# X lets a thread run to 25 posts.
MAX_THREAD_POSTS = 25


def validate_post_text(text: str, *, position: int | None = None) -> str:
    """The one rule for what may be saved as a post's text."""
    which = "The post" if position is None else f"Post {position} of the thread"
    if not text.strip():
        raise InvalidInput(
            f"Write something before you save: {which.lower()} is empty.", field="text"
        )
    parsed = parse_tweet(text)
    if not parsed.valid:
        over = parsed.weighted_length - 280
        raise InvalidInput(
            f"{which} is {over} character{'s' if over != 1 else ''} over X's limit of 280. "
            "Shorten it, or split it into a thread.",
            field="text",
        )
    return text


def _validate_posts(text: str, thread: Sequence[str]) -> list[str]:
    posts = [text, *thread]
    if len(posts) > MAX_THREAD_POSTS:
        raise InvalidInput(
            f"A thread can have up to {MAX_THREAD_POSTS} posts; this one has {len(posts)}.",
            field="text",
        )
    for position, post in enumerate(posts, start=1):
        validate_post_text(post, position=position if len(posts) > 1 else None)
    return posts


def draft_create(
    *, author: User, account: WorkplaceAccount, text: str, thread: Sequence[str] = ()
) -> Draft:
    if role_in(author, account.organisation_id) is None:
        raise NotAllowed("You can only write drafts for your own organisation's accounts.")
    posts = _validate_posts(text, thread)
    with transaction.atomic():
        draft = Draft.objects.create(author=author, account=account)
        revision = DraftRevision.objects.create(
            draft=draft,
            number=1,
            text=text,
            thread=list(thread),
            content_hash=DraftRevision.hash_posts(posts),
        )
        draft.current_revision = revision
        draft.save(update_fields=["current_revision"])
    return draft


def draft_edit(*, draft: Draft, by: User, text: str, thread: Sequence[str] = ()) -> Draft:
    """Add a revision. Editing after changes were requested returns the draft to the
    trainee's desk; editing after approval voids the approval (coaching.services)."""
    from coaching import services as coaching_services

    if draft.author_id != by.pk:
        raise NotAllowed("Only the author of a draft can edit it.")
    posts = _validate_posts(text, thread)
    with transaction.atomic():
        # Lock the draft so two tabs saving at once get consecutive revision numbers.
        locked = Draft.objects.select_for_update().get(pk=draft.pk)
        if not locked.is_editable:
            raise InvalidState(
                f"This draft is {locked.get_status_display().lower()} and can no longer be "
                "edited. Start a new draft instead; your text is still in the box."
            )
        content_hash = DraftRevision.hash_posts(posts)
        current = locked.current_revision
        if current is not None and current.content_hash == content_hash:
            return locked  # Nothing changed: no new revision, no change of state.
        number = (locked.revisions.aggregate(n=Max("number"))["n"] or 0) + 1
        revision = DraftRevision.objects.create(
            draft=locked, number=number, text=text, thread=list(thread), content_hash=content_hash
        )
        coaching_services.draft_revised(draft=locked, revision=revision)
    locked.refresh_from_db()
    return locked
