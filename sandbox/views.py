"""The pages authoring owns: the home redirect, live risk hints, private images and the
liveness probe. The trainee's timeline and draft pages show reviews and publications, so
they are coaching's (coaching/views/)."""

import dataclasses
import re

from django.contrib.auth.decorators import login_required
from django.db import DatabaseError, connection
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    JsonResponse,
)
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from sandbox import selectors
from sandbox.checks import CheckContext, MediaInfo, run_checks
from sandbox.forms import (
    TEXT_HARD_CAP,
    post_attachments,
)
from sandbox.http import AuthenticatedRequest, id_from
from sandbox.signin import has_second_factor, is_background, second_factor_exempt, seconds_left


@require_safe
@login_required
def home(request: AuthenticatedRequest) -> HttpResponse:
    roles = selectors.roles_of(request.user)
    if roles & set(selectors.REVIEWER_ROLES):
        return redirect("queue")
    return redirect("timeline")


@second_factor_exempt
@require_safe
@login_required
def account_security(request: AuthenticatedRequest) -> HttpResponse:
    """Your sign-in and security: password, second factors, where you are signed in."""
    return render(
        request,
        "account/security.html",
        {
            "has_second_factor": has_second_factor(request.user),
            "second_factor_required": bool(getattr(request, "sandpit_requires_second_factor", 0)),
        },
    )


@second_factor_exempt
@require_http_methods(["GET", "HEAD", "POST"])
def idle_session(request: HttpRequest) -> JsonResponse:
    """How long this session has left before the idle timeout, for the page's warning
    (static/js/idle.js). Its GET is sent as background and extends nothing; its POST ("Stay
    signed in") is a person's action and, like any other, starts the time again
    (sandbox.signin.IdleTimeoutMiddleware). Signed out: 0, never a redirect."""
    if not request.user.is_authenticated:
        return JsonResponse({"seconds_left": 0}, status=401)
    reviewer = bool(getattr(request, "sandpit_reviewer", False))
    return JsonResponse(
        {"seconds_left": seconds_left(request, reviewer), "background": is_background(request)}
    )


@require_safe
@login_required
def post_image(request: AuthenticatedRequest, pk: int) -> FileResponse:
    """One uploaded image, to those who may see its draft. Private media: never cached by
    shared caches, and never sniffed or run as anything but the image it was checked as."""
    image = selectors.post_image_visible_to(request.user, pk)
    if image is None:
        raise Http404("No such image.")
    try:
        handle = image.file.open("rb")
    except FileNotFoundError as exc:
        raise Http404("This image is missing from storage.") from exc
    response = FileResponse(handle, content_type=image.content_type)
    response["Content-Disposition"] = "inline"
    response["X-Content-Type-Options"] = "nosniff"
    # Not kept in the browser's cache: these can be patient-adjacent photos, and NHS
    # machines are shared.
    response["Cache-Control"] = "private, no-store"
    # Opened on its own, the image is a document: let it do nothing but be shown.
    response["Content-Security-Policy"] = "default-src 'none'; img-src 'self'; sandbox"
    return response


def email_change_closed(request: HttpRequest) -> HttpResponse:
    """allauth's page for adding and choosing email addresses, closed: an address is how an
    invitation and single sign-on find a person, so a person may not set their own (one who
    could would be handed the invitation meant for that address). Operators change one in
    the Django admin."""
    raise Http404("Ask your organisation's admin to change your email address.")


@require_safe
def liveness(request: HttpRequest) -> JsonResponse:
    """For load balancers: this web process can reach its database. It does not depend on
    the worker, so a stalled worker never takes the site (and its emergency stop) down."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError as exc:
        return JsonResponse({"status": "failing", "database": exc.__class__.__name__}, status=503)
    return JsonResponse({"status": "ok"})


@require_safe
@login_required
def bench_bare(request: AuthenticatedRequest) -> HttpResponse:
    """The page benchmark's baseline (bench/pages.py): the whole middleware stack and the
    session user, and nothing else. Routed only when SANDPIT_BENCH_BARE_VIEW is set."""
    return HttpResponse(f"Signed in as {request.user.username}.", content_type="text/plain")


@require_POST
@login_required
def draft_check(request: AuthenticatedRequest) -> HttpResponse:
    """Live risk hints for the composer, asked for by htmx as the trainee pauses typing.
    Nothing is saved; the organisation's own check settings apply.

    The post's images' descriptions are checked with it (each finding names its image, in
    the list and beside that description), and the thread's other posts and descriptions
    are passed along, so a patient named in one post and their illness in another is found.
    """
    # "field" names the box that asked (the first post, or thread-2 and so on).
    field = request.POST.get("field", "text")
    if field != "text" and not _THREAD_BOX.fullmatch(field):
        field = "text"
    text = request.POST.get(field, "")[:TEXT_HARD_CAP]
    accounts = selectors.accounts_for_author(request.user)
    account_id = id_from(request.POST.get("account"))
    chosen = accounts.filter(pk=account_id).first() if account_id is not None else None
    account = chosen or accounts.first()
    context = selectors.check_context(account.organisation_id) if account else CheckContext()
    # The composer's form sends each post's images and alt text along with the text.
    position = 0 if field == "text" else int(field.removeprefix("thread-"))
    attachments = {a.position: a for a in post_attachments(request.POST, _MAX_THREAD_BOXES)}
    mine = attachments[position].images if position in attachments else []
    thread: list[str] = []
    for name in request.POST:
        if name != field and (name == "text" or _THREAD_BOX.fullmatch(name)):
            other = 0 if name == "text" else int(name.removeprefix("thread-"))
            thread.append(request.POST.get(name, "")[:TEXT_HARD_CAP])
            if other in attachments:
                thread.extend(image.alt for image in attachments[other].images)
    media = tuple(MediaInfo(alt_text=image.alt) for image in mine)
    findings = run_checks(
        text,
        context=dataclasses.replace(context, media=media, thread=tuple(thread[:_MAX_THREAD_PARTS])),
    )
    return render(
        request,
        "sandbox/_draft_check.html",
        {
            "text": text,
            "findings": findings,
            "alts": [image.alt for image in mine],
            "images": mine,
        },
    )


# The composer's other post boxes, "thread-1", "thread-2"...; more than this is not a thread.
_THREAD_BOX = re.compile(r"thread-[0-9]{1,2}")
_MAX_THREAD_BOXES = 100
_MAX_THREAD_PARTS = 200
