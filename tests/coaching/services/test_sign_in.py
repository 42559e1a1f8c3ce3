"""Who got in, in the audit log (coaching/services/sign_in.py), and an admin's reset of a
person's second factors."""

import logging

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.contrib.auth import authenticate
from django.test import RequestFactory

from coaching.models import AuditEvent
from coaching.services.sign_in import second_factors_reset
from sandbox.errors import NotAllowed
from sandbox.models import Membership

pytestmark = pytest.mark.django_db

Action = AuditEvent.Action


def wrong_password(login):
    request = RequestFactory().post("/accounts/login/", REMOTE_ADDR="10.1.2.3")
    assert authenticate(request, username=login, password="not it") is None


def test_a_wrong_password_is_logged_in_each_of_the_persons_organisations(coach, other_organisation):
    Membership.objects.create(user=coach, organisation=other_organisation, role="trainee")
    wrong_password("cora")
    events = AuditEvent.objects.filter(action=Action.SIGN_IN_FAILED, actor=coach)
    assert events.count() == 2
    assert {e.organisation_id for e in events} == set(
        coach.memberships.values_list("organisation_id", flat=True)
    )
    assert all(e.detail == "Wrong password, from 10.1.2.3." for e in events)


def test_a_wrong_password_for_no_account_goes_to_the_server_log_only(db, caplog):
    with caplog.at_level(logging.INFO, logger="coaching.services.sign_in"):
        wrong_password("nobody")
    assert not AuditEvent.objects.exists()
    assert "unknown login 'nobody' from 10.1.2.3" in caplog.text


def test_adding_and_removing_a_factor_is_audited(coach):
    from allauth.mfa.signals import authenticator_added, authenticator_removed

    totp = TOTP.activate(coach, generate_totp_secret()).instance
    request = RequestFactory().get("/")
    authenticator_added.send(sender=Authenticator, request=request, user=coach, authenticator=totp)
    authenticator_removed.send(
        sender=Authenticator, request=request, user=coach, authenticator=totp
    )
    assert list(
        AuditEvent.objects.filter(actor=coach).order_by("pk").values_list("action", "detail")
    ) == [
        (Action.SECOND_FACTOR_ADDED, "Set up an authenticator app."),
        (Action.SECOND_FACTOR_REMOVED, "Removed an authenticator app."),
    ]


def test_only_an_admin_of_the_persons_organisation_resets_their_factors(
    admin, coach, outside_staff_admin, organisation, other_organisation
):
    TOTP.activate(coach, generate_totp_secret())
    with pytest.raises(NotAllowed):
        second_factors_reset(by=coach, organisation_id=organisation.pk, member=coach)
    # An admin elsewhere cannot name this organisation, nor reach the coach through their own.
    with pytest.raises(NotAllowed):
        second_factors_reset(by=outside_staff_admin, organisation_id=organisation.pk, member=coach)
    with pytest.raises(NotAllowed):
        second_factors_reset(
            by=outside_staff_admin, organisation_id=other_organisation.pk, member=coach
        )
    assert Authenticator.objects.filter(user=coach).exists()
    assert not AuditEvent.objects.exists()

    assert second_factors_reset(by=admin, organisation_id=organisation.pk, member=coach) == 1
    assert not Authenticator.objects.filter(user=coach).exists()
    event = AuditEvent.objects.get(action=Action.SECOND_FACTORS_RESET)
    assert (event.actor, event.organisation) == (admin, organisation)


def test_an_admin_cannot_reset_someone_whose_factors_guard_another_organisation(
    admin, coach, organisation, other_organisation
):
    # The coach's second factor also protects their work for the other organisation, so
    # this organisation's admin may not remove it: the installation's operators do.
    Membership.objects.create(user=coach, organisation=other_organisation, role="admin")
    TOTP.activate(coach, generate_totp_secret())
    with pytest.raises(NotAllowed, match="another organisation"):
        second_factors_reset(by=admin, organisation_id=organisation.pk, member=coach)
    assert Authenticator.objects.filter(user=coach).exists()
