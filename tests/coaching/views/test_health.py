"""/health/ gives everyone its verdict (200 or 503, "ok" or "failing"), but says which part
failed, and how many posts are stuck, only to signed-in staff: Django's is_staff, or a
coach or admin of any organisation. Through a real Celery worker on Redis."""

import pytest

from tests import factories
from tests.factories import client_for

STAFF = ["coach", "admin", "django_staff"]
OTHERS = ["anonymous", "trainee"]


@pytest.fixture
def django_staff(db):
    """Staff in Django's sense only: no membership of any organisation."""
    return factories.UserFactory(username="stan", is_staff=True)


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("who", OTHERS)
def test_others_learn_only_that_it_is_ok(celery_worker, client, request, who):
    response = client_for(request, client, who).get("/health/")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("who", STAFF)
def test_staff_see_every_check_when_it_is_ok(celery_worker, client, request, who):
    response = client_for(request, client, who).get("/health/")
    assert response.status_code == 200
    body = response.json()
    assert body.pop("worker_round_trip_ms") >= 0
    assert body == {"status": "ok", "database": "ok", "worker": "ok", "stuck_publishing": 0}


@pytest.mark.django_db
@pytest.mark.parametrize("who", OTHERS)
def test_others_learn_only_that_it_is_failing(client, request, settings, who):
    settings.HEALTH_WORKER_TIMEOUT = 1  # no worker runs in this test
    response = client_for(request, client, who).get("/health/")
    assert response.status_code == 503
    assert response.json() == {"status": "failing"}


@pytest.mark.django_db
@pytest.mark.parametrize("who", STAFF)
def test_staff_see_which_part_fails(client, request, settings, who):
    settings.HEALTH_WORKER_TIMEOUT = 1  # no worker runs in this test
    response = client_for(request, client, who).get("/health/")
    assert response.status_code == 503
    assert response.json() == {
        "status": "failing",
        "database": "ok",
        "worker": "no answer within 1 seconds",
        "stuck_publishing": 0,
    }


# A worker that answers, and none ----------------------------------------------------------


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_health_is_ok_only_when_a_worker_answers(celery_worker, client, admin):
    client.force_login(admin)  # only staff see the details
    response = client.get("/health/")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok" and body["worker"] == "ok" and body["database"] == "ok"


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_health_fails_clearly_with_no_worker(transactional_db, client, settings, admin):
    settings.HEALTH_WORKER_TIMEOUT = 1
    client.force_login(admin)  # only staff see the details
    response = client.get("/health/")
    assert response.status_code == 503
    assert response.json()["worker"] == "no answer within 1 seconds"
