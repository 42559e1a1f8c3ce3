"""The inbox of the organisation's real accounts: the list (filters, htmx), one item with
the conversation around it, the actions on an item, and an account's cover page (owner,
rota, handover and handback notes). Who sees what: coaching/selectors/inbox.py."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from coaching.forms.inbox import AssignForm, CoverForm, HandbackForm, InboxFilterForm, OwnerForm
from coaching.models import AccountCover, InboxItem
from coaching.selectors import inbox as inbox_selectors
from coaching.services import account_cover as cover_services
from coaching.services import inbox as inbox_services
from sandbox import access
from sandbox.errors import DomainError, InvalidInput, NotAllowed
from sandbox.http import AuthenticatedRequest, refused
from sandbox.models import Membership, WorkplaceAccount
from sandbox.selectors import REVIEWER_ROLES, display_name, standings

NOT_IN_AN_ORGANISATION = "The inbox is for the people of an organisation."


def _staff_of(request: AuthenticatedRequest) -> list[int]:
    """The organisations whose inbox the person may act on; refused for anyone who belongs
    to none at all (trainees may look, at what is assigned to them)."""
    mine = standings(request.user)
    if not mine:
        raise NotAllowed(NOT_IN_AN_ORGANISATION)
    return [s.organisation_id for s in mine if s.role in REVIEWER_ROLES]


@require_safe
@login_required
def inbox(request: AuthenticatedRequest) -> HttpResponse:
    """The list and, for htmx (filters, polling), only the list."""
    staff_of = _staff_of(request)
    accounts = list(inbox_selectors.inbox_accounts(request.user))
    form = InboxFilterForm(request.GET, accounts=accounts)
    page = Paginator(
        inbox_selectors.inbox_items(request.user, form.filters), inbox_selectors.INBOX_PAGE_SIZE
    ).get_page(request.GET.get("page"))
    people = inbox_selectors.assignable_by_organisation(staff_of) if staff_of else {}
    for item in page.object_list:
        # The "Give to" choices of the item's own organisation (none for a trainee).
        item.people = people.get(item.account.organisation_id, [])
        item.risk_heading = inbox_selectors.risk_heading(item)
    context = {"form": form, "page": page, "staff_of": staff_of}
    if request.htmx:
        return render(request, "coaching/inbox.html#inbox-list", context)
    context["duty"] = _duty_rows(accounts, staff_of)
    return render(request, "coaching/inbox.html", context)


def _people_of(organisation_id: int) -> list[Membership]:
    return inbox_selectors.assignable_by_organisation([organisation_id]).get(organisation_id, [])


def _duty_rows(accounts: list[WorkplaceAccount], staff_of: list[int]) -> list[dict[str, object]]:
    """Who looks after each account today, for the page's staff (one query for the rota,
    one for the owners)."""
    mine = [a for a in accounts if a.organisation_id in staff_of]
    if not mine:
        return []
    with_owner = list(
        WorkplaceAccount.objects.filter(pk__in=[a.pk for a in mine])
        .select_related("owner")
        .only("pk", "handle", "platform", "organisation_id", "owner")
    )
    duty = inbox_selectors.on_duty_for(with_owner)
    return [{"account": a, "duty": duty[a.pk]} for a in with_owner]


@require_safe
@login_required
def inbox_item(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    staff_of = _staff_of(request)
    item = inbox_selectors.inbox_item_for(request.user, pk)
    if item is None:
        raise Http404("No such post in your inbox.")
    organisation_id = item.account.organisation_id
    item.people = _people_of(organisation_id) if organisation_id in staff_of else []  # type: ignore[attr-defined]
    item.risk_heading = inbox_selectors.risk_heading(item)  # type: ignore[attr-defined]
    context = {
        "item": item,
        "conversation": inbox_selectors.conversation(item),
        "staff_of": staff_of,
    }
    return render(request, "coaching/inbox_item.html", context)


def _item_or_404(request: AuthenticatedRequest, pk: int) -> InboxItem:
    _staff_of(request)
    item = inbox_selectors.inbox_item_for(request.user, pk)
    if item is None:
        raise Http404("No such post in your inbox.")
    return item


def _back(request: AuthenticatedRequest, item: InboxItem) -> str:
    """Where an action returns to: the list as it was filtered, or the item's page. Only
    the inbox's own pages, never an address from elsewhere."""
    back = request.POST.get("back", "")
    inbox_url = reverse("inbox")
    if back.startswith(inbox_url) and "//" not in back and "\\" not in back:
        return back
    return reverse("inbox_item", args=[item.pk])


