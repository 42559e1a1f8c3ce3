"""Shared fixtures: named people (so permission tests read like sentences), drafts at a
step of their life, the X, Mastodon and Bluesky doubles, Bluesky's reference PDS, and a
real Celery worker on Redis.

The tests need the real PostgreSQL and Redis. If either is down the run stops at once
with the command that starts it, rather than skipping anything.
"""

from collections.abc import Iterator
from typing import Any

import pytest
from django.conf import settings

from doubles.bluesky import BlueskyDouble
from doubles.mastodon import MastodonDouble
from doubles.x import XDouble
from sandbox.models import Organisation, WorkplaceAccount
from tests import builders, factories
from tests.factories import BLUESKY_APP_PASSWORD, BLUESKY_HANDLE, MASTODON_TOKEN, MASTODON_USER
from tests.pds import ReferencePDS, running_pds

START_POSTGRES = "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start"
START_REDIS = (
    'redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" '
    "--appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log"
)


def pytest_sessionstart(session: pytest.Session) -> None:
    import psycopg
    import redis

    db = settings.DATABASES["default"]
    try:
        psycopg.connect(
            host=db["HOST"],
            port=db["PORT"] or 5432,
            user=db["USER"],
            dbname="postgres",
            connect_timeout=3,
        ).close()
    except psycopg.OperationalError as exc:
        pytest.exit(f"PostgreSQL is not reachable ({exc}). Start it with:\n  {START_POSTGRES}", 1)
    try:
        redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=3).ping()
    except redis.RedisError as exc:
        pytest.exit(f"Redis is not reachable ({exc}). Start it with:\n  {START_REDIS}", 1)


# People ---------------------------------------------------------------------------------


@pytest.fixture
def organisation(db):
    return factories.OrganisationFactory(name="Test Health Board")


@pytest.fixture
def other_organisation(db):
    return factories.OrganisationFactory(name="Elsewhere Council")


@pytest.fixture
def account(organisation):
    return factories.AccountFactory(organisation=organisation, handle="TestBoard")


@pytest.fixture
def other_account(other_organisation):
    return factories.AccountFactory(organisation=other_organisation, handle="ElsewhereCouncil")


@pytest.fixture
def trainee(organisation):
    return factories.member(organisation, "trainee", username="tara")


@pytest.fixture
def other_trainee(organisation):
    return factories.member(organisation, "trainee", username="otto")


@pytest.fixture
def coach(organisation):
    return factories.member(organisation, "coach", username="cora")


@pytest.fixture
def second_coach(organisation):
    return factories.member(organisation, "coach", username="colin")


@pytest.fixture
def outside_coach(other_organisation):
    return factories.member(other_organisation, "coach", username="olga")


@pytest.fixture
def admin(organisation):
    return factories.member(organisation, "admin", username="ada", is_staff=True)


@pytest.fixture
def ward(organisation, trainee, other_trainee):
    """A cohort of the organisation with both its trainees in it."""
    from sandbox.models import Cohort, Membership

    cohort = Cohort.objects.create(organisation=organisation, name="Ward 7")
    Membership.objects.filter(user__in=[trainee, other_trainee]).update(cohort=cohort)
    return cohort


@pytest.fixture
def drill(coach, account, ward):
    """A lockdown drill of the account for the ward, started by its coach."""
    from coaching.services.drills import DEFAULT_INCIDENT, drill_start

    return drill_start(by=coach, account=account, cohort=ward, incident=DEFAULT_INCIDENT)


@pytest.fixture
def outside_staff_admin(other_organisation):
    """An admin of another organisation who is Django staff with every model permission:
    the most the Django admin could ever let a non-superuser do."""
    from django.contrib.auth.models import Permission

    user = factories.member(other_organisation, "admin", username="oscar", is_staff=True)
    user.user_permissions.set(Permission.objects.all())
    return user


@pytest.fixture
def superuser(db):
    """An operator of the installation: the only person the Django admin lets in."""
    return factories.UserFactory(username="root", is_staff=True, is_superuser=True)


@pytest.fixture
def as_trainee(client, trainee):
    """The test client, signed in as the trainee."""
    return factories.signed_in(client, trainee)


@pytest.fixture
def as_coach(client, coach):
    """The test client, signed in as the trainee's coach."""
    return factories.signed_in(client, coach)


# Drafts at a step of their life (tests/builders.py) -------------------------------------


@pytest.fixture
def post_text() -> str:
    """What the ``draft`` and ``submitted`` fixtures say. A module whose tests quote the
    post overrides this fixture with its own text."""
    return builders.TEXT


@pytest.fixture
def draft(trainee, account, post_text):
    """The trainee's saved draft, not yet sent to a coach."""
    return builders.draft(trainee, account, post_text)


@pytest.fixture
def submitted(trainee, account, post_text):
    """The trainee's draft, sent to a coach and waiting in the queue."""
    return builders.submitted(trainee, account, post_text)


# Uploaded images ------------------------------------------------------------------------


@pytest.fixture
def private_media(settings, tmp_path):
    """Uploaded images go to this test's own temporary directory, never var/media."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


# The platform doubles --------------------------------------------------------------------


@pytest.fixture(scope="session")
def x_double_server() -> Iterator[XDouble]:
    double = XDouble(hang_seconds=6).start()
    yield double
    double.stop()


@pytest.fixture
def x_double(x_double_server: XDouble, settings, account) -> XDouble:
    """A clean double that knows the test account, with the publisher pointed at it."""
    x_double_server.reset()
    x_double_server.add_user(account.handle, name=account.display_name, token=factories.X_TOKEN)
    settings.X_API_BASE_URL = x_double_server.base_url
    settings.X_PUBLIC_BASE_URL = x_double_server.base_url
    return x_double_server


# The Mastodon and Bluesky doubles, each with the organisation's account on it, for the
# tests that publish to every platform.


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


# Bluesky's reference PDS (tests/pds/): one per session (per xdist worker), as it takes
# seconds to start; each test makes its own account on it.


@pytest.fixture(scope="session")
def reference_pds() -> Iterator[ReferencePDS]:
    with running_pds() as pds:
        yield pds


# A real Celery worker --------------------------------------------------------------------


@pytest.fixture
def celery_worker(transactional_db) -> Iterator[object]:
    """A real Celery worker consuming from the real Redis, in a thread of this process
    (so it shares the test database settings). Old messages are purged first."""
    from celery.contrib.testing.worker import start_worker

    from sandbox.celery import app

    app.control.purge()
    with start_worker(
        app,
        pool="solo",
        concurrency=1,
        perform_ping_check=False,
        loglevel="WARNING",
        shutdown_timeout=15,
    ) as worker:
        yield worker


@pytest.fixture
def clear_sign_in_throttle():
    """Forget allauth's counts of failed sign-ins (kept in the Redis cache, which outlives a
    test database): an earlier run's wrong passwords would otherwise still count."""
    from django.core.cache import cache

    client = cache._cache.get_client(None, write=True)  # type: ignore[attr-defined]
    for key in [
        *client.scan_iter(match="*allauth:rl:*"),
        *client.scan_iter(match="*allauth.mfa.totp.used*"),
    ]:
        client.delete(key)
    yield
    for key in [
        *client.scan_iter(match="*allauth:rl:*"),
        *client.scan_iter(match="*allauth.mfa.totp.used*"),
    ]:
        client.delete(key)
