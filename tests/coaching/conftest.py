"""The Mastodon and Bluesky doubles, each with the organisation's account on it, for the
tests that publish to every platform."""

from collections.abc import Iterator
from typing import Any

import pytest

from doubles.bluesky import BlueskyDouble
from doubles.mastodon import MastodonDouble
from doubles.x import XDouble
from sandbox.models import Organisation, WorkplaceAccount
from tests import factories
from tests.factories import BLUESKY_APP_PASSWORD, BLUESKY_HANDLE, MASTODON_TOKEN, MASTODON_USER


@pytest.fixture(scope="module")
def mastodon_double() -> Iterator[MastodonDouble]:
    double = MastodonDouble(hang_seconds=5).start()
    double.add_account(MASTODON_USER, token=MASTODON_TOKEN)
    yield double
    double.stop()


@pytest.fixture(scope="module")
def bluesky_double() -> Iterator[BlueskyDouble]:
    double = BlueskyDouble(hang_seconds=5).start()
    double.add_account(BLUESKY_HANDLE, app_password=BLUESKY_APP_PASSWORD)
    yield double
    double.stop()


@pytest.fixture
def platform_account(
    request: pytest.FixtureRequest,
    organisation: Organisation,
    account: WorkplaceAccount,
    x_double: XDouble,
    mastodon_double: MastodonDouble,
    bluesky_double: BlueskyDouble,
) -> tuple[str, WorkplaceAccount, Any]:
    """(platform, the organisation's account on it, its double with nothing posted yet),
    for a test parametrised indirectly with "x", "mastodon" or "bluesky"."""
    platform = request.param
    if platform == "x":
        return platform, account, x_double
    if platform == "mastodon":
        mastodon_double.reset()
        on_mastodon = factories.AccountFactory.create(
            organisation=organisation,
            platform="mastodon",
            handle=MASTODON_USER,
            api_base_url=mastodon_double.base_url,
            access_token=MASTODON_TOKEN,
        )
        return platform, on_mastodon, mastodon_double
    bluesky_double.reset()
    on_bluesky = factories.AccountFactory.create(
        organisation=organisation,
        platform="bluesky",
        handle=BLUESKY_HANDLE,
        api_base_url=bluesky_double.base_url,
        access_token="",
        app_password=BLUESKY_APP_PASSWORD,
    )
    return platform, on_bluesky, bluesky_double
