"""Who got in, in the audit log: sign-ins, failed sign-ins, lockouts and changes to second
factors, from django-allauth's signals and sandbox's ``sign_in_locked`` (receivers connected
in CoachingConfig.ready).

The audit log belongs to organisations and a person can belong to several, each of whose
admins should see who got into an account that can act on their organisation. So each event
is written once in every organisation the person belongs to. A wrong password for a name
that is no account belongs to no organisation: it goes to the server log only.
"""

from __future__ import annotations

import logging
from typing import Any

from allauth.core.internal.httpkit import get_client_ip
from allauth.mfa.models import Authenticator
from allauth.usersessions.models import UserSession
from django.contrib.auth.models import User
from django.db import transaction
from django.http import HttpRequest

from coaching.models import AuditEvent
from coaching.services.lifecycle import _audit
from sandbox import access
from sandbox.errors import NotAllowed
from sandbox.models import Membership
from sandbox.selectors import active_memberships, display_name
from sandbox.signin import account_for_login

log = logging.getLogger(__name__)

FACTOR_NAMES = {
    Authenticator.Type.TOTP: "authenticator app",
    Authenticator.Type.WEBAUTHN: "passkey",
    Authenticator.Type.RECOVERY_CODES: "recovery codes",
}


def _address(request: HttpRequest | None) -> str:
    if request is None:
        return "an unknown address"
    return get_client_ip(request) or "an unknown address"


def audit_person(action: str, *, user: User, actor: User | None = None, detail: str) -> None:
    """One event in each of the person's organisations."""
    organisation_ids = Membership.objects.filter(user=user).values_list(
        "organisation_id", flat=True
    )
    for organisation_id in organisation_ids:
        _audit(action, organisation_id=organisation_id, actor=actor or user, detail=detail)


def on_signed_in(sender: Any, request: HttpRequest, user: User, **kwargs: Any) -> None:
    audit_person(AuditEvent.Action.SIGNED_IN, user=user, detail=f"From {_address(request)}.")


def on_sign_in_failed(
    sender: Any, credentials: dict[str, Any], request: HttpRequest | None = None, **kwargs: Any
) -> None:
    """Django's user_login_failed: a wrong password (credentials come without it)."""
    login = str(credentials.get("email") or credentials.get("username") or "")
    user = account_for_login(login)
    if user is None:
        log.info("Sign-in failed for unknown login %r from %s", login, _address(request))
        return
    audit_person(
        AuditEvent.Action.SIGN_IN_FAILED,
        user=user,
        detail=f"Wrong password, from {_address(request)}.",
    )


def on_second_step_failed(
    sender: Any, request: HttpRequest, user: User, authenticator: Authenticator, **kwargs: Any
) -> None:
    """allauth.mfa authentication_failed: a wrong code or passkey after the password."""
    audit_person(
        AuditEvent.Action.SIGN_IN_FAILED,
        user=user,
        detail=f"Wrong {FACTOR_NAMES.get(authenticator.type, 'second factor')}, "
        f"from {_address(request)}.",
    )


def on_sign_in_locked(
    sender: Any,
    request: HttpRequest,
    user: User | None,
    login: str,
    scope: str,
    wait_seconds: int,
    **kwargs: Any,
) -> None:
    minutes = max(1, round(wait_seconds / 60))
    what = (
        f"Sign-in to this account locked for {minutes} minutes after repeated wrong passwords"
        if scope == "account"
        else f"Sign-in from {_address(request)} locked for {minutes} minutes after repeated "
        "wrong passwords"
    )
    if user is None:
        log.warning("%s (login %r, from %s)", what, login, _address(request))
        return
    audit_person(
        AuditEvent.Action.SIGN_IN_LOCKED,
        user=user,
        detail=f"{what}, last from {_address(request)}.",
    )


def on_factor_added(sender: Any, user: User, authenticator: Authenticator, **kwargs: Any) -> None:
    audit_person(
        AuditEvent.Action.SECOND_FACTOR_ADDED,
        user=user,
        detail=f"Set up {_factor(authenticator)}.",
    )


def on_factor_removed(sender: Any, user: User, authenticator: Authenticator, **kwargs: Any) -> None:
    audit_person(
        AuditEvent.Action.SECOND_FACTOR_REMOVED,
        user=user,
        detail=f"Removed {_factor(authenticator)}.",
    )


def on_factor_reset(sender: Any, user: User, authenticator: Authenticator, **kwargs: Any) -> None:
    audit_person(
        AuditEvent.Action.RECOVERY_CODES_RENEWED,
        user=user,
        detail=f"Made new {_factor(authenticator)}; the old ones no longer work.",
    )


def _factor(authenticator: Authenticator) -> str:
    name = FACTOR_NAMES.get(authenticator.type, "a second factor")
    if authenticator.type == Authenticator.Type.WEBAUTHN:
        label = str(authenticator.data.get("name") or "").strip()
        return f"a passkey ({label})" if label else "a passkey"
    if authenticator.type == Authenticator.Type.TOTP:
        return "an authenticator app"
    return name


def second_factors_reset(*, by: User, organisation_id: int, member: User) -> int:
    """The lost-device path: an admin of the organisation removes every second factor of
    one of its members (passkeys, authenticator app, recovery codes) and signs them out
    everywhere. They set up a new one at their next sign-in, if the organisation requires
    it. Audited in every organisation the member belongs to. Returns how many factors went.
    """
    access.require_admin(by, organisation_id)
    if not Membership.objects.filter(user=member, organisation_id=organisation_id).exists():
        raise NotAllowed(access.MEMBER_ONLY)
    # A person's second factors guard every organisation they belong to: one organisation's
    # admin may not remove what protects another's account, nor an operator's.
    elsewhere = (
        active_memberships()
        .filter(user=member)
        .exclude(organisation_id__in=access.admin_organisations(by))
    )
    if member.is_staff or member.is_superuser or elsewhere.exists():
        raise NotAllowed(
            f"{display_name(member)} also belongs to another organisation, or runs this "
            "installation: ask the installation's operators to reset their second factors."
        )
    with transaction.atomic():
        removed, _ = Authenticator.objects.filter(user=member).delete()
        for session in UserSession.objects.filter(user=member):
            session.end()
        audit_person(
            AuditEvent.Action.SECOND_FACTORS_RESET,
            user=member,
            actor=by,
            detail=f"Removed every second factor of {display_name(member)} and signed them "
            "out everywhere (lost device).",
        )
    return removed
