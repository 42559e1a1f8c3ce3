"""Scenarios for a cohort, their debriefs, and the "what would happen" replay of a draft."""

import dataclasses

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.http import (
    Http404,
    HttpResponse,
)
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from coaching import draft_display, selectors
from coaching.forms import (
    ScenarioForm,
)
from coaching.views.review import _get_draft_for_coach
from sandbox import access, audience, personas, scenario_scripts
from sandbox import selectors as sandbox_selectors
from sandbox import services as sandbox_services
from sandbox.checks import run_checks
from sandbox.errors import DomainError, InvalidInput
from sandbox.http import AuthenticatedRequest, id_from, refused
from sandbox.models import (
    Cohort,
    Membership,
    Scenario,
)


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def scenarios(request: AuthenticatedRequest) -> HttpResponse:
    """The organisation's scenarios, the shipped examples, and a form to write one."""
    access.reviewer_organisations(request.user)
    organisation_id = sandbox_selectors.reviewer_organisation_ids(request.user)[0]
    form = ScenarioForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                items = sandbox_services.parse_scenario_script(form.cleaned_data["script"])
                scenario = sandbox_services.scenario_save(
                    by=request.user,
                    organisation_id=organisation_id,
                    title=form.cleaned_data["title"],
                    description=form.cleaned_data["description"],
                    items=items,
                )
            except InvalidInput as error:
                form.add_domain_error(error)
            except DomainError as error:
                return refused(request, error, back_to=reverse("scenarios"))
            else:
                messages.success(
                    request, f"Saved “{scenario.title}”. Start it for a trainee below."
                )
                return redirect("scenarios")
        status = 422
    context = {
        "form": form,
        "scenarios": Scenario.objects.filter(organisation_id=organisation_id),
        "examples": scenario_scripts.SCENARIOS,
        "personas": personas.PERSONAS,
        "trainees": sandbox_selectors.members_of(organisation_id, Membership.Role.TRAINEE),
        "cohorts": selectors.cohorts_of(organisation_id),
        "runs": sandbox_selectors.scenario_runs_for(organisation_ids=[organisation_id]),
    }
    return render(request, "coaching/scenarios.html", context, status=status)


@require_POST
@login_required
def scenario_copy_example(request: AuthenticatedRequest, slug: str) -> HttpResponse:
    access.reviewer_organisations(request.user)
    example = next((s for s in scenario_scripts.SCENARIOS if s.slug == slug), None)
    if example is None:
        raise Http404("No such example.")
    try:
        sandbox_services.scenario_save(
            by=request.user,
            organisation_id=sandbox_selectors.reviewer_organisation_ids(request.user)[0],
            title=example.title,
            description=example.description,
            items=[dataclasses.asdict(item) for item in example.items],
        )
    except DomainError as error:
        return refused(request, error, back_to=reverse("scenarios"))
    messages.success(request, f"Added “{example.title}” to your scenarios.")
    return redirect("scenarios")


@require_POST
@login_required
def scenario_start(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    scenario = get_object_or_404(
        Scenario,
        pk=pk,
        organisation_id__in=sandbox_selectors.reviewer_organisation_ids(request.user),
    )
    trainee_id = id_from(request.POST.get("trainee"))
    if trainee_id is None:
        raise Http404("No such trainee.")
    trainee = get_object_or_404(
        User, pk=trainee_id, memberships__organisation=scenario.organisation
    )
    try:
        sandbox_services.scenario_start(scenario=scenario, trainee=trainee, by=request.user)
    except DomainError as error:
        return refused(request, error, back_to=reverse("scenarios"))
    messages.success(
        request,
        f"Started “{scenario.title}” for {sandbox_selectors.display_name(trainee)}. "
        "Its posts arrive in their timeline over the next minutes.",
    )
    return redirect("trainee_timeline", user_id=trainee.pk)


@require_POST
@login_required
def scenario_assign_cohort(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """Start a scenario for every trainee in a cohort of the coach's organisation."""
    coached = sandbox_selectors.reviewer_organisation_ids(request.user)
    scenario = get_object_or_404(Scenario, pk=pk, organisation_id__in=coached)
    cohort_id = id_from(request.POST.get("cohort"))
    if cohort_id is None:
        raise Http404("No such cohort.")
    cohort = get_object_or_404(Cohort, pk=cohort_id, organisation_id=scenario.organisation_id)
    try:
        assignment = sandbox_services.scenario_assign_cohort(
            scenario=scenario, cohort=cohort, by=request.user
        )
    except DomainError as error:
        return refused(request, error, back_to=reverse("scenarios"))
    started, skipped = len(assignment.started), len(assignment.already_started)
    if not started:
        messages.info(
            request,
            f"“{scenario.title}” was already started for everyone in {cohort.name} less than a "
            "minute ago, so nothing new was started.",
        )
    else:
        also = (
            f" {skipped} of them already had it from less than a minute ago, so theirs was "
            "left as it was."
            if skipped
            else ""
        )
        messages.success(
            request,
            f"Started “{scenario.title}” for {started} trainee{'s' if started != 1 else ''} in "
            f"{cohort.name}.{also} Its posts arrive in their timelines over the next minutes.",
        )
    return redirect("scenarios")


@require_safe
@login_required
def scenario_debrief(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """A scenario run, in order: each post at its offset and the trainee's answers to it,
    with their reviews. For the organisation's coaches, and the trainee (read only)."""
    run = sandbox_selectors.scenario_run_visible_to(request.user, pk)
    if run is None:
        raise Http404("No such scenario run.")
    context = {"run": run, "entries": draft_display.debrief(run, viewer=request.user)}
    return render(request, "coaching/debrief.html", context)


REPLAY_MINUTES = (1, 5, 15, 30, 60)


@require_safe
@login_required
def replay(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """What would happen if this draft were posted: the audience rules that fire, and the
    reactions and counts at a chosen minute. Nothing is posted or saved."""
    draft = _get_draft_for_coach(request, pk)
    minutes = id_from(request.GET.get("minutes"))
    minutes = minutes if minutes in REPLAY_MINUTES else 15
    text = draft.text
    context = sandbox_selectors.check_context(draft.account.organisation_id)
    findings = run_checks(text, context=context)
    plan = audience.plan(text, seed=draft.pk, findings=findings)
    seconds = minutes * 60
    context_data = {
        "draft": draft,
        "minutes": minutes,
        "choices": REPLAY_MINUTES,
        "rules": audience.explain(text, findings=findings),
        "counts": audience.counts_at(plan, seconds),
        "reactions": [r for r in plan.reactions if r.at_seconds <= seconds],
    }
    return render(request, "coaching/replay.html", context_data)
