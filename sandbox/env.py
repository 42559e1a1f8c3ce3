"""Small, loud readers for settings that come from the environment.

Every setting the deployment can change goes through one of these, so a typo in a
value stops the process at start-up instead of surfacing as odd behaviour later.
Secrets are values, never file paths: nothing here reads a file named by the environment,
so no setting can be turned into a way to read the server's files. An orchestrator that
keeps secrets in files passes their contents in (``env_file``, ``valueFrom``).
"""

import os


class ImproperlyConfiguredEnv(Exception):
    pass


def string(name: str, default: str | None = None) -> str:
    value = os.environ.get(name)
    if value is None or value == "":
        if default is None:
            raise ImproperlyConfiguredEnv(f"The environment variable {name} must be set.")
        return default
    return value


def boolean(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    lowered = raw.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfiguredEnv(f"{name}={raw!r} is not a boolean (use true or false).")


def integer(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ImproperlyConfiguredEnv(f"{name}={raw!r} is not a whole number.") from exc


def csv(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in string(name, default).split(",") if item.strip()]
