from django import forms
from django.db.models import QuerySet

from sandbox.errors import InvalidInput
from sandbox.models import TimelineItem, WorkplaceAccount

# Far beyond any post, small enough that a runaway paste cannot fill the database.
# The real limit (280 weighted characters) is the service's rule and message.
TEXT_HARD_CAP = 25_000


class DomainErrorsMixin:
    """Shows a service's InvalidInput on the field it names (or on the whole form)."""

    def add_domain_error(self: forms.Form, error: InvalidInput) -> None:  # type: ignore[misc]
        self.add_error(error.field if error.field in self.fields else None, error.message)


class DraftForm(DomainErrorsMixin, forms.Form):
    text = forms.CharField(
        label="What do you want to post?",
        strip=False,
        widget=forms.Textarea(attrs={"rows": 5, "data-composer": "", "class": "nhsuk-textarea"}),
        max_length=TEXT_HARD_CAP,
        error_messages={
            "required": "Write something before you save: the post is empty.",
            "max_length": "That is far too long for a post (over 25,000 characters). "
            "Keep the part you need and try again.",
        },
    )
    account = forms.ModelChoiceField(
        label="Post as",
        queryset=WorkplaceAccount.objects.none(),
        empty_label=None,
        widget=forms.Select(attrs={"class": "nhsuk-select"}),
    )

    def __init__(self, *args: object, accounts: QuerySet[WorkplaceAccount], **kwargs: object):
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["account"].queryset = accounts  # type: ignore[attr-defined]


class EditForm(DomainErrorsMixin, forms.Form):
    text = DraftForm.base_fields["text"]


class ResponseForm(EditForm):
    """Answering a post in the private timeline: a reply or a quote post."""

    kind = forms.ChoiceField(
        label="How do you want to answer it?",
        choices=[("reply", "Reply to it"), ("quote", "Quote it in a post of your own")],
        required=False,  # a bare reply form (no choice sent) means a reply
        widget=forms.RadioSelect,
        error_messages={"invalid_choice": "Choose a reply or a quote."},
    )

    def answering(self, item: TimelineItem) -> tuple[TimelineItem | None, TimelineItem | None]:
        """(in_reply_to, quote_of) for the services, as the trainee chose."""
        return (None, item) if self.cleaned_data.get("kind") == "quote" else (item, None)
