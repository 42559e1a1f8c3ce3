"""`make run`'s embedded default is SQLite, which the rest of the suite (on PostgreSQL)
never touches: every main page must work there too, for each demo login."""

import json

from tests.deploy.test_production import manage

PAGES = {
    "trainee": ["/timeline/", "/portfolio/", "/notifications/", "/inbox/"],
    "coach": ["/queue/", "/queue/?scope=all&age=overdue", "/publishing/", "/scenarios/",
              "/cohorts/", "/availability/", "/inbox/", "/inbox/?state=any"],
    "admin": ["/queue/", "/connected-accounts/", "/audit-log/", "/trainees/unassigned/"],
}  # fmt: skip

VISIT = """
import json
from django.contrib.auth.models import User
from django.test import Client
statuses = {}
for username, paths in json.loads(PAGES).items():
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(User.objects.get(username=username))
    for path in paths:
        statuses[username + " " + path] = client.get(path).status_code
print(json.dumps(statuses))
"""


def test_the_main_pages_work_on_the_embedded_default(tmp_path):
    env = {
        "DATABASE_URL": f"sqlite:///{tmp_path / 'sandpit.sqlite3'}",
        "SANDPIT_MEDIA_ROOT": str(tmp_path / "media"),
    }
    for command in (("migrate", "--no-input"), ("seed_demo",)):
        result = manage(*command, **env)
        assert result.returncode == 0, result.stdout + result.stderr
    script = VISIT.replace("json.loads(PAGES)", repr(PAGES))
    result = manage("shell", "-c", script, **env)
    assert result.returncode == 0, result.stdout + result.stderr
    statuses = json.loads(result.stdout.strip().splitlines()[-1])
    assert statuses == {f"{user} {path}": 200 for user, paths in PAGES.items() for path in paths}


ERASE = """
import json
from django.contrib.auth.models import User
from coaching.models import AuditEvent
from coaching.selectors.erasure import confirmation_words
from coaching.services import erasure, people
from sandbox.models import Membership
admin = User.objects.get(username="admin")
trainee = User.objects.get(username="trainee")
membership = Membership.objects.filter(user=trainee).first()
people.person_deactivate(by=admin, membership=membership)
people.person_reactivate(by=admin, membership=membership)
name = confirmation_words(trainee)
reference = erasure.person_erase(
    by=admin, membership=membership, confirmation=name
)
print(json.dumps({
    "reference": reference,
    "naming_them": AuditEvent.objects.filter(detail__icontains=name).count(),
    "naming_the_reference": AuditEvent.objects.filter(detail__icontains=reference).count(),
}))
"""


def test_erasure_works_on_the_embedded_default(tmp_path):
    """SQLite has no trigger and no pseudonymise function: erasure's own rewrite of the
    audit log's details is used there."""
    env = {
        "DATABASE_URL": f"sqlite:///{tmp_path / 'sandpit.sqlite3'}",
        "SANDPIT_MEDIA_ROOT": str(tmp_path / "media"),
    }
    for command in (("migrate", "--no-input"), ("seed_demo",)):
        result = manage(*command, **env)
        assert result.returncode == 0, result.stdout + result.stderr
    result = manage("shell", "-c", ERASE, **env)
    assert result.returncode == 0, result.stdout + result.stderr
    outcome = json.loads(result.stdout.strip().splitlines()[-1])
    assert outcome["reference"].startswith("former-member-")
    assert outcome["naming_them"] == 0
    # The deactivation, reactivation and erasure itself.
    assert outcome["naming_the_reference"] >= 3
