"""Production settings pass Django's deployment checks, and refuse unsafe configuration."""

import os
import subprocess
import sys
from pathlib import Path

from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parent.parent

PRODUCTION_ENV = {
    "SANDPIT_ENV": "production",
    "DJANGO_SETTINGS_MODULE": "sandbox.settings",
    "DJANGO_SECRET_KEY": "x7!" + "k2Jq9vLr0pZs8TnW4mYb6HcX1eUa3Df5Gh7Ji9Ko0Lp2Mq4Nr6Os8Pt",
    "SANDPIT_ENCRYPTION_KEY": Fernet.generate_key().decode(),
    "DJANGO_ALLOWED_HOSTS": "sandpit.example.nhs.uk",
    "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/sandpit",
    "REDIS_URL": "redis://127.0.0.1:6379/15",
}


def manage(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "SANDPIT_"))}
    full_env.update(env)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_check_deploy_is_clean_under_production_settings():
    result = manage("check", "--deploy", "--fail-level", "WARNING", **PRODUCTION_ENV)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_production_refuses_debug():
    result = manage("check", **{**PRODUCTION_ENV, "DJANGO_DEBUG": "true"})
    assert result.returncode != 0
    assert "refuses to start with DEBUG on" in result.stderr


def test_production_refuses_a_missing_secret_key():
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != "DJANGO_SECRET_KEY"}
    result = manage("check", **env)
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY must be set" in result.stderr


def test_a_bad_boolean_fails_loudly():
    result = manage("check", **{**PRODUCTION_ENV, "DJANGO_DEBUG": "maybe"})
    assert result.returncode != 0
    assert "DJANGO_DEBUG='maybe' is not a boolean" in result.stderr


def test_seed_demo_is_idempotent_and_prints_the_logins(db, django_db_blocker):
    from django.core.management import call_command

    from sandbox.models import Cohort, Membership, Organisation, Scenario, WorkplaceAccount

    out = []
    for _ in range(2):
        from io import StringIO

        buffer = StringIO()
        call_command("seed_demo", stdout=buffer)
        out.append(buffer.getvalue())
    assert Organisation.objects.filter(name="NHS Demo Board").count() == 1
    assert WorkplaceAccount.objects.get(handle="NHSDemoBoard").access_token
    assert Membership.objects.count() == 3
    assert Scenario.objects.count() == 3  # the examples, once
    trainee = Membership.objects.get(user__username="trainee")
    assert trainee.coach.username == "coach"
    assert trainee.cohort == Cohort.objects.get()
    for login in ("admin", "coach", "trainee"):
        assert f"  {login}" in out[1]


def test_the_embedded_default_has_no_system_check_warnings(tmp_path):
    """What `make run` uses (SQLite) must not greet a newcomer with warnings."""
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'check.sqlite3'}"}
    result = manage("check", "--fail-level", "WARNING", **env)
    assert result.returncode == 0, result.stdout + result.stderr
