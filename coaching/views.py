"""The coach's pages: the queue and the review. Thin, like the trainee's."""

import dataclasses
from collections.abc import Callable

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.crypto import constant_time_compare
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from coaching import selectors, services
from coaching.forms import (
    AssignForm,
    AvailabilityForm,
    ConnectForm,
    QueueFilterForm,
    ReasonForm,
    ReviewForm,
    ScenarioForm,
    anchored_notes_from,
    suggestion_from,
)
from coaching.models import RUBRIC, Publication, PublishingStop, Review
from coaching.services import AnchoredNote
from sandbox import audience
from sandbox import selectors as sandbox_selectors
from sandbox import services as sandbox_services
from sandbox.checks import run_checks
from sandbox.errors import DomainError, InvalidInput, NotAllowed
from sandbox.forms import posted_text
from sandbox.http import AuthenticatedRequest, id_from, refused
from sandbox.models import (
    Cohort,
    Draft,
    DraftRevision,
    Membership,
    Organisation,
    Scenario,
    WorkplaceAccount,
)

QUEUE_CHANGED = "queueChanged"


def _get_draft_for_coach(request: AuthenticatedRequest, pk: int) -> Draft:
    """404 unless the draft is in one of the user's organisations; 403 unless they may
    review there."""
    draft = (
        Draft.objects.filter(pk=pk, account__organisation__memberships__user=request.user)
        .select_related("current_revision", "account", "author", "claimed_by")
        .first()
    )
    if draft is None:
        raise Http404("No such draft.")
    role = sandbox_selectors.role_in(request.user, draft.account.organisation_id)
    if role not in sandbox_selectors.REVIEWER_ROLES:
        raise PermissionDenied("Only coaches can review drafts.")
    return draft


@require_GET
@login_required
def queue(request: AuthenticatedRequest) -> HttpResponse:
    """The approval queue, filtered (GET, so a filtered queue can be bookmarked). htmx
    polls the rows with the same filters, and refreshes them on queueChanged."""
    if not sandbox_selectors.reviewer_organisation_ids(request.user):
        raise PermissionDenied("The approval queue is for coaches.")
    form = QueueFilterForm(request.GET, choices=selectors.queue_choices(request.user))
    filters = form.filters(default_scope=selectors.default_queue_scope(request.user))
    context = {
        "form": form,
        "queue": selectors.queue_page(
            request.user, filters, page_number=request.GET.get("page", 1)
        ),
    }
    template = "coaching/queue.html#queue-rows" if request.htmx else "coaching/queue.html"
    return render(request, template, context)


def _review_context(
    request: AuthenticatedRequest,
    draft: Draft,
    form: ReviewForm | None = None,
    *,
    anchored: list[AnchoredNote] | None = None,
    suggestion: list[str] | None = None,
) -> dict[str, object]:
    """The review page. ``form``, ``anchored`` and ``suggestion`` carry what the coach
    typed when the page is shown again, so a refusal never loses their words."""
    draft = sandbox_selectors.draft_for_display(draft.pk)
    revision = draft.current_revision
    assert revision is not None
    form = form or ReviewForm(initial={"revision": draft.current_revision_id})
    context = sandbox_selectors.check_context(draft.account.organisation_id)
    # Every typed note on particular words, then one empty box for the next.
    slots = [*(anchored or []), AnchoredNote(body="")]
    return {
        "draft": draft,
        "claim": selectors.claim_of(draft, request.user),
        "post_findings": zip(
            revision.posts,
            sandbox_selectors.findings_for_posts(revision.posts, context, images=revision.images),
            strict=True,
        ),
        "blocked": selectors.blocking_codes(revision),
        "reviewed": sandbox_selectors.last_reviewed_revision(draft),
        "overrides": revision.check_overrides.select_related("coach"),
        "revisions": sandbox_selectors.revisions_with_feedback(draft),
        "form": form,
        "rubric": [
            {
                "name": name,
                "title": title,
                "levels": sorted(levels.items()),
                "value": str(form[name].value() or ""),
                "errors": form.errors.get(name, []) if form.is_bound else [],
            }
            for name, (title, levels) in RUBRIC.items()
        ],
        "tag_choices": Review.Tag.choices,
        "chosen_tags": form["tags"].value() or [],
        "anchor_slots": list(enumerate(slots)),
        "suggestion_boxes": list(enumerate(suggestion or revision.posts)),
        "decidable": draft.status in selectors.WAITING,
    }


