"""The trainee's record (portfolio and its exports), the cohort overview and the audit log.
Read-only pages, thin like the rest: an access helper, a selector, render."""

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_safe

from coaching import exports, portfolio, selectors
from coaching.forms import AuditFilterForm
from coaching.models import AuditEvent
from sandbox import access
from sandbox.http import AuthenticatedRequest, id_from
from sandbox.models import Membership

AUDIT_EVENTS_PER_PAGE = 50


def _organisation_asked_for(request: AuthenticatedRequest) -> int | None:
    """A trainee in two organisations has a record in each: ``?organisation=`` picks one."""
    raw = request.GET.get("organisation")
    if not raw:
        return None
    organisation_id = id_from(raw)
    if organisation_id is None:
        raise Http404("No such organisation.")
    return organisation_id


def _own_record(request: AuthenticatedRequest) -> Membership:
    membership = portfolio.own_membership(request.user, _organisation_asked_for(request))
    if membership is None:
        raise Http404("You have no learning record here: it starts when you join an organisation.")
    return membership


def _trainees_record(request: AuthenticatedRequest, user_id: int) -> Membership:
    """404 unless the user coaches or administers an organisation the trainee is in."""
    membership = portfolio.trainee_membership_for(
        request.user, user_id, _organisation_asked_for(request)
    )
    if membership is None:
        raise Http404("No such trainee.")
    return membership


def _render_portfolio(
    request: AuthenticatedRequest, membership: Membership, *, own: bool
) -> HttpResponse:
    query = f"?organisation={membership.organisation_id}"
    if own:
        csv_url, pdf_url = (reverse("portfolio_export", args=[kind]) for kind in ("csv", "pdf"))
    else:
        csv_url, pdf_url = (
            reverse("trainee_portfolio_export", args=[membership.user_id, kind])
            for kind in ("csv", "pdf")
        )
    context = {
        "record": portfolio.portfolio_for(membership),
        "reviews": portfolio.review_page(membership, request.GET.get("page")),
        "own": own,
        # The trainee opens their own drafts; a coach opens the review page.
        "draft_url_name": "draft_detail" if own else "review",
        "csv_url": csv_url + query,
        "pdf_url": pdf_url + query,
        "elsewhere": portfolio.other_memberships(membership) if own else [],
    }
    return render(request, "coaching/portfolio.html", context)


@require_safe
@login_required
def own_portfolio(request: AuthenticatedRequest) -> HttpResponse:
    return _render_portfolio(request, _own_record(request), own=True)


@require_safe
@login_required
def trainee_portfolio(request: AuthenticatedRequest, user_id: int) -> HttpResponse:
    if user_id == request.user.pk:
        return redirect("portfolio")
    return _render_portfolio(request, _trainees_record(request, user_id), own=False)


_EXPORTS = {"csv": exports.record_csv, "pdf": exports.record_pdf_response}


def _export(membership: Membership, kind: str) -> HttpResponse:
    if kind not in _EXPORTS:
        raise Http404("The record can be downloaded as CSV or PDF.")
    return _EXPORTS[kind](
        portfolio.portfolio_for(membership), portfolio.reviews_for_export(membership)
    )


@require_safe
@login_required
def own_portfolio_export(request: AuthenticatedRequest, kind: str) -> HttpResponse:
    return _export(_own_record(request), kind)


@require_safe
@login_required
def trainee_portfolio_export(
    request: AuthenticatedRequest, user_id: int, kind: str
) -> HttpResponse:
    return _export(_trainees_record(request, user_id), kind)


@require_safe
@login_required
def cohorts(request: AuthenticatedRequest) -> HttpResponse:
    access.reviewer_organisations(request.user)
    return render(
        request, "coaching/cohorts.html", {"groups": portfolio.cohort_overview(request.user)}
    )


def _audit_events(request: AuthenticatedRequest) -> tuple[AuditFilterForm, QuerySet[AuditEvent]]:
    admin_of = access.admin_organisations(request.user)
    form = AuditFilterForm(request.GET, organisation_ids=admin_of)
    return form, selectors.audit_log_for(request.user, **form.filters)  # type: ignore[arg-type]


@require_safe
@login_required
def audit_log(request: AuthenticatedRequest) -> HttpResponse:
    form, events = _audit_events(request)
    page = Paginator(events, AUDIT_EVENTS_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "coaching/audit_log.html", {"form": form, "events": page})


@require_safe
@login_required
def audit_log_export(request: AuthenticatedRequest) -> HttpResponse:
    form, events = _audit_events(request)
    if form.errors:
        # Export exactly what the page would show: send them back to fix the filters.
        return redirect(reverse("audit_log") + "?" + request.GET.urlencode())
    return exports.audit_csv(events.iterator(chunk_size=2000))
