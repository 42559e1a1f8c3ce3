"""A draft's comment thread, posted from the trainee's draft page or a coach's review
page (with htmx the thread is swapped in place; without JavaScript, a plain form)."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from coaching import services
from coaching.forms import CommentForm
from sandbox import selectors as sandbox_selectors
from sandbox.errors import InvalidInput, NotAllowed
from sandbox.http import AuthenticatedRequest


def _page_of(request: AuthenticatedRequest, draft_id: int, author_id: int) -> str:
    """Where the person reads the draft: the trainee's draft page, a coach's review."""
    page = "draft_detail" if request.user.pk == author_id else "review"
    return reverse(page, args=[draft_id]) + "#comments"


@require_POST
@login_required
def draft_comment(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    # 404 for a draft the person may not see at all (another trainee's, another
    # organisation's), so its existence is not given away; the service checks the rest.
    draft = (
        sandbox_selectors.visible_drafts(request.user)
        .select_related("account", "author", "current_revision")
        .filter(pk=pk)
        .first()
    )
    if draft is None:
        raise Http404("No such draft.")
    form = CommentForm(request.POST)
    if form.is_valid():
        try:
            services.comment_add(draft=draft, by=request.user, body=form.cleaned_data["body"])
        except NotAllowed as error:
            raise PermissionDenied(error.message) from error
        except InvalidInput as error:
            form.add_domain_error(error)
        else:
            if request.htmx:
                return render(request, "coaching/_comments.html", {"draft": draft})
            return redirect(_page_of(request, draft.pk, draft.author_id))
    context = {
        "draft": draft,
        "comment_form": form,
        "back": _page_of(request, draft.pk, draft.author_id),
    }
    template = "coaching/_comments.html" if request.htmx else "coaching/comment_refused.html"
    return render(request, template, context, status=422)
