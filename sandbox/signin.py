"""Sandpit's rules around django-allauth's sign-in: who may sign up (nobody: people are
invited), what a locked sign-in says, the idle timeout, and the second factor an
organisation can require of its coaches and admins.

allauth does the work (passwords, throttling, passkeys, authenticator-app codes, recovery
codes, sessions); this module only states Sandpit's choices, in one place. What is audited
is coaching's business: this module announces (``sandbox.signals.sign_in_locked``) and
coaching's receivers write the audit log.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from allauth.account.adapter import DefaultAccountAdapter
from allauth.account.utils import filter_users_by_email, filter_users_by_username
from allauth.core.internal import ratelimit
from allauth.mfa.models import Authenticator
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.models import AbstractBaseUser, User
from django.contrib.auth.views import redirect_to_login
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django_htmx.http import HttpResponseClientRedirect

from sandbox.selectors import REVIEWER_ROLES, standings
from sandbox.signals import sign_in_locked

# Set on requests a person did not make themselves (htmx polling: static/js/idle.js adds it).
BACKGROUND_HEADER = "X-Sandpit-Background"
LAST_ACTIVITY = "sandpit_last_activity"
SECOND_FACTOR_OK = "sandpit_second_factor_ok"
SIGNED_OUT_IDLE = "sandpit_signed_out_idle"


def account_for_login(login: str) -> User | None:
    """The account a typed username or email address names, if any."""
    login = (login or "").strip()
    if not login:
        return None
    users = filter_users_by_email(login) if "@" in login else filter_users_by_username(login)
    found = list(users[:2])
    return found[0] if len(found) == 1 else None


def _typed_login(credentials: dict[str, Any]) -> str:
    return str(credentials.get("email") or credentials.get("username") or "")


def locked_for(request: HttpRequest, key: str) -> dict[str, int]:
    """How long until the sign-in throttle lets this address ("ip") and this account
    ("key") try again, for each that is locked. allauth keeps each window's failures newest
    first; a full window opens when its oldest counted failure ages out of it."""
    waits: dict[str, int] = {}
    now = time.time()
    for rate in ratelimit.get_rates(app="allauth.account", action="login_failed"):
        cache_key = ratelimit.get_cache_key(
            request, app="allauth.account", action="login_failed", rate=rate, key=key
        )
        history = [stamp for stamp in cache.get(cache_key, []) if stamp > now - rate.duration]
        if len(history) >= rate.amount:
            waits[rate.per] = math.ceil(history[rate.amount - 1] + rate.duration - now)
    return waits


def wait_in_words(seconds: int) -> str:
    minutes = math.ceil(seconds / 60)
    if minutes <= 1:
        return "1 minute"
    return f"{minutes} minutes"


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request: HttpRequest) -> bool:
        # Organisations invite their people; nobody signs themselves up.
        return False

    def _get_login_attempts_cache_key(self, request: HttpRequest, **credentials: Any) -> str:
        # allauth counts failures per login as typed, so a username and an email address
        # would each get their own allowance for one account. Count per account when the
        # login names one; per login as typed otherwise (an unknown name locks only itself).
        user = account_for_login(_typed_login(credentials))
        if user is not None:
            return f"account:{user.pk}"
        return f"login:{_typed_login(credentials).lower()}"

    def pre_authenticate(self, request: HttpRequest, **credentials: Any) -> None:
        try:
            super().pre_authenticate(request, **credentials)
        except ValidationError as error:
            if error.code != "too_many_login_attempts":
                raise
            key = self._get_login_attempts_cache_key(request, **credentials)
            waits = locked_for(request, key)
            where = "from this network" if "key" not in waits else "for this account"
            raise ValidationError(
                f"Sign-in is paused {where} after too many wrong passwords. Try again in "
                f"{wait_in_words(max(waits.values(), default=60))}. If you have forgotten your "
                "password, reset it.",
                code="too_many_login_attempts",
            ) from error

    def authentication_failed(self, request: HttpRequest, **credentials: Any) -> None:
        # This wrong password may have filled a window: announce the lockout once, here,
        # rather than on every refused try after it.
        key = self._get_login_attempts_cache_key(request, **credentials)
        for scope, wait in locked_for(request, key).items():
            sign_in_locked.send(
                sender=type(self),
                request=request,
                user=account_for_login(_typed_login(credentials)),
                login=_typed_login(credentials),
                scope="address" if scope == "ip" else "account",
                wait_seconds=wait,
            )


# The idle timeout


def idle_timeout_seconds(user: AbstractBaseUser, reviewer: bool) -> int:
    """Coaches, admins and the installation's staff: the short timeout; trainees the
    longer one."""
    staff = getattr(user, "is_staff", False)
    minutes = (
        settings.IDLE_TIMEOUT_MINUTES
        if reviewer or staff
        else settings.TRAINEE_IDLE_TIMEOUT_MINUTES
    )
    return int(minutes) * 60


def _second_factor_rules(user: AbstractBaseUser) -> tuple[bool, bool]:
    """(coaches or administers anywhere, must have a second factor), from the memberships
    the rest of the request reads too (sandbox.selectors.standings)."""
    reviewing = [s for s in standings(user) if s.role in REVIEWER_ROLES]  # type: ignore[arg-type]
    return bool(reviewing), any(s.second_factor_required for s in reviewing)


def is_background(request: HttpRequest) -> bool:
    return request.headers.get(BACKGROUND_HEADER) == "1"


def seconds_left(request: HttpRequest, reviewer: bool) -> int:
    last = request.session.get(LAST_ACTIVITY)
    timeout = idle_timeout_seconds(request.user, reviewer)  # type: ignore[arg-type]
    if last is None:
        return timeout
    return max(0, math.floor(last + timeout - time.time()))


def mark_active(request: HttpRequest) -> None:
    now = time.time()
    last = request.session.get(LAST_ACTIVITY)
    if (
        request.method == "POST"
        or last is None
        or now - last >= settings.IDLE_ACTIVITY_RESOLUTION_SECONDS
    ):
        request.session[LAST_ACTIVITY] = now


class IdleTimeoutMiddleware:
    """Ends a session left unused for the idle timeout. The server decides; the page's
    warning (static/js/idle.js) only tells the person in time. Requests the browser makes by
    itself (htmx polling, marked with X-Sandpit-Background) do not count as use, or an open
    queue, refreshing itself every 15 seconds, would keep a session alive for ever."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if not user.is_authenticated:
            return self.get_response(request)
        reviewer, requires_second_factor = _second_factor_rules(user)
        request.sandpit_reviewer = reviewer  # type: ignore[attr-defined]
        request.sandpit_requires_second_factor = requires_second_factor  # type: ignore[attr-defined]
        if LAST_ACTIVITY in request.session and seconds_left(request, reviewer) == 0:
            minutes = idle_timeout_seconds(user, reviewer) // 60
            logout(request)
            messages.info(
                request,
                f"You were signed out because Sandpit was not used for {minutes} minutes. "
                "Sign in again to carry on.",
            )
            if request.headers.get("HX-Request"):
                # A fragment's address is no page to come back to: the page it was on is.
                page = urlsplit(request.headers.get("HX-Current-URL", "")).path or "/"
                return HttpResponseClientRedirect(redirect_to_login(page).url)
            return redirect_to_login(request.get_full_path())
        if not is_background(request):
            mark_active(request)
        return self.get_response(request)


