"""Connecting the organisation's accounts (admins): X by OAuth, Mastodon and Bluesky by token
or app password."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import (
    Http404,
    HttpResponse,
)
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.crypto import constant_time_compare
from django.views.decorators.http import require_POST, require_safe

from coaching import selectors, services
from coaching.forms import (
    ConnectForm,
)
from coaching.selectors.inbox import assignable_by_organisation
from sandbox import access
from sandbox.errors import DomainError, InvalidInput
from sandbox.http import AuthenticatedRequest, id_from, refused
from sandbox.middleware import allow_form_target
from sandbox.models import (
    Organisation,
    WorkplaceAccount,
)

X_OAUTH_SESSION_KEY = "x_oauth_pending"


def _admin_organisation_id(request: AuthenticatedRequest, raw: str | None) -> int:
    admin_of = access.admin_organisations(request.user)
    organisation_id = id_from(raw) if raw else admin_of[0]
    if organisation_id not in admin_of:
        raise Http404("No such organisation.")
    return organisation_id


@require_safe
@login_required
def accounts(request: AuthenticatedRequest) -> HttpResponse:
    return _accounts_page(request)


def _accounts_page(
    request: AuthenticatedRequest, *, bound: ConnectForm | None = None, status: int = 200
) -> HttpResponse:
    admin_of = access.admin_organisations(request.user)
    # "Connect with X" is a form to Sandpit that redirects to X's consent page, and browsers
    # hold that redirect to this page's form-action.
    allow_form_target(request, settings.X_AUTHORIZE_URL)
    forms = {platform: ConnectForm(platform) for platform in ("mastodon", "bluesky")}
    if bound is not None:
        forms[bound.platform] = bound
    people = assignable_by_organisation(admin_of)
    accounts = list(
        selectors.with_open_lockdown(
            WorkplaceAccount.objects.filter(organisation_id__in=admin_of).select_related(
                "organisation", "connected_by", "owner"
            )
        )
    )
    for account in accounts:
        # Who may be named its owner: the people of its organisation.
        account.people = people.get(account.organisation_id, [])  # type: ignore[attr-defined]
    context = {
        "accounts": accounts,
        "organisations": Organisation.objects.filter(pk__in=admin_of),
        "mastodon_form": forms["mastodon"],
        "bluesky_form": forms["bluesky"],
    }
    return render(request, "coaching/accounts.html", context, status=status)


@require_POST
@login_required
def account_connect_x(request: AuthenticatedRequest) -> HttpResponse:
    organisation_id = _admin_organisation_id(request, request.POST.get("organisation"))
    redirect_uri = request.build_absolute_uri(reverse("account_connect_x_callback"))
    try:
        url, state, verifier = services.x_connect_start(
            by=request.user, organisation_id=organisation_id, redirect_uri=redirect_uri
        )
    except DomainError as error:
        return refused(request, error, back_to=reverse("accounts"))
    request.session[X_OAUTH_SESSION_KEY] = {
        "state": state,
        "verifier": verifier,
        "organisation": organisation_id,
        "redirect_uri": redirect_uri,
    }
    return redirect(url)


@require_safe
@login_required
def account_connect_x_callback(request: AuthenticatedRequest) -> HttpResponse:
    # One use only: a replayed or forged callback finds nothing to match.
    pending = request.session.pop(X_OAUTH_SESSION_KEY, None)
    state = request.GET.get("state", "")
    if pending is None or not constant_time_compare(state, pending["state"]):
        messages.error(
            request,
            "This connection does not match one you started here (it may have expired, or "
            "the link was changed). Nothing was changed: start again from this page.",
        )
        return redirect("accounts")
    if request.GET.get("error") or not request.GET.get("code"):
        messages.error(
            request, "X did not grant access, so nothing was changed. You can try again."
        )
        return redirect("accounts")
    organisation_id = _admin_organisation_id(request, str(pending["organisation"]))
    try:
        account = services.x_connect_finish(
            by=request.user,
            organisation_id=organisation_id,
            code=request.GET["code"],
            verifier=pending["verifier"],
            redirect_uri=pending["redirect_uri"],
        )
    except DomainError as error:
        return refused(request, error, back_to=reverse("accounts"))
    messages.success(request, f"Connected @{account.handle} on X. Waiting posts will go out now.")
    return redirect("accounts")


@require_POST
@login_required
def account_connect_other(request: AuthenticatedRequest, platform: str) -> HttpResponse:
    """Mastodon (server + access token) and Bluesky (server + handle + app password). A
    refusal shows the page again with the message at its field and the address and handle
    kept (never the secret)."""
    organisation_id = _admin_organisation_id(request, request.POST.get("organisation"))
    form = ConnectForm(platform, request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            if platform == "mastodon":
                account = services.mastodon_connect(
                    by=request.user,
                    organisation_id=organisation_id,
                    server=data["server"],
                    access_token=data["secret"],
                    client_id=data["client_id"],
                    client_secret=data["client_secret"],
                )
            else:
                account = services.bluesky_connect(
                    by=request.user,
                    organisation_id=organisation_id,
                    server=data["server"],
                    handle=data["handle"],
                    app_password=data["secret"],
                )
        except InvalidInput as error:
            form.add_domain_error(error)
        except DomainError as error:
            form.add_error(None, error.message)
        else:
            name = account.get_platform_display()
            messages.success(request, f"Connected @{account.handle} on {name}.")
            return redirect("accounts")
    return _accounts_page(request, bound=form, status=400)
