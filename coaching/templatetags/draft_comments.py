"""A draft's comment thread, for any page that shows the draft to someone in the
conversation (templates/coaching/_comments.html)."""

from django import template
from django.db.models import QuerySet

from coaching import selectors
from coaching.models import DraftComment
from sandbox.models import Draft

register = template.Library()


@register.simple_tag
def comments_on(draft: Draft) -> QuerySet[DraftComment]:
    return selectors.comments_on(draft)
