"""Connecting the organisation's accounts (admins), and pausing an account that needs
reconnecting.
"""

from __future__ import annotations

import re
import secrets
from functools import partial

import httpx
from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.core.validators import URLValidator
from django.db import transaction
from django.utils import timezone

from coaching.models import (
    AuditEvent,
)
from coaching.publishing import BLUESKY_DEFAULT_SERVICE, x_oauth
from coaching.publishing.base import (
    PublishError,
)
from coaching.publishing.bluesky import BlueskyPublisher
from coaching.publishing.mastodon import MastodonPublisher
from coaching.services.lifecycle import _audit
from coaching.services.outbox import publication_sweep
from sandbox import access, outbound
from sandbox.errors import InputProblems, InvalidInput, InvalidState, NotAllowed
from sandbox.models import Membership, WorkplaceAccount


def account_needs_reconnect(*, account: WorkplaceAccount, reason: str) -> None:
    """Pause the account's queue and tell its admins, once."""
    changed = WorkplaceAccount.objects.filter(
        pk=account.pk, status=WorkplaceAccount.Status.ACTIVE
    ).update(status=WorkplaceAccount.Status.NEEDS_RECONNECT, status_detail=reason)
    account.status, account.status_detail = WorkplaceAccount.Status.NEEDS_RECONNECT, reason
    if not changed:
        return
    _audit(
        AuditEvent.Action.ACCOUNT_NEEDS_RECONNECT,
        organisation_id=account.organisation_id,
        account=account,
        detail=reason,
    )
    admins = list(
        Membership.objects.filter(
            organisation_id=account.organisation_id, role=Membership.Role.ADMIN, is_active=True
        )
        .exclude(user__email="")
        .values_list("user__email", flat=True)
    )
    if admins:
        # After commit: the caller may be inside a transaction, and mail is network I/O.
        mail = partial(
            send_mail,
            subject=f"Sandpit: reconnect @{account.handle}",
            message=(
                f"Sandpit has stopped publishing to @{account.handle} on "
                f"{account.get_platform_display()}.\n\n{reason}\n\n"
                "Posts for this account are waiting, not lost. Reconnect the account on "
                "Sandpit's Accounts page and they will go out."
            ),
            from_email=None,
            recipient_list=admins,
            fail_silently=True,
        )
        transaction.on_commit(mail, robust=True)


def _timeout() -> httpx.Timeout:
    return httpx.Timeout(settings.PUBLISH_READ_TIMEOUT, connect=settings.PUBLISH_CONNECT_TIMEOUT)


def x_connect_start(*, by: User, organisation_id: int, redirect_uri: str) -> tuple[str, str, str]:
    """Begin X's OAuth 2.0 PKCE flow. Returns (authorize URL, state, verifier); the caller
    keeps state and verifier in the session until X sends the browser back."""
    access.require_admin(by, organisation_id)
    if not settings.X_CLIENT_ID:
        raise InvalidState("X_CLIENT_ID is not set, so Sandpit cannot ask X for access.")
    state, verifier = secrets.token_urlsafe(32), x_oauth.new_pkce_verifier()
    url = x_oauth.authorization_url(
        authorize_url=settings.X_AUTHORIZE_URL,
        client_id=settings.X_CLIENT_ID,
        redirect_uri=redirect_uri,
        state=state,
        verifier=verifier,
    )
    return url, state, verifier


def x_connect_finish(
    *, by: User, organisation_id: int, code: str, verifier: str, redirect_uri: str
) -> WorkplaceAccount:
    """Swap X's code for tokens, find out which account granted them, and save it."""
    access.require_admin(by, organisation_id)
    base_url = settings.X_API_BASE_URL
    try:
        tokens = x_oauth.exchange_code(
            base_url=base_url,
            client_id=settings.X_CLIENT_ID,
            client_secret=settings.X_CLIENT_SECRET,
            code=code,
            verifier=verifier,
            redirect_uri=redirect_uri,
            timeout=_timeout(),
        )
        identity = x_oauth.who_am_i(
            base_url=base_url, access_token=tokens.access_token, timeout=_timeout()
        )
    except PublishError as error:
        raise InvalidState(
            f"X did not complete the connection: {error} Please try again."
        ) from error
    return _save_connection(
        by=by,
        organisation_id=organisation_id,
        platform=WorkplaceAccount.Platform.X,
        handle=identity.username,
        display_name=identity.name or identity.username,
        remote_user_id=identity.user_id,
        access_token=tokens.access_token,
        refresh_token=tokens.refresh_token,
        token_expires_at=tokens.expires_at,
    )


def _save_connection(
    *, by: User, organisation_id: int, platform: str, handle: str, **fields: object
) -> WorkplaceAccount:
    """Create or update the account with fresh credentials, and re-open its queue."""
    with transaction.atomic():
        account = (
            WorkplaceAccount.objects.select_for_update()
            .filter(platform=platform, handle__iexact=handle)
            .first()
        )
        if account is not None and account.organisation_id != organisation_id:
            raise NotAllowed(f"@{handle} is already connected to another organisation.")
        if account is None:
            account = WorkplaceAccount(organisation_id=organisation_id, platform=platform)
        account.handle = handle
        for name, value in fields.items():
            setattr(account, name, value)
        account.status = WorkplaceAccount.Status.ACTIVE
        account.status_detail = ""
        account.connected_by = by
        account.connected_at = timezone.now()
        account.save()
        _audit(
            AuditEvent.Action.ACCOUNT_CONNECTED,
            organisation_id=organisation_id,
            actor=by,
            account=account,
            detail=f"@{handle} on {account.get_platform_display()}",
        )
    # Posts that waited for this account can go now.
    publication_sweep()
    return account


