"""Answering a post of the public's from the inbox: the composer for a reply or a quote,
with the post being answered (and its risk flags) above it."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from coaching import services
from coaching.models import Answer
from coaching.selectors import inbox as inbox_selectors
from coaching.selectors.answers import answerable_item_for, answers_by
from coaching.services import answers
from coaching.views.composer import _saved_but_not_sent, _sent_message
from sandbox.errors import DomainError, InvalidInput, InvalidState
from sandbox.forms import EditForm
from sandbox.http import AuthenticatedRequest, refused


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def answer_compose(request: AuthenticatedRequest, pk: int, kind: str) -> HttpResponse:
    """The composer for a reply to (or a quote of) an inbox item (GET), which saves the
    answer as a draft or sends it for review (POST)."""
    item = answerable_item_for(request.user, pk)
    if item is None or kind not in Answer.Kind.values:
        raise Http404("No such post.")
    form = EditForm(request.POST if request.method == "POST" else None)
    patient_details = inbox_selectors.patient_details_in(item)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                draft = answers.answer_start(
                    author=request.user, item=item, kind=kind, text=form.cleaned_data["text"]
                )
            except InvalidInput as error:
                form.add_domain_error(error)
            except InvalidState as error:
                # The post changed while they wrote (deleted, say): say so above what they
                # typed, which stays in the box.
                form.add_error(None, str(error))
            except DomainError as error:
                return refused(request, error, back_to=request.path)
            else:
                if "submit" not in request.POST:
                    messages.success(request, "Saved as a draft. Send it for review when ready.")
                    return redirect(draft)
                try:
                    services.draft_submit(draft=draft, by=request.user)
                except DomainError as error:
                    return _saved_but_not_sent(request, draft, error)
                messages.success(request, _sent_message(draft))
                return redirect(draft)
        status = 422
    context = {
        "item": item,
        "kind": kind,
        "form": form,
        "patient_details": bool(patient_details),
        # A quote of a patient's details is never offered: it would publish them again.
        "refused": (
            answers.GONE
            if not item.is_answerable
            else answers.QUOTE_OF_PATIENT_DETAILS
            if kind == Answer.Kind.QUOTE and patient_details
            else ""
        ),
        "reply_url": reverse("answer_reply", args=[item.pk]),
        "earlier": answers_by(request.user, item),
    }
    return render(request, "coaching/answer.html", context, status=status)
