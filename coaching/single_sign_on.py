"""django-allauth's adapters, fitted to Sandpit's single sign-on (settings
SOCIALACCOUNT_ADAPTER and ACCOUNT_ADAPTER). The rules themselves are in
coaching/services/single_sign_on.py; these only plug them into allauth's flow.

- Each organisation's identity provider is an allauth "openid_connect" app made on the fly
  from its sandbox.SingleSignOn row (provider_id = the organisation's slug), so allauth's
  SocialApp table is never used and the client secret stays encrypted at rest.
- A provider's answer is matched to an invited member, or refused with a page that says
  what to do; nobody is ever signed up by single sign-on.
- Password sign-in is refused for people whose organisation signs in with its provider only.
"""

from __future__ import annotations

import functools
from typing import Any

import requests
from allauth.account.authentication import get_authentication_records
from allauth.account.internal.stagekit import clear_login
from allauth.core.exceptions import ImmediateHttpResponse
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from allauth.socialaccount.models import SocialApp, SocialLogin
from django import forms
from django.conf import settings
from django.contrib.auth.models import User
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from coaching.services import single_sign_on as sign_on_rules
from sandbox import outbound, signin
from sandbox.models import SingleSignOn

PROVIDER = "openid_connect"


def social_app(sign_on: SingleSignOn) -> SocialApp:
    """The allauth app for an organisation's provider (never saved)."""
    return SocialApp(
        provider=PROVIDER,
        provider_id=sign_on.organisation.slug,
        name=sign_on.provider_name,
        client_id=sign_on.client_id,
        secret=sign_on.client_secret,
        settings={"server_url": sign_on.issuer, "oauth_pkce_enabled": True},
    )


def refused_page(request: HttpRequest, message: str, *, status: int = 403) -> HttpResponse:
    return render(request, "account/sso_refused.html", {"message": message}, status=status)


class SocialAccountAdapter(DefaultSocialAccountAdapter):
    def list_apps(
        self, request: HttpRequest | None, provider: str | None = None, client_id: str | None = None
    ) -> list[SocialApp]:
        apps = [social_app(sign_on) for sign_on in sign_on_rules.enabled_sign_ons()]
        return [
            app
            for app in apps
            if provider in (None, app.provider, app.provider_id)
            and client_id in (None, app.client_id)
        ]

    def get_requests_session(self) -> requests.Session:
        # Issuer addresses are typed by admins: every connection (discovery, token, keys,
        # user info, redirects) must reach only the public internet (sandbox.outbound).
        session = outbound.checked_session()
        session.request = functools.partial(  # type: ignore[method-assign]
            session.request, timeout=settings.SOCIALACCOUNT_REQUESTS_TIMEOUT
        )
        return session

    def is_open_for_signup(self, request: HttpRequest, sociallogin: SocialLogin) -> bool:
        return False

    def pre_social_login(self, request: HttpRequest, sociallogin: SocialLogin) -> None:
        sign_on = sign_on_rules.sign_on_for(sociallogin.account.provider)
        if sign_on is None:
            raise ImmediateHttpResponse(
                refused_page(request, "This organisation does not sign in this way any more.")
            )
        claims = sociallogin.account.extra_data or {}
        identity = sign_on_rules.Identity.from_claims(
            claims.get("userinfo") or {}, claims.get("id_token") or {}
        )
        try:
            if sociallogin.state.get("process") == "connect":
                # Links are made only by signing in, to the invited person.
                raise sign_on_rules.already_linked_refusal(sign_on)
            user = sign_on_rules.match_member(sign_on=sign_on, identity=identity)
            if sociallogin.is_existing and sociallogin.user.pk != user.pk:
                raise sign_on_rules.already_linked_refusal(sign_on)
            if not sociallogin.is_existing:
                refusal = sign_on_rules.link_refusal(sign_on=sign_on, user=user)
                if refusal is not None:
                    raise refusal
        except sign_on_rules.SignOnRefused as refusal:
            sign_on_rules.record_refusal(
                sign_on=sign_on, email=identity.email, reason=refusal.message
            )
            raise ImmediateHttpResponse(refused_page(request, refusal.message)) from refusal
        if not sociallogin.is_existing:
            sociallogin.connect(request, user)
        sign_on_rules.record_sign_in(sign_on=sign_on, user=user)

    def on_authentication_error(
        self,
        request: HttpRequest,
        provider: Any,
        error: str | None = None,
        exception: Exception | None = None,
        extra_context: dict[str, Any] | None = None,
    ) -> None:
        # The person cancelled at the provider, or it could not be reached or answered
        # wrongly: a plain page, never a 500.
        if error == "cancelled":
            message = "You cancelled signing in. Nothing was changed."
        else:
            message = (
                f"Signing in with {provider.name} did not work, so you are not signed in. "
                "Try again; if it keeps happening, tell your Sandpit admin."
            )
        sign_on = sign_on_rules.sign_on_for(provider.app.provider_id) if provider.app else None
        if sign_on is not None:
            sign_on_rules.record_refusal(
                sign_on=sign_on, email="", reason=f"{message} ({error}: {exception or ''})"
            )
        raise ImmediateHttpResponse(refused_page(request, message, status=400))


class AccountAdapter(signin.AccountAdapter):
    def authenticate(self, request: HttpRequest, **credentials: Any) -> Any:
        """A right password for someone whose organisation signs in with its provider only
        is refused with a message pointing to the provider's button. A wrong password says
        nothing of the kind, so the rule never tells a stranger who is a member."""
        user = super().authenticate(request, **credentials)
        if isinstance(user, User):
            refusal = sign_on_rules.password_refusal(user)
            if refusal:
                sign_on_rules.record_password_refusal(user=user)
                raise forms.ValidationError(refusal, code="sso_only")
        return user

    def pre_login(self, request: HttpRequest, user: Any, **kwargs: Any) -> HttpResponse | None:
        """Every other way in (a sign-in code, signing in after a password reset) must come
        through the provider too: only a sign-in whose last step was the provider of an
        organisation that binds the person gets through."""
        if isinstance(user, User):
            bound = sign_on_rules.binding_sign_ons(user)
            if bound:
                records = get_authentication_records(request, user)
                last = records[-1] if records else {}
                slugs = {sign_on.organisation.slug for sign_on in bound}
                if last.get("method") != "socialaccount" or last.get("provider") not in slugs:
                    # As allauth does for an inactive user: drop the half-made sign-in.
                    clear_login(request)
                    sign_on_rules.record_password_refusal(user=user)
                    message = sign_on_rules.password_refusal(user) or ""
                    return refused_page(request, message)
        return super().pre_login(request, user, **kwargs)
