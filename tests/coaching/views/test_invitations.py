"""Invitations (coaching/views/invitations.py): an admin invites by email, sends a link
again; the invited person opens the link, chooses a password and is signed in. An expired,
used or replaced link says so plainly."""

import datetime as dt

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from coaching.models import AuditEvent, Invitation
from sandbox.models import Membership
from tests.factories import client_for

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a quiet ward at midnight 7"


def token_from(message) -> str:
    return message.body.split("/invitations/", 1)[1].split("/", 1)[0]


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("anonymous", 302),
        ("trainee", 403),
        ("coach", 403),
        ("outside_coach", 403),
        ("admin", 200),
    ],
)
def test_who_can_open_the_invite_form(client, request, who, status, organisation):
    response = client_for(request, client, who).get(reverse("person_invite"))
    assert response.status_code == status


@pytest.fixture
def invited(client, admin, organisation, django_capture_on_commit_callbacks):
    client.force_login(admin)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("person_invite"),
            {
                "email": "sam@example.org",
                "first_name": "Sam",
                "last_name": "Jones",
                "role": "trainee",
            },
        )
    assert response.status_code == 302
    client.logout()
    return token_from(mail.outbox[-1])


def test_inviting_sends_a_link_and_opens_the_persons_page(client, admin, organisation):
    client.force_login(admin)
    response = client.post(
        reverse("person_invite"),
        {"email": "sam@example.org", "first_name": "Sam", "last_name": "", "role": "coach"},
        follow=True,
    )
    body = response.content.decode()
    assert "Invitation sent to sam@example.org." in body
    assert "Send the invitation again" in body and ">Invited<" in body
    assert Membership.objects.get(user__email="sam@example.org").role == "coach"


def test_a_rejected_invitation_keeps_what_was_typed(client, admin, trainee, organisation):
    trainee.email = "tara@example.org"
    trainee.save()
    client.force_login(admin)
    response = client.post(
        reverse("person_invite"),
        {"email": "TARA@example.org", "first_name": "Tara", "last_name": "Again", "role": "coach"},
    )
    assert response.status_code == 422
    body = response.content.decode()
    assert "is already in Test Health Board" in body
    assert 'value="TARA@example.org"' in body and 'value="Again"' in body


def test_accepting_sets_the_password_and_signs_in(client, invited):
    url = reverse("invitation_accept", args=[invited])
    page = client.get(url)
    assert page.status_code == 200 and "Choose a password" in page.content.decode()
    response = client.post(url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert response.status_code == 302
    assert client.get(reverse("timeline")).status_code == 200  # signed in
    signed_in = AuditEvent.objects.filter(action=AuditEvent.Action.SIGNED_IN)
    assert [event.actor.username for event in signed_in] == ["sam"]
    client.logout()
    assert client.login(username="sam", password=NEW_PASSWORD)
    # The link is used up, and says so.
    client.logout()
    again = client.get(url)
    assert again.status_code == 410
    assert "already been used" in again.content.decode()


def test_a_weak_password_is_refused_by_djangos_validators(client, invited):
    response = client.post(
        reverse("invitation_accept", args=[invited]),
        {"new_password1": "password", "new_password2": "password"},
    )
    assert response.status_code == 422
    assert "too common" in response.content.decode()
    assert not Invitation.objects.get().accepted_at


def test_an_expired_link_says_so_and_the_admin_can_send_again(
    client, invited, admin, django_capture_on_commit_callbacks
):
    Invitation.objects.update(expires_at=timezone.now() - dt.timedelta(minutes=1))
    response = client.get(reverse("invitation_accept", args=[invited]))
    assert response.status_code == 410
    assert "This invitation has expired" in response.content.decode()
    client.force_login(admin)
    membership = Membership.objects.get(user__email="sam@example.org")
    assert "it has expired" in client.get(reverse("person", args=[membership.pk])).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("invitation_send_again", args=[membership.pk]))
    client.logout()
    fresh = token_from(mail.outbox[-1])
    assert client.get(reverse("invitation_accept", args=[fresh])).status_code == 200
    assert "replaced" in client.get(reverse("invitation_accept", args=[invited])).content.decode()


@pytest.mark.parametrize("token", ["nonsense", "x" * 500, "%00"])
def test_a_made_up_link_is_refused_plainly(client, token):
    response = client.get(f"/invitations/{token}/")
    assert response.status_code == 410
    assert "not valid" in response.content.decode()


def test_another_organisations_admin_cannot_send_again(client, invited, outside_staff_admin):
    membership = Membership.objects.get(user__email="sam@example.org")
    client.force_login(outside_staff_admin)
    response = client.post(reverse("invitation_send_again", args=[membership.pk]))
    assert response.status_code == 404


def test_invitations_and_acceptances_are_in_the_audit_log_and_its_export(client, invited, admin):
    client.post(
        reverse("invitation_accept", args=[invited]),
        {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    client.force_login(admin)
    page = client.get(reverse("audit_log")).content.decode()
    assert "Person invited" in page and "Invitation accepted" in page
    response = client.get(reverse("audit_log_export"))
    export = response.content.decode("utf-8-sig")
    assert "Person invited" in export and "sam@example.org invited as trainee" in export


def test_an_sso_only_organisation_sends_the_invited_person_to_its_provider(
    client, invited, organisation
):
    from sandbox.models import SingleSignOn

    SingleSignOn.objects.create(
        organisation=organisation,
        enabled=True,
        required=True,
        provider_name="NHSmail",
        issuer="https://login.example.test/tenant/v2.0",
        client_id="client",
        client_secret="secret",
        email_domains=["example.org"],
    )
    url = reverse("invitation_accept", args=[invited])
    response = client.post(url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})

    assert response.status_code == 302
    assert response["Location"].endswith(f"?organisation={organisation.slug}")
    assert not client.login(username="sam", password=NEW_PASSWORD)  # no password was set