@require_GET
@login_required
def review(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    draft = _get_draft_for_coach(request, pk)
    if request.htmx and request.htmx.target == "claim":
        return _claim_banner(request, draft)
    if request.htmx:
        return render(
            request,
            "coaching/review.html#publication",
            {"draft": sandbox_selectors.draft_for_display(draft.pk)},
        )
    # The queue's a/r shortcuts open the review with a decision chosen (?decision=).
    chosen = request.GET.get("decision")
    initial: dict[str, object] = {"revision": draft.current_revision_id}
    if chosen in Review.Decision.values:
        initial["decision"] = chosen
    return render(
        request,
        "coaching/review.html",
        _review_context(request, draft, ReviewForm(initial=initial)),
    )


def _claim_banner(request: AuthenticatedRequest, draft: Draft, problem: str = "") -> HttpResponse:
    context = {
        "draft": draft,
        "claim": selectors.claim_of(draft, request.user),
        "claim_problem": problem,
        "decidable": draft.status in selectors.WAITING,
    }
    return render(request, "coaching/review.html#claim", context)


@require_POST
@login_required
def check_override(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    draft = _get_draft_for_coach(request, pk)
    try:
        reason = posted_text(request.POST, "reason", what="The reason")
        services.check_override(draft=draft, by=request.user, reason=reason)
    except DomainError as error:
        return refused(request, error, back_to=reverse("review", args=[pk]))
    messages.success(request, "Let through. The trainee can now send it for review.")
    return redirect("review", pk=pk)


@require_POST
@login_required
def review_claim(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """Start reviewing, or take over a review whose coach has gone quiet."""
    draft = _get_draft_for_coach(request, pk)
    previous = draft.claimed_by if draft.status == Draft.Status.IN_REVIEW else None
    try:
        services.review_claim(draft=draft, by=request.user)
    except DomainError as error:
        return refused(request, error, back_to=reverse("review", args=[pk]))
    if previous is not None and previous != request.user:
        messages.success(
            request,
            f"You have taken over this review from {sandbox_selectors.display_name(previous)}.",
        )
    return redirect("review", pk=pk)


@require_POST
@login_required
def review_claim_renew(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """The open review page's sign of life (htmx, every minute and as the coach types).
    Answers with the claim banner only when it changed: another coach took over."""
    draft = _get_draft_for_coach(request, pk)
    problem = ""
    try:
        services.review_claim_renew(draft=draft, by=request.user)
    except NotAllowed as error:
        raise PermissionDenied(error.message) from error
    except DomainError as error:
        problem = error.message
    if not request.htmx:
        if problem:
            messages.error(request, problem)
        return redirect("review", pk=pk)
    if not problem:
        # Still the coach's: nothing to redraw. Keeping the element (htmx swaps nothing on
        # 204) keeps its "at most every 30 s while typing" throttle; a fresh one would not.
        return HttpResponse(status=204)
    return _claim_banner(request, draft, problem)


_DECISIONS: dict[str, Callable[..., Review]] = {
    Review.Decision.APPROVE: services.review_approve,
    Review.Decision.REQUEST_CHANGES: services.review_request_changes,
    Review.Decision.REJECT: services.review_reject,
}

_CONFIRMATIONS = {
    Review.Decision.APPROVE: "Approved. The post is queued for publication.",
    Review.Decision.REQUEST_CHANGES: "Sent back to the trainee with your feedback.",
    Review.Decision.REJECT: "Rejected. The trainee can see your note.",
}

SANDBOX_APPROVED = (
    "Approved. It is posted in the trainee's practice timeline only, as the response to the "
    "simulated post; nothing goes to the real account."
)


@require_POST
@login_required
def review_decide(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    draft = _get_draft_for_coach(request, pk)
    anchored = anchored_notes_from(request.POST)
    posts = draft.current_revision.posts if draft.current_revision else []
    if "add_anchor" in request.POST:
        # Another box for a note on particular words, without JavaScript: show the form
        # again with everything typed so far, judging nothing and saving nothing.
        typed = {**request.POST.dict(), "tags": request.POST.getlist("tags")}
        context = _review_context(
            request,
            draft,
            ReviewForm(initial=typed),
            anchored=[*anchored, AnchoredNote(body="")],
            suggestion=suggestion_from(request.POST, posts),
        )
        return render(request, "coaching/review.html", context)
    form = ReviewForm(request.POST)
    suggestion = suggestion_from(request.POST, posts)
    if form.is_valid():
        data = form.cleaned_data
        decision = data["decision"]
        revision = DraftRevision.objects.filter(draft=draft, pk=data["revision"]).first()
        if revision is None:
            raise Http404("That revision is not part of this draft.")
        suggestion = suggestion_from(request.POST, revision.posts)
        kwargs: dict[str, object] = {
            "draft": draft,
            "by": request.user,
            "note": data["note"],
            "revision": revision,
            "scores": form.scores(),
            "tags": data["tags"],
            "anchored_notes": anchored,
            "suggestion": suggestion,
        }
        if decision == Review.Decision.APPROVE:
            kwargs["publish_at"] = data["publish_at"]
            kwargs["override_reason"] = data["override_reason"]
        try:
            _DECISIONS[decision](**kwargs)
        except InvalidInput as error:
            form.add_domain_error(error)
        except NotAllowed as error:
            raise PermissionDenied(error.message) from error
        except DomainError as error:
            # Wrong state (another coach decided first or holds the claim, or the text
            # changed): keep everything the coach typed on the page with the reason.
            form.add_error(None, error.message)
        else:
            sandboxed = decision == Review.Decision.APPROVE and draft.is_sandbox_only
            messages.success(request, SANDBOX_APPROVED if sandboxed else _CONFIRMATIONS[decision])
            if not request.htmx:
                return redirect("review", pk=pk)
            # htmx swaps the page's <main> in place and tells the queue to refresh.
            response = render(request, "coaching/review.html", _review_context(request, draft))
            response["HX-Trigger"] = QUEUE_CHANGED
            return response
    draft.refresh_from_db()
    # Keep what the coach typed, but bind a second try to the text now on the screen.
    data = request.POST.copy()
    data["revision"] = str(draft.current_revision_id)
    form.data = data
    context = _review_context(request, draft, form, anchored=anchored, suggestion=suggestion)
    return render(request, "coaching/review.html", context, status=422)


# Earned autonomy: a coach steps in ---------------------------------------------------------


@require_POST
@login_required
def spot_check_hold(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    draft = _get_draft_for_coach(request, pk)
    try:
        services.spot_check_hold(draft=draft, by=request.user)
    except DomainError as error:
        return refused(request, error, back_to=reverse("review", args=[pk]))
    name = sandbox_selectors.display_name(draft.author)
    messages.success(
        request, f"Held. The post is in the queue for review, and {name} is back in full review."
    )
    return redirect("review", pk=pk)


@require_POST
@login_required
def review_mode_full(request: AuthenticatedRequest, user_id: int) -> HttpResponse:
    """A coach switches one of their trainees back to full review."""
    organisation_id = id_from(request.POST.get("organisation"))
    if organisation_id not in sandbox_selectors.reviewer_organisation_ids(request.user):
        raise Http404("No such organisation.")
    trainee = get_object_or_404(User, pk=user_id, memberships__organisation_id=organisation_id)
    back = reverse("trainee_timeline", args=[user_id])
    try:
        services.review_mode_set_full(
            trainee=trainee,
            organisation_id=organisation_id,
            by=request.user,
            reason=posted_text(request.POST, "reason", what="The reason"),
        )
    except DomainError as error:
        return refused(request, error, back_to=back)
    messages.success(request, "Switched to full review. A coach will read every post again.")
    return redirect(back)


# Publishing: emergency stops and what happened to each post ----------------------------------


def _require_reviewer_somewhere(request: AuthenticatedRequest) -> None:
    if not sandbox_selectors.reviewer_organisation_ids(request.user):
        raise PermissionDenied("Publishing controls are for coaches and admins.")


@require_GET
@login_required
def publishing(request: AuthenticatedRequest) -> HttpResponse:
    """Every account's state, the standing stops, and recent publications (polled)."""
    _require_reviewer_somewhere(request)
    context = {
        "accounts": selectors.accounts_for_reviewer(request.user),
        "organisation_ids": sandbox_selectors.reviewer_organisation_ids(request.user),
        "publications": selectors.publications_for(request.user),
        "stuck": selectors.stuck_publications(request.user),
    }
    template = (
        "coaching/publishing.html#publications" if request.htmx else "coaching/publishing.html"
    )
    return render(request, template, context)


@require_POST
@login_required
def publishing_stop(request: AuthenticatedRequest) -> HttpResponse:
    _require_reviewer_somewhere(request)
    form = ReasonForm(request.POST)
    back = reverse("publishing")
    if not form.is_valid():
        messages.error(request, " ".join(str(e) for errors in form.errors.values() for e in errors))
        return redirect(back)
    account = None
    organisation_id = form.cleaned_data["organisation"]
    if form.cleaned_data["account"]:
        account = get_object_or_404(
            selectors.accounts_for_reviewer(request.user), pk=form.cleaned_data["account"]
        )
        organisation_id = account.organisation_id
    if organisation_id not in sandbox_selectors.reviewer_organisation_ids(request.user):
        raise Http404("No such organisation.")
    try:
        services.publishing_stop(
            by=request.user,
            organisation_id=organisation_id,
            account=account,
            reason=form.cleaned_data["reason"],
        )
    except DomainError as error:
        return refused(request, error, back_to=back)
    messages.success(request, "Publishing is stopped. Queued posts will wait until you resume.")
    return redirect(back)


@require_POST
@login_required
def publishing_resume(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    _require_reviewer_somewhere(request)
    stop = get_object_or_404(
        PublishingStop,
        pk=pk,
        organisation_id__in=sandbox_selectors.reviewer_organisation_ids(request.user),
    )
    try:
        services.publishing_resume(by=request.user, stop=stop)
    except DomainError as error:
        return refused(request, error, back_to=reverse("publishing"))
    messages.success(request, "Publishing resumed. Waiting posts are going out now.")
    return redirect("publishing")


def _get_publication_for_coach(request: AuthenticatedRequest, pk: int) -> Publication:
    publication = get_object_or_404(
        Publication.objects.select_related("draft", "account"),
        pk=pk,
        account__organisation__memberships__user=request.user,
    )
    _get_draft_for_coach(request, publication.draft_id)  # 403 unless a coach there
    return publication


@require_POST
@login_required
def publication_reconcile(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    publication = _get_publication_for_coach(request, pk)
    back = reverse("review", args=[publication.draft_id])
    try:
        status = services.publication_reconcile(publication=publication, by=request.user)
    except DomainError as error:
        return refused(request, error, back_to=back)
    messages.success(request, _RECONCILED[status])
    return redirect(back)


_RECONCILED: dict[str, str] = {
    Publication.Status.PUBLISHED: "Checked the account: the post is live.",
    Publication.Status.QUEUED: "Checked the account: that post is live; "
    "the rest of the thread follows.",
    Publication.Status.FAILED: "Checked the account: the post is not there, so it did not go out.",
    Publication.Status.UNCONFIRMED: "Not on the account yet. It can take a minute to appear; "
    "Sandpit keeps checking.",
}


@require_POST
@login_required
def publication_retry(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    publication = _get_publication_for_coach(request, pk)
    back = reverse("review", args=[publication.draft_id])
    try:
        services.publication_retry(publication=publication, by=request.user)
    except DomainError as error:
        return refused(request, error, back_to=back)
    messages.success(request, "Sending again.")
    return redirect(back)


@require_POST
@login_required
def publication_retract(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    publication = _get_publication_for_coach(request, pk)
    back = reverse("review", args=[publication.draft_id])
    try:
        services.publication_retract(
            publication=publication,
            by=request.user,
            reason=posted_text(request.POST, "reason", what="The reason"),
        )
    except DomainError as error:
        return refused(request, error, back_to=back)
    messages.success(request, "The post has been taken down from the account.")
    return redirect(back)


# Connected accounts (admins) ------------------------------------------------------------------

X_OAUTH_SESSION_KEY = "x_oauth_pending"


def _admin_organisation_id(request: AuthenticatedRequest, raw: str | None) -> int:
    admin_of = sandbox_selectors.admin_organisation_ids(request.user)
    if not admin_of:
        raise PermissionDenied("Connecting accounts is for admins.")
    organisation_id = id_from(raw) if raw else admin_of[0]
    if organisation_id not in admin_of:
        raise Http404("No such organisation.")
    return organisation_id


@require_GET
@login_required
def accounts(request: AuthenticatedRequest) -> HttpResponse:
    return _accounts_page(request)


def _accounts_page(
    request: AuthenticatedRequest, *, bound: ConnectForm | None = None, status: int = 200
) -> HttpResponse:
    admin_of = sandbox_selectors.admin_organisation_ids(request.user)
    if not admin_of:
        raise PermissionDenied("Connecting accounts is for admins.")
    forms = {platform: ConnectForm(platform) for platform in ("mastodon", "bluesky")}
    if bound is not None:
        forms[bound.platform] = bound
    context = {
        "accounts": WorkplaceAccount.objects.filter(organisation_id__in=admin_of).select_related(
            "organisation", "connected_by"
        ),
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


@require_GET
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
                )
            else:
                account = services.bluesky_connect(
                    by=request.user,
                    organisation_id=organisation_id,
                    server=data["server"],
                    handle=data["handle"],
                    app_password=data["secret"],
                )
        except NotAllowed as error:
            raise PermissionDenied(error.message) from error
        except InvalidInput as error:
            form.add_domain_error(error)
        except DomainError as error:
            form.add_error(None, error.message)
        else:
            name = account.get_platform_display()
            messages.success(request, f"Connected @{account.handle} on {name}.")
            return redirect("accounts")
    return _accounts_page(request, bound=form, status=400)


# Scenarios and the "what would happen" replay -------------------------------------------------


@require_http_methods(["GET", "POST"])
@login_required
def scenarios(request: AuthenticatedRequest) -> HttpResponse:
    """The organisation's scenarios, the shipped examples, and a form to write one."""
    _require_reviewer_somewhere(request)
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
        "examples": audience.SCENARIOS,
        "personas": audience.PERSONAS,
        "trainees": sandbox_selectors.members_of(organisation_id, Membership.Role.TRAINEE),
        "cohorts": selectors.cohorts_of(organisation_id),
        "runs": sandbox_selectors.scenario_runs_for(organisation_ids=[organisation_id]),
    }
    return render(request, "coaching/scenarios.html", context, status=status)


@require_POST
@login_required
def scenario_copy_example(request: AuthenticatedRequest, slug: str) -> HttpResponse:
    _require_reviewer_somewhere(request)
    example = next((s for s in audience.SCENARIOS if s.slug == slug), None)
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


@require_GET
@login_required
def scenario_debrief(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """A scenario run, in order: each post at its offset and the trainee's answers to it,
    with their reviews. For the organisation's coaches, and the trainee (read only)."""
    run = sandbox_selectors.scenario_run_visible_to(request.user, pk)
    if run is None:
        raise Http404("No such scenario run.")
    context = {"run": run, "entries": sandbox_selectors.debrief(run, viewer=request.user)}
    return render(request, "coaching/debrief.html", context)


REPLAY_MINUTES = (1, 5, 15, 30, 60)


@require_GET
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


# Cover: a coach's availability, and the trainees no coach is named for ----------------------


@require_http_methods(["GET", "POST"])
@login_required
def availability(request: AuthenticatedRequest) -> HttpResponse:
    """When the coach is away and who covers, for one of their organisations at a time."""
    organisation_ids = sandbox_selectors.reviewer_organisation_ids(request.user)
    if not organisation_ids:
        raise PermissionDenied("Setting when you are away is for coaches.")
    raw = request.POST.get("organisation") or request.GET.get("organisation")
    organisation_id = id_from(raw) if raw else organisation_ids[0]
    if organisation_id not in organisation_ids:
        raise Http404("No such organisation.")
    coaches = selectors.coach_memberships([organisation_id])
    membership = next(m for m in coaches if m.user_id == request.user.pk)
    others = [m.user for m in coaches if m.user_id != request.user.pk]
    form = AvailabilityForm(
        request.POST or None,
        coaches=others,
        initial={
            "away_from": membership.away_from,
            "away_until": membership.away_until,
            "cover_coach": membership.cover_coach_id,
        },
    )
    status = 200
    if request.method == "POST":
        if "back" in request.POST:
            form = AvailabilityForm({}, coaches=others)
        if form.is_valid():
            try:
                sandbox_services.coach_availability_set(
                    by=request.user,
                    organisation_id=organisation_id,
                    away_from=form.cleaned_data["away_from"],
                    away_until=form.cleaned_data["away_until"],
                    cover_coach_id=form.cleaned_data["cover_coach"],
                )
            except InvalidInput as error:
                form.add_domain_error(error)
            except DomainError as error:
                return refused(request, error, back_to=reverse("availability"))
            else:
                messages.success(request, _availability_message(form.cleaned_data))
                return redirect(f"{reverse('availability')}?organisation={organisation_id}")
        status = 422
    context = {
        "form": form,
        "membership": membership,
        "organisations": Organisation.objects.filter(pk__in=organisation_ids),
        "organisation_id": organisation_id,
    }
    return render(request, "coaching/availability.html", context, status=status)


def _availability_message(data: dict[str, object]) -> str:
    if data["away_from"] is None:
        return "Saved: you are not marked as away. Your trainees' posts come to you."
    who = "your cover coach" if data["cover_coach"] else "the coach pool"
    return f"Saved. While you are away, your trainees' posts go to {who}."


@require_GET
@login_required
def unassigned_trainees(request: AuthenticatedRequest) -> HttpResponse:
    admin_of = sandbox_selectors.admin_organisation_ids(request.user)
    if not admin_of:
        raise PermissionDenied("The list of unassigned trainees is for admins.")
    coaches: dict[int, list[User]] = {}
    for membership in selectors.coach_memberships(admin_of):
        coaches.setdefault(membership.organisation_id, []).append(membership.user)
    cohorts: dict[int, list[Cohort]] = {}
    for cohort in Cohort.objects.filter(organisation_id__in=admin_of):
        cohorts.setdefault(cohort.organisation_id, []).append(cohort)
    rows = [
        (
            trainee,
            coaches.get(trainee.organisation_id, []),
            cohorts.get(trainee.organisation_id, []),
        )
        for trainee in selectors.unassigned_trainees(admin_of)
    ]
    return render(request, "coaching/unassigned.html", {"rows": rows})


@require_POST
@login_required
def trainee_assign(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    admin_of = sandbox_selectors.admin_organisation_ids(request.user)
    if not admin_of:
        raise PermissionDenied("Assigning coaches is for admins.")
    membership = get_object_or_404(
        Membership.objects.select_related("user", "organisation"),
        pk=pk,
        organisation_id__in=admin_of,
    )
    back = reverse("unassigned_trainees")
    form = AssignForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(str(e) for errors in form.errors.values() for e in errors))
        return redirect(back)
    try:
        sandbox_services.trainee_assign(
            by=request.user,
            membership=membership,
            coach_id=form.cleaned_data["coach"],
            cohort_id=form.cleaned_data["cohort"],
        )
    except DomainError as error:
        return refused(request, error, back_to=back)
    trainee = sandbox_selectors.display_name(membership.user)
    coach = sandbox_selectors.display_name(membership.coach)  # type: ignore[arg-type]
    messages.success(request, f"{trainee}'s posts now go to {coach}.")
    return redirect(back)
