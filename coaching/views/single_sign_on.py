"""Single sign-on pages: an organisation's provider settings (its admins), and finding
one's organisation's sign-in button by work email (anyone, signed in or not).

Signing in itself is allauth's (accounts/oidc/<organisation slug>/login/), fitted to
Sandpit by coaching/single_sign_on.py."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_safe

from coaching.forms import SignOnEmailForm, SingleSignOnForm
from coaching.services import single_sign_on as sign_on_rules
from sandbox import access
from sandbox.errors import InvalidInput
from sandbox.http import AuthenticatedRequest, id_from
from sandbox.middleware import allow_form_target
from sandbox.models import Organisation, SingleSignOn


def _organisation(request: AuthenticatedRequest) -> tuple[Organisation, list[Organisation]]:
    """The organisation whose settings are shown (``?organisation=``, else the first the
    person administers), and all those they administer. The installation's operators
    (superusers) may set up any organisation's."""
    if request.user.is_superuser:
        admin_of = list(Organisation.objects.values_list("pk", flat=True))
        if not admin_of:
            raise Http404("There are no organisations yet.")
    else:
        admin_of = access.admin_organisations(request.user)
    raw = request.GET.get("organisation")
    organisation_id = id_from(raw) if raw else admin_of[0]
    if organisation_id not in admin_of:
        raise Http404("No such organisation.")
    organisations = list(Organisation.objects.filter(pk__in=admin_of))
    return next(o for o in organisations if o.pk == organisation_id), organisations


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def single_sign_on(request: AuthenticatedRequest) -> HttpResponse:
    organisation, organisations = _organisation(request)
    sign_on = SingleSignOn.objects.filter(organisation=organisation).first()
    status = 200
    if request.method == "POST":
        form = SingleSignOnForm(request.POST)
        if form.is_valid():
            try:
                sign_on_rules.sign_on_save(
                    by=request.user, organisation=organisation, **form.cleaned_data
                )
            except InvalidInput as error:
                form.add_domain_error(error)
            else:
                messages.success(
                    request, f"Saved the single sign-on settings for {organisation.name}."
                )
                return redirect(f"{reverse('single_sign_on')}?organisation={organisation.pk}")
        status = 422
    else:
        initial = (
            {
                "enabled": sign_on.enabled,
                "provider_name": sign_on.provider_name,
                "issuer": sign_on.issuer,
                "client_id": sign_on.client_id,
                "email_domains": "\n".join(sign_on.email_domains),
                "required": sign_on.required,
            }
            if sign_on
            else {"provider_name": "Microsoft Entra ID"}
        )
        form = SingleSignOnForm(initial=initial)
    context = {
        "form": form,
        "organisation": organisation,
        "organisations": organisations,
        "sign_on": sign_on,
        "has_secret": bool(sign_on and sign_on.client_secret),
        "redirect_uri": request.build_absolute_uri(
            reverse("openid_connect_callback", kwargs={"provider_id": organisation.slug})
        ),
    }
    return render(request, "coaching/single_sign_on.html", context, status=status)


@require_safe
def sign_on_choose(request: HttpRequest) -> HttpResponse:
    """The organisations whose provider signs in someone with this work email."""
    form = SignOnEmailForm(request.GET)
    sign_ons = (
        sign_on_rules.sign_ons_for_email(form.cleaned_data["email"]) if form.is_valid() else []
    )
    for sign_on in sign_ons:
        allow_form_target(request, sign_on.issuer)
    status = 200 if sign_ons else 422
    return render(
        request,
        "account/sso_choose.html",
        {"form": form, "sign_ons": sign_ons, "next": request.GET.get("next", "")},
        status=status,
    )