class SecondFactorRequiredMiddleware:
    """A coach or admin of an organisation that requires a second factor reaches no page
    but the sign-in and second-factor pages until they have set one up."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(
        self, request: HttpRequest, view_func: Callable[..., Any], *args: Any
    ) -> HttpResponse | None:
        if not getattr(request, "sandpit_requires_second_factor", False):
            return None
        if request.session.get(SECOND_FACTOR_OK):
            return None
        module = getattr(view_func, "__module__", "") or ""
        if module.startswith("allauth.") or getattr(view_func, "second_factor_exempt", False):
            return None
        if has_second_factor(request.user):  # type: ignore[arg-type]
            request.session[SECOND_FACTOR_OK] = True
            return None
        messages.warning(
            request,
            "Your organisation asks coaches and admins to set up a second way to prove it is "
            "them before they review or publish. Set up a passkey or an authenticator app to "
            "carry on.",
        )
        enrol = reverse("mfa_index")
        if request.headers.get("HX-Request"):
            return HttpResponseClientRedirect(enrol)
        return redirect(enrol)


def second_factor_exempt(view: Callable[..., Any]) -> Callable[..., Any]:
    """For the few pages of Sandpit's own that a person must reach before enrolling."""
    view.second_factor_exempt = True  # type: ignore[attr-defined]
    return view


def has_second_factor(user: AbstractBaseUser) -> bool:
    """A passkey or an authenticator app (recovery codes alone are a backup, not a factor)."""
    return Authenticator.objects.filter(
        user_id=user.pk, type__in=[Authenticator.Type.TOTP, Authenticator.Type.WEBAUTHN]
    ).exists()


def forget_second_factor(request: HttpRequest | None, **_: Any) -> None:
    """After a factor is removed, check again on the next page (allauth.mfa signal)."""
    if request is not None and hasattr(request, "session"):
        request.session.pop(SECOND_FACTOR_OK, None)
