"""coaching/services/stops.py: an emergency stop holds an account's queued posts until a
coach or admin resumes it; it needs a reason, cannot be doubled, and everyone in the
organisation sees its banner."""

import pytest
from django.urls import reverse

from coaching import services as coaching
from coaching.models import AuditEvent, Publication
from sandbox.errors import InvalidInput, InvalidState, NotAllowed
from tests.builders import approved, sent
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


P = Publication.Status


# Emergency stop ------------------------------------------------------------------------------


@pytest.mark.parametrize("scope", ["account", "organisation"])
def test_a_stop_holds_queued_posts_until_resumed(trainee, coach, account, x_double, scope):
    stop = coaching.publishing_stop(
        by=coach,
        organisation_id=account.organisation_id,
        account=account if scope == "account" else None,
        reason="Suspected hacked account",
    )
    publication = sent(approved(trainee, coach, account, "Hold this"))
    assert publication.status == P.QUEUED
    assert "Cora paused publishing" in publication.error
    assert "Suspected hacked account" in publication.error
    assert x_double.posts_for(account.handle) == []
    assert coaching.publication_sweep()["enqueued"] == 0  # the sweep skips it too

    coaching.publishing_resume(by=coach, stop=stop)
    assert sent(publication).status == P.PUBLISHED
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {"publishing_stopped", "publishing_resumed"} <= actions


def test_only_coaches_and_admins_stop_publishing(trainee, outside_coach, account):
    for person in (trainee, outside_coach):
        with pytest.raises(NotAllowed):
            coaching.publishing_stop(
                by=person, organisation_id=account.organisation_id, reason="No"
            )


def test_a_stop_needs_a_reason_and_cannot_be_doubled(coach, account):
    with pytest.raises(InvalidInput, match="Say why"):
        coaching.publishing_stop(by=coach, organisation_id=account.organisation_id, reason=" ")
    coaching.publishing_stop(by=coach, organisation_id=account.organisation_id, reason="Purdah")
    with pytest.raises(InvalidState, match="already stopped"):
        coaching.publishing_stop(by=coach, organisation_id=account.organisation_id, reason="Again")


def test_everyone_in_the_organisation_sees_the_stop_banner(client, coach, trainee, account):
    coaching.publishing_stop(
        by=coach, organisation_id=account.organisation_id, reason="Major incident declared"
    )
    client.login(username=trainee.username, password=PASSWORD)
    body = client.get(reverse("timeline")).content.decode()
    assert "Publishing is stopped" in body and "Major incident declared" in body
    assert "Resume publishing" not in body  # trainees cannot resume
