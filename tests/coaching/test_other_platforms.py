"""Mastodon and Bluesky through the whole pipeline: connected by an admin, approved by a
coach, published by the service with the real client library against each double."""

import pytest
from django.urls import reverse

from coaching import services as coaching
from coaching.models import Publication
from sandbox.errors import InvalidState
from sandbox.models import WorkplaceAccount
from tests.builders import approved, sent
from tests.factories import (
    BLUESKY_APP_PASSWORD,
    BLUESKY_HANDLE,
    MASTODON_TOKEN,
    MASTODON_USER,
    PASSWORD,
)

pytestmark = pytest.mark.django_db
P = Publication.Status


def test_an_admin_connects_mastodon_and_a_thread_goes_out(
    client, admin, trainee, coach, organisation, mastodon_double
):
    client.login(username=admin.username, password=PASSWORD)
    response = client.post(
        reverse("account_connect_other", args=["mastodon"]),
        {"server": mastodon_double.base_url, "secret": MASTODON_TOKEN},
        follow=True,
    )
    assert f"Connected @{MASTODON_USER} on Mastodon" in response.content.decode()
    account = WorkplaceAccount.objects.get(platform="mastodon")
    assert account.access_token == MASTODON_TOKEN

    publication = sent(approved(trainee, coach, account, "Clinic news 1/2", ["Clinic news 2/2"]))
    assert publication.status == P.PUBLISHED
    statuses = {s.text: s for s in mastodon_double.statuses_for(MASTODON_USER)}
    assert statuses["Clinic news 2/2"].in_reply_to_id == statuses["Clinic news 1/2"].id
    assert publication.remote_url.startswith(mastodon_double.base_url)


def test_a_wrong_mastodon_token_is_refused_clearly(client, admin, mastodon_double):
    client.login(username=admin.username, password=PASSWORD)
    response = client.post(
        reverse("account_connect_other", args=["mastodon"]),
        {"server": mastodon_double.base_url, "secret": "W" * 43},
        follow=True,
    )
    assert "Mastodon did not accept that" in response.content.decode()
    assert not WorkplaceAccount.objects.filter(platform="mastodon").exists()


def test_a_mastodon_server_address_must_be_a_url(admin, organisation):
    with pytest.raises(Exception, match="full address"):
        coaching.mastodon_connect(
            by=admin, organisation_id=organisation.pk, server="not a url", access_token="x"
        )


def test_bluesky_connects_with_an_app_password_and_keeps_its_session(
    admin, trainee, coach, organisation, bluesky_double
):
    account = coaching.bluesky_connect(
        by=admin,
        organisation_id=organisation.pk,
        server=bluesky_double.base_url,
        handle=BLUESKY_HANDLE,
        app_password=BLUESKY_APP_PASSWORD,
    )
    assert account.platform_session  # saved, encrypted, so we do not log in every time
    sessions_before = bluesky_double.state()["calls"]["com.atproto.server.createSession"]
    assert sessions_before >= 1  # connecting logged in once
    publication = sent(approved(trainee, coach, account, "Bluesky clinic news"))
    assert publication.status == P.PUBLISHED
    [post] = bluesky_double.posts_for(BLUESKY_HANDLE)
    assert post.text == "Bluesky clinic news"
    assert publication.remote_id.startswith("at://")
    sessions_after = bluesky_double.state()["calls"].get("com.atproto.server.createSession", 0)
    assert sessions_after == sessions_before


def test_a_wrong_bluesky_app_password_is_refused(admin, organisation, bluesky_double):
    with pytest.raises(InvalidState, match="Bluesky did not accept that"):
        coaching.bluesky_connect(
            by=admin,
            organisation_id=organisation.pk,
            server=bluesky_double.base_url,
            handle=BLUESKY_HANDLE,
            app_password="zzzz-zzzz-zzzz-zzzz",
        )


@pytest.mark.parametrize("platform", ["mastodon", "bluesky"])
def test_only_admins_connect_other_platforms(client, coach, platform):
    client.login(username=coach.username, password=PASSWORD)
    response = client.post(reverse("account_connect_other", args=[platform]), {"server": "x"})
    assert response.status_code == 403
