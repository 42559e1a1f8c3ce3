"""axe-core over the earned-autonomy parts of the pages: the trainee's review-mode panel
and history, a spot-checked post's page, and the coach's Hold and Switch controls."""

import pytest
from django.urls import reverse

from coaching import services as coaching
from sandbox import services
from sandbox.models import Membership, Organisation
from tests.browser.test_accessibility import problems_on, signed_in

pytestmark = pytest.mark.browser


@pytest.mark.django_db(transaction=True)
def test_the_autonomy_panels_have_no_serious_accessibility_problems(
    new_page, live_server, trainee, coach, organisation, account
):
    Organisation.objects.filter(pk=organisation.pk).update(autonomy_streak=5, spot_check_every=5)
    coaching._change_review_mode(
        Membership.objects.get(user=trainee),
        to=Membership.ReviewMode.SPOT_CHECK,
        by=None,
        reason="5 first-pass approvals in a row.",
    )
    draft = services.draft_create(author=trainee, account=account, text="Clinic open 9 to 5")
    coaching.draft_submit(draft=draft, by=trainee)

    pages = {
        trainee: [reverse("timeline"), reverse("draft_detail", args=[draft.pk])],
        coach: [reverse("review", args=[draft.pk]), reverse("trainee_timeline", args=[trainee.pk])],
    }

    def shows_spot_check(page) -> None:
        assert page.get_by_text("spot-check", exact=False).first.is_visible()

    assert problems_on(new_page, live_server, pages, check=shows_spot_check) == {}

    # The coach holds the post from its review page, with the keyboard.
    page = signed_in(new_page, live_server, coach)
    page.goto(f"{live_server.url}{reverse('review', args=[draft.pk])}")
    page.get_by_role("button", name="Hold for review").focus()
    page.keyboard.press("Enter")
    page.wait_for_load_state("networkidle")
    assert page.get_by_text("is back in full review").is_visible()