@require_POST
@login_required
def inbox_assign(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    item = _item_or_404(request, pk)
    back = _back(request, item)
    access.require_reviewer(request.user, item.account.organisation_id)
    people = _people_of(item.account.organisation_id)
    form = AssignForm(request.POST, people=people)
    if not form.is_valid():
        messages.error(request, " ".join(str(e) for errors in form.errors.values() for e in errors))
        return redirect(back)
    to = form.person(request.user)
    try:
        inbox_services.inbox_assign(by=request.user, item=item, to=to)
    except DomainError as error:
        return refused(request, error, back_to=back)
    who = "you" if to == request.user else display_name(to) if to else "nobody"
    messages.success(request, f"@{item.author_handle}'s post is now with {who}.")
    return redirect(back)


ACTIONS = {
    "done": (inbox_services.inbox_done, "Marked done: @{handle}'s post."),
    "no-reply": (inbox_services.inbox_no_reply, "Marked as needing no reply: @{handle}'s post."),
    "reopen": (inbox_services.inbox_reopen, "Reopened: @{handle}'s post needs an answer."),
}


@require_POST
@login_required
def inbox_item_state(request: AuthenticatedRequest, pk: int, action: str) -> HttpResponse:
    """Done, needs no reply, reopen: one service each."""
    if action not in ACTIONS:
        raise Http404("No such action.")
    item = _item_or_404(request, pk)
    back = _back(request, item)
    change, said = ACTIONS[action]
    try:
        change(by=request.user, item=item)
    except DomainError as error:
        return refused(request, error, back_to=back)
    messages.success(request, said.format(handle=item.author_handle))
    return redirect(back)


# An account's owner and cover rota ---------------------------------------------------------


def _account_for(request: AuthenticatedRequest, pk: int) -> WorkplaceAccount:
    member_of = [s.organisation_id for s in standings(request.user)]
    if not member_of:
        raise NotAllowed(NOT_IN_AN_ORGANISATION)
    account = get_object_or_404(
        WorkplaceAccount.objects.filter(organisation_id__in=member_of)
        .select_related("owner", "organisation")
        .defer(*WorkplaceAccount.SECRETS),
        pk=pk,
    )
    return account


def _cover_page(
    request: AuthenticatedRequest,
    account: WorkplaceAccount,
    *,
    cover_form: CoverForm | None = None,
    handback_form: HandbackForm | None = None,
    status: int = 200,
) -> HttpResponse:
    people = inbox_selectors.assignable_by_organisation([account.organisation_id]).get(
        account.organisation_id, []
    )
    rota = inbox_selectors.cover_rota(account, request.user)
    duty = inbox_selectors.on_duty(account)
    is_admin = any(
        s.organisation_id == account.organisation_id and s.role == Membership.Role.ADMIN
        for s in standings(request.user)
    )
    context = {
        "account": account,
        "today": timezone.localdate(),
        "rota": rota,
        "duty": duty,
        "may_arrange": inbox_selectors.may_arrange_cover(request.user, account),
        "cover_form": cover_form or CoverForm(people=people),
        "handback_form": handback_form or HandbackForm(),
        "owner_form": OwnerForm(people=people, initial={"owner": account.owner_id})
        if is_admin
        else None,
    }
    return render(request, "coaching/inbox_cover.html", context, status=status)


@require_safe
@login_required
def account_cover(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    account = _account_for(request, pk)
    if not inbox_selectors.may_see_cover(request.user, account):
        raise NotAllowed(cover_services.COVER_ONLY)
    return _cover_page(request, account)


@require_POST
@login_required
def account_cover_add(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    account = _account_for(request, pk)
    if not inbox_selectors.may_arrange_cover(request.user, account):
        raise NotAllowed(cover_services.COVER_ONLY)
    people = inbox_selectors.assignable_by_organisation([account.organisation_id]).get(
        account.organisation_id, []
    )
    form = CoverForm(request.POST, people=people)
    if form.is_valid():
        data = form.cleaned_data
        try:
            cover = cover_services.cover_add(
                by=request.user,
                account=account,
                person=form.people[data["person"]],
                starts_on=data["starts_on"],
                ends_on=data["ends_on"],
                handover_note=data["handover_note"],
            )
        except InvalidInput as error:
            form.add_domain_error(error)
        except DomainError as error:
            return refused(request, error, back_to=reverse("account_cover", args=[pk]))
        else:
            messages.success(
                request,
                f"{display_name(cover.person)} covers @{account.handle} from "
                f"{cover.starts_on.day} {cover.starts_on:%B} to "
                f"{cover.ends_on.day} {cover.ends_on:%B %Y}.",
            )
            return redirect("account_cover", pk)
    return _cover_page(request, account, cover_form=form, status=422)


def _cover_of(request: AuthenticatedRequest, pk: int, cover_pk: int) -> AccountCover:
    account = _account_for(request, pk)
    cover = get_object_or_404(
        AccountCover.objects.select_related("person"), pk=cover_pk, account=account
    )
    cover.account = account
    return cover


@require_POST
@login_required
def account_cover_remove(request: AuthenticatedRequest, pk: int, cover_pk: int) -> HttpResponse:
    cover = _cover_of(request, pk, cover_pk)
    try:
        cover_services.cover_remove(by=request.user, cover=cover)
    except DomainError as error:
        return refused(request, error, back_to=reverse("account_cover", args=[pk]))
    messages.success(request, f"{display_name(cover.person)}'s cover is off the rota.")
    return redirect("account_cover", pk)


@require_http_methods(["POST"])
@login_required
def account_cover_handback(request: AuthenticatedRequest, pk: int, cover_pk: int) -> HttpResponse:
    cover = _cover_of(request, pk, cover_pk)
    form = HandbackForm(request.POST)
    if form.is_valid():
        try:
            cover_services.cover_handback(
                by=request.user, cover=cover, note=form.cleaned_data["note"]
            )
        except InvalidInput as error:
            form.add_domain_error(error)
        except DomainError as error:
            return refused(request, error, back_to=reverse("account_cover", args=[pk]))
        else:
            messages.success(request, "Your note is with the owner.")
            return redirect("account_cover", pk)
    return _cover_page(request, cover.account, handback_form=form, status=422)


@require_POST
@login_required
def account_owner(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """An admin names the account's owner (from the Accounts page or the cover page)."""
    admin_of = access.admin_organisations(request.user)
    account = get_object_or_404(
        WorkplaceAccount.objects.filter(organisation_id__in=admin_of).defer(
            *WorkplaceAccount.SECRETS
        ),
        pk=pk,
    )
    back = (
        reverse("accounts")
        if request.POST.get("back") == "accounts"
        else reverse("account_cover", args=[pk])
    )
    people = inbox_selectors.assignable_by_organisation([account.organisation_id]).get(
        account.organisation_id, []
    )
    form = OwnerForm(request.POST, people=people)
    if not form.is_valid():
        messages.error(request, " ".join(str(e) for errors in form.errors.values() for e in errors))
        return redirect(back)
    chosen = form.cleaned_data["owner"]
    owner = next((m.user for m in people if m.user_id == chosen), None)
    try:
        cover_services.account_owner_set(by=request.user, account=account, owner=owner)
    except DomainError as error:
        return refused(request, error, back_to=back)
    messages.success(
        request,
        f"@{account.handle} is looked after by {display_name(owner)}."
        if owner
        else f"@{account.handle} has no owner now.",
    )
    return redirect(back)
