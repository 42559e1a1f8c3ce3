"""The organisation's check settings, for its admins: each check's severity, local words,
local identifier patterns and pre-election periods. One page; each form posts to it with
its name in ``form``, and a rejected form comes back with what was typed."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from coaching.forms.people import CHECK_SETTING_FORMS, SeveritiesForm
from coaching.selectors import people as people_selectors
from coaching.services import check_settings as services
from coaching.views.people import admin_organisation
from sandbox import access
from sandbox.checks import CHECKS
from sandbox.errors import DomainError, InvalidInput
from sandbox.http import AuthenticatedRequest, refused
from sandbox.models import Organisation


def _back(organisation: Organisation) -> str:
    return f"{reverse('check_settings')}?organisation={organisation.pk}"


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def check_settings(request: AuthenticatedRequest) -> HttpResponse:
    organisation = admin_organisation(request)
    current = people_selectors.check_settings_of(organisation.pk)
    posted = request.POST.get("form") if request.method == "POST" else None
    if request.method == "POST" and posted not in ("severities", *CHECK_SETTING_FORMS):
        raise Http404("No such form.")
    severities = SeveritiesForm(
        request.POST if posted == "severities" else None, current=current.severities
    )
    lists: dict[str, forms.ModelForm] = {
        kind: form_class(request.POST if posted == kind else None, prefix=kind)
        for kind, form_class in CHECK_SETTING_FORMS.items()
    }
    if posted == "severities" and severities.is_valid():
        try:
            changed = services.check_severities_set(
                by=request.user,
                organisation_id=organisation.pk,
                severities={check.code: severities.cleaned_data[check.code] for check in CHECKS},
            )
        except InvalidInput as error:
            severities.add_error(None, error.message)
        except DomainError as error:
            return refused(request, error, back_to=_back(organisation))
        else:
            messages.success(
                request,
                f"Saved {len(changed)} change(s) to severities."
                if changed
                else "No changes to save.",
            )
            return redirect(_back(organisation))
    elif posted in lists and lists[posted].is_valid():
        form = lists[posted]
        try:
            services.check_setting_add(
                by=request.user,
                organisation_id=organisation.pk,
                kind=posted,
                values={name: form.cleaned_data[name] for name in form.Meta.fields},  # type: ignore[attr-defined]
            )
        except InvalidInput as error:
            form.add_domain_error(error)  # type: ignore[attr-defined]
        except DomainError as error:
            return refused(request, error, back_to=_back(organisation))
        else:
            messages.success(request, f"Added {services.WHAT[posted]}.")
            return redirect(_back(organisation))
    context = {
        "organisation": organisation,
        "organisations": Organisation.objects.filter(
            pk__in=access.admin_organisations(request.user)
        ),
        "severities": severities,
        "checks": [(check, severities[check.code]) for check in CHECKS],
        "current": current,
        "word_form": lists["word"],
        "pattern_form": lists["pattern"],
        "period_form": lists["period"],
    }
    status = 422 if posted else 200
    return render(request, "coaching/check_settings.html", context, status=status)


@require_POST
@login_required
def check_setting_remove(request: AuthenticatedRequest, kind: str, pk: int) -> HttpResponse:
    access.admin_organisations(request.user)
    item = (
        people_selectors.check_setting_for(request.user, kind, pk)
        if kind in services.LISTS
        else None
    )
    if item is None:
        raise Http404("No such setting.")
    organisation = item.organisation  # type: ignore[attr-defined]
    try:
        services.check_setting_remove(by=request.user, item=item)  # type: ignore[arg-type]
    except DomainError as error:
        return refused(request, error, back_to=_back(organisation))
    messages.success(request, f"Removed {services.WHAT[kind]}.")
    return redirect(_back(organisation))
