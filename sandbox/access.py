"""Who may do what: every role check in Sandpit, each with its one message.

Services call these before changing anything, and views call them before showing a page.
Each raises ``NotAllowed``, which ``sandbox.middleware.NotAllowedMiddleware`` turns into a
403 page with the message, so a view needs no handling of its own. Checks that an object
belongs to someone's organisation at all answer 404 instead, in the selectors that find it.
"""

from __future__ import annotations

from django.contrib.auth.models import User

from sandbox.errors import NotAllowed
from sandbox.models import Draft, Membership
from sandbox.selectors import (
    REVIEWER_ROLES,
    admin_organisation_ids,
    reviewer_organisation_ids,
    role_in,
)

REVIEWER_ONLY = "This is for the organisation's coaches and admins."
ADMIN_ONLY = "This is for the organisation's admins."
AUTHOR_ONLY = "Only the author of a draft can do that."
MEMBER_ONLY = "You can only do that for your own organisation."
OWN_DRAFT = "You cannot review your own draft: ask another coach."
CONVERSATION_ONLY = (
    "Only the trainee who wrote this post and the coaches of its organisation can comment on it."
)


def require_member(user: User, organisation_id: int) -> str:
    """The user's role in the organisation, which they must belong to."""
    role = role_in(user, organisation_id)
    if role is None:
        raise NotAllowed(MEMBER_ONLY)
    return role


def require_reviewer(user: User, organisation_id: int) -> None:
    """A coach or admin of the organisation."""
    if role_in(user, organisation_id) not in REVIEWER_ROLES:
        raise NotAllowed(REVIEWER_ONLY)


def require_admin(user: User, organisation_id: int) -> None:
    if role_in(user, organisation_id) != Membership.Role.ADMIN:
        raise NotAllowed(ADMIN_ONLY)


def require_author(draft: Draft, user: User) -> None:
    if draft.author_id != user.pk:
        raise NotAllowed(AUTHOR_ONLY)


def require_reviewer_of(draft: Draft, user: User) -> None:
    """A coach or admin of the draft's organisation, who did not write it."""
    require_reviewer(user, draft.account.organisation_id)
    if draft.author_id == user.pk:
        raise NotAllowed(OWN_DRAFT)


def require_in_conversation(draft: Draft, user: User) -> None:
    """The draft's comment thread: the trainee who wrote it, and the coaches and admins of
    its organisation."""
    if draft.author_id == user.pk:
        return
    if role_in(user, draft.account.organisation_id) not in REVIEWER_ROLES:
        raise NotAllowed(CONVERSATION_ONLY)


def reviewer_organisations(user: User) -> list[int]:
    """The organisations the user coaches or administers, for pages that are for coaches;
    refused when there are none."""
    organisation_ids = reviewer_organisation_ids(user)
    if not organisation_ids:
        raise NotAllowed(REVIEWER_ONLY)
    return organisation_ids


def admin_organisations(user: User) -> list[int]:
    """The organisations the user administers, for pages that are for admins; refused
    when there are none."""
    organisation_ids = admin_organisation_ids(user)
    if not organisation_ids:
        raise NotAllowed(ADMIN_ONLY)
    return organisation_ids
