"""Single sign-on with an organisation's OpenID Connect provider: its settings (admins), who
it lets in, and who must use it. The allauth adapters in coaching/single_sign_on.py call
these; every decision about single sign-on is here.

Who it lets in: a person the organisation's provider says has a *verified* email, at one of
the organisation's allowed domains, that belongs to exactly one active user with a
membership of that organisation (made by an invitation). It never creates a user, a
membership or a role.

Who must use it ("the only way in"): anyone with a membership of an organisation that
requires single sign-on, unless they are a superuser of the installation. Someone in
several organisations is bound if any one of them requires it (the strictest wins, since
their password would otherwise open that organisation's pages too), and signing in
through the provider of any organisation that binds them satisfies it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator, validate_email
from django.db import transaction

from coaching.models import AuditEvent
from coaching.services.lifecycle import _audit
from sandbox import access, outbound
from sandbox.errors import InputProblems, InvalidInput
from sandbox.models import Organisation, SingleSignOn
from sandbox.selectors import active_memberships

UNVERIFIED = (
    "{provider} did not confirm that {email} is your email address, so Sandpit cannot tell "
    "who you are. Ask your organisation's IT service desk, or your Sandpit admin."
)
OTHER_DOMAIN = (
    "{email} is not an address {organisation} uses for Sandpit. Sign in with your work "
    "account, or ask your Sandpit admin to invite you."
)
NOT_INVITED = (
    "There is no Sandpit account for {email} at {organisation}. Ask your organisation's "
    "Sandpit admin to invite you, then sign in again."
)
ALREADY_LINKED = (
    "This {provider} account is already used by another Sandpit account. Ask your Sandpit "
    "admin to check your invitation."
)
ELSEWHERE = (
    "Your Sandpit account also works for another organisation (or runs this installation), "
    "so {provider} alone cannot open it: an organisation's sign-in vouches only for its own "
    "people. Sign in with your password and second factor."
)
SSO_ONLY = (
    "{organisation} signs in with {provider} only. Use the “Sign in with {provider}” button below."
)


class SignOnRefused(Exception):
    """Single sign-on did not let someone in; ``message`` is for them."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Identity:
    """What the provider said about the person."""

    email: str
    email_verified: bool

    @classmethod
    def from_claims(cls, *sources: Mapping[str, Any]) -> Identity:
        """From the provider's claims (user info, then the ID token; the first that has a
        claim wins). The email counts as verified when ``email_verified`` is true, or,
        only where that claim is absent, when ``xms_edov`` is true: Microsoft Entra ID
        never sends ``email_verified`` for work accounts, and ``xms_edov`` (an optional
        claim) says the tenant owns and has verified the email's domain."""
        claims: dict[str, Any] = {}
        for source in reversed(sources):
            claims.update(source or {})
        email = claims.get("email")
        if "email_verified" in claims:
            verified = _true(claims["email_verified"])
        else:
            verified = _true(claims.get("xms_edov"))
        return cls(email=email if isinstance(email, str) else "", email_verified=verified)


def _true(value: object) -> bool:
    # Some providers send booleans as strings.
    return value is True or (isinstance(value, str) and value.lower() == "true")


# Reads ---------------------------------------------------------------------------------------


def enabled_sign_ons() -> list[SingleSignOn]:
    return list(SingleSignOn.objects.filter(enabled=True).select_related("organisation"))


def sign_on_for(slug: str) -> SingleSignOn | None:
    """The organisation's provider, if it has one turned on."""
    return (
        SingleSignOn.objects.filter(enabled=True, organisation__slug=slug)
        .select_related("organisation")
        .first()
    )


def sign_ons_for_email(email: str) -> list[SingleSignOn]:
    """The providers that may sign in someone with this address (several organisations
    can share a domain, as NHSmail's nhs.net is shared)."""
    domain = email.rpartition("@")[2].strip().lower()
    if not domain:
        return []
    return list(
        SingleSignOn.objects.filter(enabled=True, email_domains__contains=[domain])
        .select_related("organisation")
        .order_by("organisation__name")
    )


def binding_sign_ons(user: User) -> list[SingleSignOn]:
    """The organisations whose single sign-on this person must use (empty if none)."""
    if user.is_superuser:
        return []
    return list(
        SingleSignOn.objects.filter(
            enabled=True,
            required=True,
            organisation__memberships__user=user,
            organisation__memberships__is_active=True,
        ).select_related("organisation")
    )


def password_refusal(user: User) -> str | None:
    """Why this person may not sign in with a password, or None if they may."""
    bound = binding_sign_ons(user)
    if not bound:
        return None
    sign_on = bound[0]
    return SSO_ONLY.format(organisation=sign_on.organisation.name, provider=sign_on.provider_name)


# Who single sign-on lets in ------------------------------------------------------------------


def match_member(*, sign_on: SingleSignOn, identity: Identity) -> User:
    """The invited person the provider's identity belongs to; SignOnRefused if none."""
    email = identity.email.strip()
    organisation = sign_on.organisation
    names = {"email": email or "your account", "organisation": organisation.name}
    if not email or not identity.email_verified:
        raise SignOnRefused(UNVERIFIED.format(provider=sign_on.provider_name, **names))
    if email.rpartition("@")[2].lower() not in sign_on.email_domains:
        raise SignOnRefused(OTHER_DOMAIN.format(**names))
    members = list(
        User.objects.filter(
            email__iexact=email,
            is_active=True,
            memberships__organisation=organisation,
            # A deactivated membership is no invitation: they have left this organisation.
            memberships__is_active=True,
        ).distinct()[:2]
    )
    # Two people with one address cannot be told apart: neither is let in this way.
    if len(members) != 1:
        raise SignOnRefused(NOT_INVITED.format(**names))
    return members[0]


