"""Every state change of a draft after authoring, and of its publication, one module per
subject (see docs/architecture.md). These modules are the only writers of ``Draft.status``
and ``Publication.status``. The public names are importable from here, as they always were.
"""

from coaching.services.accounts import (
    account_needs_reconnect,
    bluesky_connect,
    mastodon_connect,
    x_connect_finish,
    x_connect_start,
)
from coaching.services.claims import review_claim, review_claim_renew
from coaching.services.comments import comment_add
from coaching.services.drafts import draft_revised, draft_submit, draft_withdraw
from coaching.services.lockdown import account_lockdown, lockdown_step_done
from coaching.services.outbox import publication_sweep, standing_stop
from coaching.services.recovery import publication_reconcile, publication_retract, publication_retry
from coaching.services.review_modes import (
    _change_review_mode,
    review_mode_set_full,
    spot_check_hold,
)
from coaching.services.reviews import (
    MAX_SCHEDULE_AHEAD,
    AnchoredNote,
    check_override,
    review_approve,
    review_approve_clean,
    review_feedback_problems,
    review_reject,
    review_request_changes,
    review_suggestion_accept,
)
from coaching.services.sending import (
    MAX_NOT_SENT_TRIES,
    TOKEN_REFRESH_MARGIN,
    account_resume,
    publication_send,
)
from coaching.services.stops import publishing_resume, publishing_stop

__all__ = [
    "MAX_NOT_SENT_TRIES",
    "MAX_SCHEDULE_AHEAD",
    "TOKEN_REFRESH_MARGIN",
    "AnchoredNote",
    "_change_review_mode",
    "account_lockdown",
    "account_needs_reconnect",
    "account_resume",
    "bluesky_connect",
    "check_override",
    "comment_add",
    "draft_revised",
    "draft_submit",
    "draft_withdraw",
    "lockdown_step_done",
    "mastodon_connect",
    "publication_reconcile",
    "publication_retract",
    "publication_retry",
    "publication_send",
    "publication_sweep",
    "publishing_resume",
    "publishing_stop",
    "review_approve",
    "review_approve_clean",
    "review_claim",
    "review_claim_renew",
    "review_feedback_problems",
    "review_mode_set_full",
    "review_reject",
    "review_request_changes",
    "review_suggestion_accept",
    "spot_check_hold",
    "standing_stop",
    "x_connect_finish",
    "x_connect_start",
]
