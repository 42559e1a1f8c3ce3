"""`make run`'s embedded default is SQLite, which the rest of the suite (on PostgreSQL)
never touches: every main page must work there too, for each demo login."""

import json

from tests.deploy.test_production import manage

PAGES = {
    "trainee": ["/timeline/", "/portfolio/", "/notifications/"],
    "coach": ["/queue/", "/queue/?scope=all&age=overdue", "/publishing/", "/scenarios/",
              "/cohorts/", "/availability/"],
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
