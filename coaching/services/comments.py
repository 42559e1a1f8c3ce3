"""A draft's comment thread: the trainee and the coaches of its organisation talk about
the post (a question, an answer to feedback, a request to let it through)."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.db import transaction

from coaching import notifications
from coaching.models import NOTE_MAX_LENGTH, AuditEvent, DraftComment
from coaching.selectors import in_conversation
from coaching.services.lifecycle import _audit
from sandbox import access
from sandbox.errors import InvalidInput
from sandbox.models import Draft


def _clean_comment(body: str) -> str:
    body = (body or "").strip()
    if not body:
        raise InvalidInput("Write your comment before sending it.", field="body")
    if len(body) > NOTE_MAX_LENGTH:
        raise InvalidInput(
            f"A comment can be up to {NOTE_MAX_LENGTH} characters; this one is {len(body)}.",
            field="body",
        )
    return body


def comment_add(*, draft: Draft, by: User, body: str) -> DraftComment:
    """Add to the draft's thread, in the audit log, and tell the others in it (after
    commit, like every notice)."""
    access.require_in_conversation(draft, by)
    body = _clean_comment(body)
    with transaction.atomic():
        comment = DraftComment.objects.create(
            draft=draft, author=by, revision=draft.current_revision, body=body
        )
        _audit(
            AuditEvent.Action.COMMENTED,
            organisation_id=draft.account.organisation_id,
            actor=by,
            account=draft.account,
            revision=draft.current_revision,
            trainee=draft.author,
            # Who and where, never the words: the audit log cannot be changed, and a comment
            # can hold what a purge or an erasure must remove (a patient's name).
            detail=f"Comment {comment.pk} on draft {draft.pk}",
        )
        notifications.comment_added(comment=comment, to=in_conversation(draft))
    return comment
