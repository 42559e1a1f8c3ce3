"""Production settings pass Django's deployment checks, refuse unsafe configuration, and
build and serve: docker-compose.yml's web start, run here for real."""

import contextlib
import http.client
import os
import re
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import psycopg
import yaml
from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parents[2]

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


def test_production_refuses_passkeys_over_plain_http():
    result = manage("check", **{**PRODUCTION_ENV, "SANDPIT_WEBAUTHN_ALLOW_HTTP": "true"})
    assert result.returncode != 0
    assert "SANDPIT_WEBAUTHN_ALLOW_HTTP is for development only" in result.stderr


def test_production_settings_for_sign_in():
    """Second factors over HTTPS only, the throttle in the shared Redis cache, and the
    client's own address counted behind a proxy."""
    script = (
        "from django.conf import settings as s; "
        "print(s.MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN, s.CACHES['default']['BACKEND'], "
        "s.ALLAUTH_TRUSTED_PROXY_COUNT, s.IDLE_TIMEOUT_MINUTES)"
    )
    env = {**PRODUCTION_ENV, "SANDPIT_BEHIND_PROXY": "true"}
    result = manage("shell", "-v", "0", "-c", script, **env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "False",
        "django.core.cache.backends.redis.RedisCache",
        "1",
        "30",
    ]


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
    # The demo's published logins work with a password alone, and the command says so.
    assert Organisation.objects.get(name="NHS Demo Board").second_factor_required is False
    assert "Second factors are OFF for the demo organisation" in out[1]


def test_the_embedded_default_has_no_system_check_warnings(tmp_path):
    """What `make run` uses (SQLite) must not greet a newcomer with warnings."""
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'check.sqlite3'}"}
    result = manage("check", "--fail-level", "WARNING", **env)
    assert result.returncode == 0, result.stdout + result.stderr


# Trusting X-Forwarded-Proto --------------------------------------------------------------

IS_SECURE = (
    "from django.test import RequestFactory; "
    "print(RequestFactory().get('/', HTTP_X_FORWARDED_PROTO='https').is_secure())"
)


def test_x_forwarded_proto_is_not_trusted_by_default():
    """Without a proxy that sets it, anyone can send the header: a plain-HTTP request must
    not pass as secure because it says so."""
    result = manage("shell", "-v", "0", "-c", IS_SECURE, **PRODUCTION_ENV)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"


def test_x_forwarded_proto_is_trusted_behind_a_proxy():
    result = manage(
        "shell", "-v", "0", "-c", IS_SECURE, **PRODUCTION_ENV, SANDPIT_BEHIND_PROXY="true"
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "True"


def test_check_deploy_is_clean_behind_a_proxy_too():
    result = manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        **PRODUCTION_ENV,
        SANDPIT_BEHIND_PROXY="true",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


# The production build --------------------------------------------------------------------


def compose_web_script() -> str:
    """The web service's start script, as Compose hands it to sh: "$$" is Compose's escape
    for a "$" that the shell, not Compose, should expand."""
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    command = compose["services"]["web"]["command"]
    assert command[:2] == ["sh", "-c"], command
    return command[2].replace("$$", "$")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# What the TLS-ending proxy adds to every request it passes on.
VIA_HTTPS_PROXY = {"X-Forwarded-Proto": "https"}


def get(
    port: int, path: str, headers: dict[str, str] | None = None
) -> tuple[int, http.client.HTTPMessage, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request("GET", path, headers=headers or {})
        response = connection.getresponse()
        return response.status, response.headers, response.read()
    finally:
        connection.close()


def test_the_compose_web_start_builds_and_serves_under_production_settings(tmp_path):
    """migrate, collectstatic and gunicorn, exactly as docker-compose.yml runs them, into a
    throwaway database and a temporary STATIC_ROOT; then the sign-in page and every static
    file it names, hashed by the manifest storage, are served."""
    database = f"sandpit_build_{uuid.uuid4().hex[:12]}"
    admin_url = "postgresql://postgres@127.0.0.1:5432/postgres"
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{database}"')
    port = free_port()
    script = compose_web_script().replace("0.0.0.0:8000", f"127.0.0.1:{port}")
    assert f"--bind 127.0.0.1:{port}" in script
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "SANDPIT_"))}
    env.update(
        PRODUCTION_ENV,
        # `python` and `gunicorn` in the script are this virtualenv's, as in the image.
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}",
        DATABASE_URL=f"postgres://postgres@127.0.0.1:5432/{database}",
        DJANGO_ALLOWED_HOSTS="127.0.0.1",
        SANDPIT_STATIC_ROOT=str(tmp_path / "static"),
        SANDPIT_MEDIA_ROOT=str(tmp_path / "media"),
        # As documented: behind a proxy that ends TLS and sets X-Forwarded-Proto.
        SANDPIT_BEHIND_PROXY="true",
    )
    log_path = tmp_path / "web.log"
    with open(log_path, "wb") as log:
        # Its own process group: the script execs gunicorn, whose workers go with it.
        web = subprocess.Popen(
            ["sh", "-c", script],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 240
        while True:
            if web.poll() is not None:
                raise AssertionError(
                    f"The web start exited ({web.returncode}):\n{log_path.read_text()}"
                )
            try:
                status, headers, body = get(port, "/accounts/login/", VIA_HTTPS_PROXY)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise AssertionError(
                        f"gunicorn never answered:\n{log_path.read_text()}"
                    ) from None
                time.sleep(0.5)
        assert status == 200, body[:2000]
        assert headers["Permissions-Policy"]
        assert headers["Strict-Transport-Security"].startswith("max-age=31536000")

        # A plain-HTTP request (no proxy header) is sent to https.
        status, headers, _ = get(port, "/accounts/login/")
        assert status == 301
        assert headers["Location"] == f"https://127.0.0.1:{port}/accounts/login/"

        static = re.findall(r'(?:href|src)="(/static/[^"]+)"', body.decode())
        assert any("nhsuk-frontend" in path for path in static), static
        for path in static:
            # The manifest storage's names: name.<12 hex digits>.ext
            assert re.search(r"\.[0-9a-f]{12}\.[a-z]+$", path), path
            status, headers, content = get(port, path, VIA_HTTPS_PROXY)
            assert status == 200, path
            assert headers["Permissions-Policy"], path
            if path.endswith(".css"):
                # The icons the NHS.UK stylesheet names were found and renamed too.
                for image in re.findall(r"url\((images/[^)]+)\)", content.decode()):
                    image_path = path.rsplit("/", 1)[0] + "/" + image
                    assert get(port, image_path, VIA_HTTPS_PROXY)[0] == 200, image_path

        # migrate ran: the throwaway database has every migration.
        result = manage(
            "migrate", "--check", **{**PRODUCTION_ENV, "DATABASE_URL": env["DATABASE_URL"]}
        )
        assert result.returncode == 0, result.stdout + result.stderr
    finally:
        stop_process_group(web)
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


def stop_process_group(process: subprocess.Popen[bytes]) -> None:
    """Stop gunicorn and its workers; the group may already be gone (a failed start)."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()