def link_refusal(*, sign_on: SingleSignOn, user: User) -> SignOnRefused | None:
    """Why a first sign-in through this provider may not be linked to this person, or None.

    An organisation's admin chooses its provider and its email domains, so its provider can
    vouch only for people who belong to that organisation alone: otherwise one
    organisation's provider could open another organisation's account.
    """
    elsewhere = (
        active_memberships().filter(user=user).exclude(organisation_id=sign_on.organisation_id)
    )
    if user.is_staff or user.is_superuser or elsewhere.exists():
        return SignOnRefused(ELSEWHERE.format(provider=sign_on.provider_name))
    return None


def already_linked_refusal(sign_on: SingleSignOn) -> SignOnRefused:
    return SignOnRefused(ALREADY_LINKED.format(provider=sign_on.provider_name))


def record_sign_in(*, sign_on: SingleSignOn, user: User) -> None:
    _audit(
        AuditEvent.Action.SSO_SIGNED_IN,
        organisation_id=sign_on.organisation_id,
        actor=user,
        detail=f"Confirmed by {sign_on.provider_name} as {user.email}.",
    )


def record_refusal(
    *, sign_on: SingleSignOn, email: str, reason: str, user: User | None = None
) -> None:
    _audit(
        AuditEvent.Action.SSO_REFUSED,
        organisation_id=sign_on.organisation_id,
        actor=user,
        detail=f"{email or 'No email'}: {reason}",
    )


def record_password_refusal(*, user: User) -> None:
    for sign_on in binding_sign_ons(user):
        _audit(
            AuditEvent.Action.SSO_PASSWORD_REFUSED,
            organisation_id=sign_on.organisation_id,
            actor=user,
            detail="A correct password was refused: this organisation signs in with "
            f"{sign_on.provider_name} only.",
        )


# Settings (the organisation's admins) --------------------------------------------------------


def _issuer(url: str) -> str:
    """The provider's issuer address, if Sandpit may connect to it (sandbox.outbound)."""
    url = (url or "").strip().rstrip("/")
    try:
        URLValidator(schemes=["https"] if settings.PRODUCTION else ["https", "http"])(url)
        return outbound.check_url(url)
    except (ValidationError, ValueError) as exc:
        raise InvalidInput(
            "Enter the issuer's full address, like "
            "https://login.microsoftonline.com/your-tenant-id/v2.0.",
            field="issuer",
        ) from exc
    except outbound.ForbiddenAddress as exc:
        raise InvalidInput(
            f"Sandpit connects only to identity providers on the public internet: {exc}",
            field="issuer",
        ) from exc


def _domains(text: str) -> list[str]:
    domains = sorted({part.strip().lower().lstrip("@") for part in text.replace(",", " ").split()})
    if not domains:
        raise InvalidInput("Enter at least one email domain, like nhs.net.", field="email_domains")
    for domain in domains:
        try:
            validate_email(f"someone@{domain}")
        except ValidationError as exc:
            raise InvalidInput(
                f"“{domain}” is not an email domain: enter domains like nhs.net, one per line.",
                field="email_domains",
            ) from exc
    return domains


@transaction.atomic
def sign_on_save(
    *,
    by: User,
    organisation: Organisation,
    enabled: bool,
    provider_name: str,
    issuer: str,
    client_id: str,
    client_secret: str,
    email_domains: str,
    required: bool,
) -> SingleSignOn:
    """Save the organisation's single sign-on settings. A blank secret keeps the stored
    one (the page never shows it back). The organisation's admins, or the installation's
    operators (superusers)."""
    if not by.is_superuser:
        access.require_admin(by, organisation.pk)
    sign_on = SingleSignOn.objects.select_for_update().filter(
        organisation=organisation
    ).first() or SingleSignOn(organisation=organisation)
    # Every field is checked and every problem reported at once.
    problems = InputProblems()
    issuer = problems.check(lambda: _issuer(issuer)) or ""
    client_id = (client_id or "").strip()
    if not client_id:
        problems.found.append(
            InvalidInput(
                "Enter the client ID (Entra ID calls it the Application (client) ID).",
                field="client_id",
            )
        )
    client_secret = (client_secret or "").strip() or sign_on.client_secret
    if not client_secret:
        problems.found.append(
            InvalidInput("Enter the client secret's value.", field="client_secret")
        )
    domains = problems.check(lambda: _domains(email_domains)) or []
    if required and not enabled:
        problems.found.append(
            InvalidInput(
                "Turn single sign-on on before making it the only way in.", field="required"
            )
        )
    problems.raise_any()
    sign_on.enabled = enabled
    sign_on.provider_name = (provider_name or "").strip() or "Microsoft Entra ID"
    sign_on.issuer = issuer
    sign_on.client_id = client_id
    sign_on.client_secret = client_secret
    sign_on.email_domains = domains
    sign_on.required = required
    sign_on.save()
    _audit(
        AuditEvent.Action.SSO_SETTINGS_CHANGED,
        organisation_id=organisation.pk,
        actor=by,
        detail=(
            f"{'On' if enabled else 'Off'}; {sign_on.provider_name} at {issuer}; client "
            f"{client_id}; domains {', '.join(sign_on.email_domains)}; "
            f"{'the only way in' if required else 'passwords still allowed'}."
        ),
    )
    return sign_on
