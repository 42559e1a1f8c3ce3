"""Inviting a person by email (for admins), sending the link again, and accepting it (for
the invited person, who is not signed in yet)."""

from allauth.account import signals as account_signals
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import SetPasswordForm
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST

from coaching.forms.people import InviteForm
from coaching.selectors import people as people_selectors
from coaching.services import people as people_services
from coaching.services import single_sign_on
from coaching.views.people import admin_organisation, person_or_404
from sandbox.errors import DomainError, InvalidInput
from sandbox.http import AuthenticatedRequest, refused
from sandbox.selectors import display_name

# The backend that checks the password just chosen (allauth's may be listed too).
PASSWORD_BACKEND = "django.contrib.auth.backends.ModelBackend"  # noqa: S105 - a path


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def person_invite(request: AuthenticatedRequest) -> HttpResponse:
    organisation = admin_organisation(request)
    form = InviteForm(
        request.POST if request.method == "POST" else None, organisation_id=organisation.pk
    )
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                invited = people_services.person_invite(
                    by=request.user,
                    organisation_id=organisation.pk,
                    email=data["email"],
                    first_name=data["first_name"],
                    last_name=data["last_name"],
                    role=data["role"],
                    cohort_id=data["cohort"],
                    coach_id=data["coach"],
                )
            except InvalidInput as error:
                form.add_domain_error(error)
            except DomainError as error:
                return refused(request, error, back_to=reverse("person_invite"))
            else:
                user = invited.membership.user
                if invited.new_account:
                    messages.success(request, f"Invitation sent to {user.email}.")
                else:
                    messages.success(
                        request,
                        f"{user.email} already had a Sandpit account, so they were added to "
                        f"{organisation.name} and told by email.",
                    )
                return redirect("person", pk=invited.membership.pk)
        status = 422
    context = {"form": form, "organisation": organisation}
    return render(request, "coaching/people/invite.html", context, status=status)


@require_POST
@login_required
def invitation_send_again(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    membership = person_or_404(request, pk)
    back = reverse("person", args=[pk])
    try:
        people_services.invitation_send_again(by=request.user, membership=membership)
    except DomainError as error:
        return refused(request, error, back_to=back)
    messages.success(request, f"A new invitation link was sent to {membership.user.email}.")
    return redirect(back)


@never_cache
@sensitive_post_parameters("new_password1", "new_password2")
@require_http_methods(["GET", "HEAD", "POST"])
def invitation_accept(request: HttpRequest, token: str) -> HttpResponse:
    """Open to anyone holding the link: it is the only proof of who they are. An expired,
    used or replaced link says so (410) and the person asks their admin to send it again."""
    try:
        invitation = people_services.invitation_check(people_selectors.invitation_for_token(token))
    except DomainError as error:
        return render(
            request,
            "coaching/people/invitation_problem.html",
            {"message": error.message},
            status=410,
        )
    user = invitation.membership.user
    bound = single_sign_on.binding_sign_ons(user)
    if bound:
        # Their organisation signs in only through its provider: a password chosen here
        # would be a way around that rule.
        sign_on = bound[0]
        messages.info(
            request,
            f"{sign_on.organisation.name} signs in with {sign_on.provider_name}, so you need no "
            f"Sandpit password: sign in with {sign_on.provider_name} below.",
        )
        return redirect(f"{reverse('account_login')}?organisation={sign_on.organisation.slug}")
    form = SetPasswordForm(user, request.POST if request.method == "POST" else None)
    for field in form.fields.values():
        field.widget.attrs["class"] = "nhsuk-input nhsuk-input--width-20"
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                user = people_services.invitation_accept(
                    invitation=invitation, password=form.cleaned_data["new_password1"]
                )
            except DomainError as error:
                return render(
                    request,
                    "coaching/people/invitation_problem.html",
                    {"message": error.message},
                    status=410,
                )
            login(request, user, backend=PASSWORD_BACKEND)
            # Announced as allauth announces its own sign-ins, so this first one is audited
            # like every other ("Signed in", coaching.services.sign_in).
            account_signals.user_logged_in.send(sender=type(user), request=request, user=user)
            messages.success(
                request,
                f"Welcome, {display_name(user)}. Your password is set; sign in with "
                f"{user.username} or {user.email} next time.",
            )
            return redirect("home")
        status = 422
    context = {"form": form, "invitation": invitation, "invited": user}
    return render(request, "coaching/people/invitation_accept.html", context, status=status)
