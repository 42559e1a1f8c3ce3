"""The checks engine inside the product: live hints, blocking findings at submit and
approve, a coach's override with a reason, and each organisation's own tuning."""

import pytest
from django.urls import reverse

from coaching import services as coaching
from coaching.models import AuditEvent, CheckOverride, Publication
from sandbox import services
from sandbox.errors import InvalidInput, InvalidState, NotAllowed
from sandbox.models import CheckSeverity, Draft, LocalIdentifierPattern, LocalWord
from tests import builders
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

NHS_NUMBER_POST = "Great to see Mrs Brown, NHS no 999 200 2972, walking again!"


@pytest.fixture
def risky(trainee, account):  # type: ignore[no-untyped-def]
    return builders.draft(trainee, account, NHS_NUMBER_POST)


def test_a_blocking_finding_stops_submission_with_the_reason(risky, trainee):
    with pytest.raises(InvalidState, match="patient identifier"):
        coaching.draft_submit(draft=risky, by=trainee)
    risky.refresh_from_db()
    assert risky.status == Draft.Status.DRAFT
    assert risky.text == NHS_NUMBER_POST  # nothing lost


def test_a_coach_can_let_it_through_with_a_reason_and_it_is_audited(risky, trainee, coach):
    with pytest.raises(InvalidInput, match="Say why"):
        coaching.check_override(draft=risky, by=coach, reason="")
    coaching.check_override(draft=risky, by=coach, reason="Test-range number in a training post")
    coaching.draft_submit(draft=risky, by=trainee)
    assert risky.status == Draft.Status.SUBMITTED
    event = AuditEvent.objects.get(action="check_overridden")
    assert (event.actor, event.revision_id) == (coach, risky.current_revision_id)


def test_a_trainee_cannot_override(risky, trainee):
    with pytest.raises(NotAllowed):
        coaching.check_override(draft=risky, by=trainee, reason="It's fine")


def test_an_override_covers_only_that_revision(risky, trainee, coach):
    coaching.check_override(draft=risky, by=coach, reason="OK")
    services.draft_edit(draft=risky, by=trainee, text=NHS_NUMBER_POST + " Well done!")
    with pytest.raises(InvalidState, match="patient identifier"):
        coaching.draft_submit(draft=risky, by=trainee)


def test_approving_a_blocked_revision_needs_the_coachs_reason(trainee, coach, account):
    draft = services.draft_create(author=trainee, account=account, text="Clinic open 9-5")
    coaching.draft_submit(draft=draft, by=trainee)
    # The organisation switches a new rule on while the post waits in the queue.
    LocalWord.objects.create(organisation=account.organisation, word="clinic")
    CheckSeverity.objects.create(
        organisation=account.organisation, code="profanity", severity="block"
    )
    with pytest.raises(InvalidInput, match="Reason for overriding"):
        coaching.review_approve(draft=draft, by=coach)
    coaching.review_approve(draft=draft, by=coach, override_reason="Not rude in context")
    assert Publication.objects.filter(draft=draft).exists()
    assert CheckOverride.objects.get().codes == ["profanity"]


def test_an_organisation_can_switch_a_check_off(risky, trainee, account):
    CheckSeverity.objects.create(
        organisation=account.organisation, code="patient-identifier", severity="off"
    )
    coaching.draft_submit(draft=risky, by=trainee)
    assert risky.status == Draft.Status.SUBMITTED


def test_local_identifier_patterns_block_too(trainee, account):
    LocalIdentifierPattern.objects.create(
        organisation=account.organisation, label="hospital number", pattern=r"\bRX\d{7}\b"
    )
    draft = services.draft_create(author=trainee, account=account, text="Patient RX1234567 is home")
    with pytest.raises(InvalidState, match="patient identifier"):
        coaching.draft_submit(draft=draft, by=trainee)


# Live hints in the composer ------------------------------------------------------------------


def test_the_composer_gets_live_hints_with_the_organisations_rules(client, trainee, account):
    LocalWord.objects.create(organisation=account.organisation, word="flippin")
    client.login(username=trainee.username, password=PASSWORD)
    response = client.post(
        reverse("draft_check"),
        {"text": "£1 for every retweet, flippin brilliant", "account": account.pk},
        headers={"HX-Request": "true"},
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert "Engagement pledge" in body and "Swearing" in body
    assert '<mark class="sp-finding sp-finding--block"' in body


def test_live_hints_escape_the_text(client, trainee, account):
    client.login(username=trainee.username, password=PASSWORD)
    body = client.post(
        reverse("draft_check"), {"text": "<img src=x onerror=alert(1)> £1 for every retweet"}
    ).content.decode()
    assert "<img" not in body and "&lt;img src=x onerror=alert(1)&gt;" in body


def test_live_hints_need_a_login_and_a_post(client, trainee):
    assert client.post(reverse("draft_check"), {"text": "x"}).status_code == 302
    client.login(username=trainee.username, password=PASSWORD)
    assert client.get(reverse("draft_check")).status_code == 405


def test_live_hints_survive_junk(client, trainee):
    client.login(username=trainee.username, password=PASSWORD)
    junk = "\x00\x07" + "💩" * 5000 + "\u202e" * 300 + "e\u0301" * 500
    assert client.post(reverse("draft_check"), {"text": junk}).status_code == 200


def test_the_review_page_shows_the_findings_and_asks_for_a_reason(client, coach, risky):
    client.login(username=coach.username, password=PASSWORD)
    body = client.get(reverse("review", args=[risky.pk])).content.decode()
    assert "Patient identifier" in body
    assert "Let it through" in body


def test_send_to_coach_with_a_blocking_finding_lands_on_the_saved_draft(client, trainee, account):
    client.login(username=trainee.username, password=PASSWORD)
    response = client.post(
        reverse("timeline"),
        {"text": NHS_NUMBER_POST, "account": account.pk, "submit": "1"},
        follow=True,
    )
    draft = Draft.objects.get()
    assert draft.status == Draft.Status.DRAFT and draft.text == NHS_NUMBER_POST
    assert response.redirect_chain[-1][0] == reverse("draft_detail", args=[draft.pk])
    assert "Saved as a draft, but not sent." in response.content.decode()