# What each platform's credentials look like. A value of another shape is refused before
# any connection: it is a typo, the account's real password, or an attempt to make a
# client library read a file (Mastodon.py treats a token that names a file as that file).
_MASTODON_TOKEN = re.compile(r"[A-Za-z0-9_\-.~+=]{20,512}")


_BLUESKY_APP_PASSWORD = re.compile(r"[a-z0-9]{4}(?:-[a-z0-9]{4}){3}", re.IGNORECASE)


_BLUESKY_HANDLE = re.compile(r"(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]*", re.I)


def _platform_url(url: str) -> str:
    """A server address an admin typed, if Sandpit may connect to it (sandbox.outbound)."""
    url = (url or "").strip().rstrip("/")
    try:
        URLValidator(schemes=["https"] if settings.PRODUCTION else ["https", "http"])(url)
        return outbound.check_url(url)
    except (ValidationError, ValueError) as exc:
        raise InvalidInput(
            "Enter the server's full address, like https://mastodon.social."
            + ("" if not settings.PRODUCTION else " It must start with https://."),
            field="server",
        ) from exc
    except outbound.ForbiddenAddress as exc:
        raise InvalidInput(
            f"Sandpit connects only to servers on the public internet: {exc}", field="server"
        ) from exc


def _bluesky_handle(value: str) -> str:
    handle = (value or "").strip().removeprefix("@")
    if not _BLUESKY_HANDLE.fullmatch(handle) or len(handle) > 253:
        raise InvalidInput(
            "Enter the account's handle, like nhsdemoboard.bsky.social.", field="handle"
        )
    return handle


def _credential(value: str, shape: re.Pattern[str], message: str) -> str:
    value = (value or "").strip()
    if not shape.fullmatch(value):
        raise InvalidInput(message, field="secret")
    return value


def mastodon_connect(
    *,
    by: User,
    organisation_id: int,
    server: str,
    access_token: str,
    client_id: str = "",
    client_secret: str = "",
) -> WorkplaceAccount:
    """Connect a Mastodon account with an access token made in the instance's
    Preferences > Development (scopes read and write:statuses). The application's client
    key and secret, from the same page, are optional: a lockdown needs them to revoke."""
    access.require_admin(by, organisation_id)
    problems = InputProblems()
    server = problems.check(lambda: _platform_url(server)) or ""
    access_token = (
        problems.check(
            lambda: _credential(
                access_token,
                _MASTODON_TOKEN,
                "Paste the access token exactly as Mastodon shows it: 20 or more letters, "
                "digits, dashes and underscores, with no spaces.",
            )
        )
        or ""
    )
    problems.raise_any()
    try:
        remote_id, username, name = MastodonPublisher(
            api_base_url=server,
            access_token=access_token,
            timeout=settings.PUBLISH_READ_TIMEOUT,
            session=outbound.checked_session(),
        ).identity()
    except PublishError as error:
        raise InvalidState(f"Mastodon did not accept that: {error}") from error
    return _save_connection(
        by=by,
        organisation_id=organisation_id,
        platform=WorkplaceAccount.Platform.MASTODON,
        handle=username,
        display_name=name or username,
        remote_user_id=remote_id,
        api_base_url=server,
        access_token=access_token,
        client_id=(client_id or "").strip(),
        client_secret=(client_secret or "").strip(),
    )


def bluesky_connect(
    *, by: User, organisation_id: int, server: str, handle: str, app_password: str
) -> WorkplaceAccount:
    """Connect a Bluesky account with an app password (Settings > App passwords), never
    the account's real password."""
    access.require_admin(by, organisation_id)
    problems = InputProblems()
    server = problems.check(lambda: _platform_url(server or BLUESKY_DEFAULT_SERVICE)) or ""
    handle = problems.check(lambda: _bluesky_handle(handle)) or ""
    app_password = (
        problems.check(
            lambda: _credential(
                app_password,
                _BLUESKY_APP_PASSWORD,
                "Enter an app password, four groups of four letters or digits like "
                "abcd-efgh-ijkl-mnop, made in Bluesky's settings. Never the account's own "
                "password.",
            )
        )
        or ""
    )
    problems.raise_any()
    publisher = BlueskyPublisher(
        service_url=server,
        handle=handle,
        app_password=app_password,
        public_base_url=settings.BLUESKY_PUBLIC_BASE_URL,
        timeout=settings.PUBLISH_READ_TIMEOUT,
        transport=outbound.CheckedTransport,
    )
    try:
        publisher.identity()  # logs in and asks the PDS who that is: proves the password
    except PublishError as error:
        raise InvalidState(f"Bluesky did not accept that: {error}") from error
    return _save_connection(
        by=by,
        organisation_id=organisation_id,
        platform=WorkplaceAccount.Platform.BLUESKY,
        handle=handle,
        display_name=handle,
        api_base_url=server,
        app_password=app_password,
        platform_session=publisher.session or "",
    )
