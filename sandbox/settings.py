"""Django settings for Sandpit.

Everything a deployment changes is read from the environment through ``sandbox.env``.
``SANDPIT_ENV=production`` turns on the strict checks: no DEBUG, a real secret key,
a real encryption key, HTTPS-only cookies and HSTS.
"""

import datetime as dt
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from kombu import Queue

from sandbox import env

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

ENVIRONMENT = env.string("SANDPIT_ENV", "development")
if ENVIRONMENT not in {"development", "production"}:
    raise env.ImproperlyConfiguredEnv(
        f"SANDPIT_ENV={ENVIRONMENT!r} must be 'development' or 'production'."
    )
PRODUCTION = ENVIRONMENT == "production"

_DEV_SECRET_KEY = "dev-insecure-only-for-your-own-machine"  # noqa: S105
SECRET_KEY = env.string("DJANGO_SECRET_KEY", None if PRODUCTION else _DEV_SECRET_KEY)
DEBUG = env.boolean("DJANGO_DEBUG", not PRODUCTION)
if PRODUCTION and (DEBUG or SECRET_KEY == _DEV_SECRET_KEY or len(SECRET_KEY) < 50):
    raise env.ImproperlyConfiguredEnv(
        "Production refuses to start with DEBUG on or without a long, random DJANGO_SECRET_KEY."
    )

ALLOWED_HOSTS = env.csv("DJANGO_ALLOWED_HOSTS", "" if PRODUCTION else "127.0.0.1,localhost")
CSRF_TRUSTED_ORIGINS = env.csv("DJANGO_CSRF_TRUSTED_ORIGINS", "")
# The CSRF secret lives in the session, not a cookie of its own: pages carry their token
# (base.html's hx-headers, each form), so a kept page (sandbox.page_cache) is right for
# exactly the session it is kept for.
CSRF_USE_SESSIONS = True

INSTALLED_APPS = [
    "sandbox.apps.SandboxConfig",
    "coaching.apps.CoachingConfig",
    "sandbox.apps.SandpitAdminConfig",  # django.contrib.admin, for superusers only
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",  # allauth's pages ("3 minutes ago")
    # Sign-in, second factors, sessions and single sign-on: django-allauth (docs/architecture.md).
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "allauth.usersessions",
    "allauth.socialaccount",
    "allauth.socialaccount.providers.openid_connect",
    "django_htmx",
    "template_partials",
]

MIDDLEWARE = [
    # First: any write from here on is the request's (sandbox.page_cache).
    "sandbox.page_cache.WriterMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "sandbox.middleware.ContentSecurityPolicyMiddleware",
    "sandbox.middleware.PermissionsPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "allauth.usersessions.middleware.UserSessionsMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # After messages: both send a person on with a message saying why.
    "sandbox.signin.IdleTimeoutMiddleware",
    "sandbox.signin.SecondFactorRequiredMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "sandbox.middleware.VaryOnHtmxMiddleware",
    "sandbox.middleware.FriendlyMethodNotAllowedMiddleware",
    "sandbox.middleware.NotAllowedMiddleware",
    "sandbox.middleware.PrivatePagesMiddleware",
]

ROOT_URLCONF = "sandbox.urls"
WSGI_APPLICATION = "sandbox.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "sandbox.context_processors.roles",
                "coaching.context_processors.banners",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        env.string("DATABASE_URL", f"sqlite:///{VAR_DIR / 'sandpit.sqlite3'}"),
        conn_max_age=env.integer("DATABASE_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The embedded default runs web, worker and beat against one file: WAL lets readers
    # carry on during a write, and IMMEDIATE takes the write lock up front so two
    # writers queue politely instead of failing with "database is locked".
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

EMBEDDED_REDIS_PORT = env.integer("SANDPIT_EMBEDDED_REDIS_PORT", 6390)
REDIS_URL = env.string("REDIS_URL", f"redis://127.0.0.1:{EMBEDDED_REDIS_PORT}/0")

CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": "sandpit",
        # Every write moves a generation on in the cache (sandbox.page_cache): a Redis that
        # stops answering must fail fast (and be worked around), not hold up writes.
        "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
    }
}
# The polled pages (timeline, queue) are kept per session until anything their viewer's
# organisations hold changes, and at most this many seconds (sandbox.page_cache). 0: never.
PAGE_CACHE_SECONDS = env.integer("SANDPIT_PAGE_CACHE_SECONDS", 60)

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "account_login"

# Sign-in (django-allauth). People are invited by their organisation, never sign themselves
# up (sandbox.signin.AccountAdapter closes sign-up; coaching's single-sign-on adapter builds on
# it, see below). The demo's people have usernames, NHS staff have email addresses: either
# signs in.
ACCOUNT_LOGIN_METHODS = {"username", "email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "username*", "password1*", "password2*"]
ACCOUNT_EMAIL_VERIFICATION = "none"
ACCOUNT_UNIQUE_EMAIL = True
# No "remember me": the session cookie ends with the browser (ward computers are shared),
# and the idle timeout below ends it sooner.
ACCOUNT_SESSION_REMEMBER = False
ACCOUNT_LOGOUT_REDIRECT_URL = "account_login"
ACCOUNT_EMAIL_SUBJECT_PREFIX = "Sandpit: "
# A reset asked for an address with no account sends nothing (there is no sign-up to offer);
# the page says the same either way, so it tells no one which addresses have accounts.
ACCOUNT_EMAIL_UNKNOWN_ACCOUNTS = False
# Throttling wrong passwords. allauth counts each failed attempt against the address and
# against the account typed (sandbox.signin makes username and email one account) in a
# sliding window kept in the shared cache (Redis); a right password does not count, and a
# locked account or address refuses even the right password until the window has moved on.
SIGNIN_LOCK_MINUTES = env.integer("SANDPIT_SIGNIN_LOCK_MINUTES", 15)
SIGNIN_TRIES_PER_ACCOUNT = env.integer("SANDPIT_SIGNIN_TRIES_PER_ACCOUNT", 5)
SIGNIN_TRIES_PER_ADDRESS = env.integer("SANDPIT_SIGNIN_TRIES_PER_ADDRESS", 30)
ACCOUNT_RATE_LIMITS = {
    "login_failed": (
        f"{SIGNIN_TRIES_PER_ADDRESS}/{SIGNIN_LOCK_MINUTES}m/ip,"
        f"{SIGNIN_TRIES_PER_ACCOUNT}/{SIGNIN_LOCK_MINUTES}m/key"
    ),
    # Every sign-in, right or wrong, from one address: generous, because a whole trust can
    # sit behind one address at nine in the morning.
    "login": env.string("SANDPIT_SIGNIN_RATE_PER_ADDRESS", "120/m/ip"),
}

# Second factors (allauth.mfa): passkeys, authenticator-app codes and recovery codes.
# Coaches and admins must have one when their organisation requires it
# (Organisation.second_factor_required; sandbox.signin.SecondFactorRequiredMiddleware).
MFA_SUPPORTED_TYPES = ["totp", "webauthn", "recovery_codes"]
MFA_PASSKEY_LOGIN_ENABLED = True
MFA_TOTP_ISSUER = "Sandpit"
# Browsers allow WebAuthn over plain HTTP only on localhost; allauth also refuses it unless
# told. For development and tests only.
MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN = env.boolean("SANDPIT_WEBAUTHN_ALLOW_HTTP", not PRODUCTION)
if PRODUCTION and MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN:
    raise env.ImproperlyConfiguredEnv(
        "SANDPIT_WEBAUTHN_ALLOW_HTTP is for development only: production serves passkeys over "
        "HTTPS."
    )

# Idle timeout: a session unused this long ends (sandbox.signin.IdleTimeoutMiddleware), with
# a warning in the page beforehand (static/js/idle.js). Coaches and admins can publish to an
# organisation's real account, so theirs is short; trainees' is a working morning.
IDLE_TIMEOUT_MINUTES = env.integer("SANDPIT_IDLE_TIMEOUT_MINUTES", 30)
TRAINEE_IDLE_TIMEOUT_MINUTES = env.integer("SANDPIT_TRAINEE_IDLE_TIMEOUT_MINUTES", 120)
# Reading pages refreshes the idle mark at most this often: otherwise every page view saves
# the session, a write and a commit before the page is sent. A POST (an action, "Stay
# signed in") always refreshes it. So the timeout may run out up to this many seconds
# before its time since the last page read; the page's warning counts from then too.
IDLE_ACTIVITY_RESOLUTION_SECONDS = env.integer("SANDPIT_IDLE_ACTIVITY_RESOLUTION_SECONDS", 30)
IDLE_WARNING_MINUTES = env.integer("SANDPIT_IDLE_WARNING_MINUTES", 2)
if min(IDLE_TIMEOUT_MINUTES, TRAINEE_IDLE_TIMEOUT_MINUTES) <= IDLE_WARNING_MINUTES:
    raise env.ImproperlyConfiguredEnv(
        "SANDPIT_IDLE_WARNING_MINUTES must be shorter than both idle timeouts."
    )
# However busy, a session ends this long after sign-in.
SESSION_COOKIE_AGE = env.integer("SANDPIT_SESSION_MAX_HOURS", 12) * 3600

# Single sign-on (OpenID Connect, one identity provider per organisation; see
# coaching/single_sign_on.py). Each organisation's provider comes from its
# sandbox.SingleSignOn row, never from settings or allauth's SocialApp table, so the client
# secret is encrypted at rest and there is one place for it. Single sign-on never creates
# anyone: it only lets in people an admin has invited, matched by verified email.
SOCIALACCOUNT_ADAPTER = "coaching.single_sign_on.SocialAccountAdapter"
# sandbox.signin.AccountAdapter (sign-up closed, throttling per account) with the
# organisation's "single sign-on only" rule on top.
ACCOUNT_ADAPTER = "coaching.single_sign_on.AccountAdapter"
SOCIALACCOUNT_AUTO_SIGNUP = False
SOCIALACCOUNT_EMAIL_AUTHENTICATION = False
SOCIALACCOUNT_STORE_TOKENS = False
SOCIALACCOUNT_REQUESTS_TIMEOUT = 10

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "Europe/London"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
# Where collectstatic writes and WhiteNoise serves from (the production build's output).
STATIC_ROOT = Path(env.string("SANDPIT_STATIC_ROOT", str(VAR_DIR / "staticfiles")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}

# Uploaded post images. Private: there is no MEDIA_URL route; sandbox.views.post_image
# serves each one only to people who may see its draft. Keep it outside any web root.
MEDIA_ROOT = Path(env.string("SANDPIT_MEDIA_ROOT", str(VAR_DIR / "media")))
# Django's two handlers, after one that shortens absurd file names before Django's parser
# refuses the whole form with a bare 400 (see sandbox.http.ShortFileNames).
FILE_UPLOAD_HANDLERS = [
    "sandbox.http.ShortFileNames",
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]

# Security headers. The Content-Security-Policy and Permissions-Policy are set by
# sandbox.middleware.
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
# X-Forwarded-Proto says a request came in over HTTPS only if a proxy in front of Sandpit
# sets it (and drops the client's own). Without such a proxy anyone can send the header,
# so trusting it would let a plain-HTTP request pass as secure.
BEHIND_PROXY = env.boolean("SANDPIT_BEHIND_PROXY", False)
if BEHIND_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Sign-in throttling counts per client address. Behind a proxy every request comes from the
# proxy: take the client's address from X-Forwarded-For instead (the proxy appends it), or
# one person's wrong passwords would lock out everyone.
ALLAUTH_TRUSTED_PROXY_COUNT = env.integer("SANDPIT_TRUSTED_PROXY_COUNT", 1 if BEHIND_PROXY else 0)
if PRODUCTION:
    SECURE_SSL_REDIRECT = env.boolean("DJANGO_SECURE_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = env.integer("DJANGO_SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True

# Tokens for connected accounts are encrypted with this key (see sandbox.crypto).
# Production must supply its own; development derives one from the dev secret key.
ENCRYPTION_KEY = env.string("SANDPIT_ENCRYPTION_KEY", None if PRODUCTION else "")

# Celery: acks_late + reject_on_worker_lost mean a worker that dies mid-task hands
# the message back to Redis. The publish task is idempotent (claim by conditional
# update), so redelivery can never post twice.
CELERY_BROKER_URL = REDIS_URL
CELERY_RESULT_BACKEND = REDIS_URL
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Celery's Django fixup closes the database connection before and after every task unless
# this is set (it then closes every this-many tasks); sandbox/celery.py applies Django's
# CONN_MAX_AGE and health checks at each task instead, as for a request.
CELERY_DB_REUSE_MAX = 1_000_000
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_RESULT_EXPIRES = 3600
CELERY_BROKER_VISIBILITY_TIMEOUT = env.integer("CELERY_BROKER_VISIBILITY_TIMEOUT", 3600)
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": CELERY_BROKER_VISIBILITY_TIMEOUT}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
# Housekeeping has its own queue, so the sweep, reconcile checks and health heartbeats
# never wait behind a backlog of posts. A worker consumes both queues unless told not to.
CELERY_TASK_DEFAULT_QUEUE = "celery"
CELERY_TASK_QUEUES = (Queue("celery"), Queue("control"))
CELERY_TASK_ROUTES = {
    "coaching.tasks.sweep_publications": {"queue": "control"},
    "coaching.tasks.reconcile": {"queue": "control"},
    "coaching.tasks.resume_publishing": {"queue": "control"},
    "coaching.tasks.publication_settled": {"queue": "control"},
    "coaching.tasks.tell_settled": {"queue": "control"},
    "coaching.tasks.heartbeat": {"queue": "control"},
    "coaching.tasks.notify_past_target": {"queue": "control"},
    "coaching.tasks.inbox_alerts": {"queue": "control"},
    "coaching.tasks.send_digests": {"queue": "control"},
    "sandbox.tasks.discard_unattached_images": {"queue": "control"},
    "coaching.tasks.expire_subject_access_exports": {"queue": "control"},
    "sandbox.tasks.clear_expired_sessions": {"queue": "control"},
    "coaching.tasks.apply_retention": {"queue": "control"},
    "coaching.tasks.fetch_inboxes": {"queue": "control"},
}
CELERY_BEAT_SCHEDULE = {
    "publication-sweep": {
        "task": "coaching.tasks.sweep_publications",
        "schedule": env.integer("SANDPIT_SWEEP_SECONDS", 30),
    },
    "past-target-notices": {
        "task": "coaching.tasks.notify_past_target",
        "schedule": env.integer("SANDPIT_PAST_TARGET_SWEEP_SECONDS", 300),
    },
    # The inbox: a cover's handover note when their period starts, and items past the
    # organisation's response target (coaching.services.inbox), each told once.
    "inbox-alerts": {
        "task": "coaching.tasks.inbox_alerts",
        "schedule": env.integer("SANDPIT_INBOX_ALERT_SECONDS", 300),
    },
    # Hourly; each coach's digest goes on the first run at or after DIGEST_HOUR.
    # The real accounts' inboxes: a minute keeps a question from the public waiting at
    # most a minute for someone to see it, and spends a small share of the platforms'
    # read limits (X's mentions timeline: 15 of its 300 requests per 15 minutes, when
    # nothing arrives; more only while mentions pour in, a page per 100).
    "inbox-fetch": {
        "task": "coaching.tasks.fetch_inboxes",
        "schedule": env.integer("SANDPIT_INBOX_FETCH_SECONDS", 60),
    },
    "daily-digests": {"task": "coaching.tasks.send_digests", "schedule": crontab(minute=0)},
    "unattached-images": {
        "task": "sandbox.tasks.discard_unattached_images",
        "schedule": crontab(minute=30),
    },
    # Subject access exports are deleted when their link expires (a download after that is
    # refused and deletes it too): hourly is soon enough.
    "subject-access-expiry": {
        "task": "coaching.tasks.expire_subject_access_exports",
        "schedule": crontab(minute=45),
    },
    # Data protection (docs/data-protection.md): each organisation's retention, and the
    # expired sessions, every night while nobody is training.
    "retention": {"task": "coaching.tasks.apply_retention", "schedule": crontab(hour=2, minute=15)},
    "expired-sessions": {
        "task": "sandbox.tasks.clear_expired_sessions",
        "schedule": crontab(hour=2, minute=45),
    },
}

# Publishing. X_API_BASE_URL points the X publisher anywhere: the real API in
# production, the X API double (python -m doubles) everywhere else.
XDOUBLE_PORT = env.integer("SANDPIT_XDOUBLE_PORT", 8025)
X_API_BASE_URL = env.string(
    "X_API_BASE_URL", "https://api.x.com" if PRODUCTION else f"http://127.0.0.1:{XDOUBLE_PORT}"
)
# Where a published post's public link points: x.com for real, the double otherwise.
X_PUBLIC_BASE_URL = env.string(
    "X_PUBLIC_BASE_URL", "https://x.com" if PRODUCTION else X_API_BASE_URL
)
# The X app's OAuth 2.0 client (developer portal). The double accepts any client id.
X_CLIENT_ID = env.string("X_CLIENT_ID", "" if PRODUCTION else "sandpit-dev-client")
X_CLIENT_SECRET = env.string("X_CLIENT_SECRET", "")
X_AUTHORIZE_URL = env.string(
    "X_AUTHORIZE_URL",
    "https://x.com/i/oauth2/authorize" if PRODUCTION else f"{X_API_BASE_URL}/i/oauth2/authorize",
)
BLUESKY_PUBLIC_BASE_URL = env.string("BLUESKY_PUBLIC_BASE_URL", "https://bsky.app")
# Mastodon and Bluesky server addresses are typed by admins, so Sandpit connects only to
# public internet addresses (sandbox.outbound). This one explicit setting lets it reach
# this machine and private networks, for the local platform doubles; never in production.
ALLOW_LOCAL_PLATFORM_ADDRESSES = env.boolean("SANDPIT_ALLOW_LOCAL_PLATFORMS", False)
if PRODUCTION and ALLOW_LOCAL_PLATFORM_ADDRESSES:
    raise env.ImproperlyConfiguredEnv(
        "SANDPIT_ALLOW_LOCAL_PLATFORMS is for development only: production connects only to "
        "public addresses."
    )
XDOUBLE_DEMO_TOKEN = env.string("SANDPIT_XDOUBLE_DEMO_TOKEN", "sandpit-demo-x-token")
PUBLISH_CONNECT_TIMEOUT = 5.0
PUBLISH_READ_TIMEOUT = float(env.integer("SANDPIT_PUBLISH_READ_TIMEOUT", 15))
# Recovery timings. A post "sending" for longer than SANDPIT_STUCK_SENDING_SECONDS (which
# must exceed the publish timeouts) had its worker die; an unconfirmed post not found on
# the account after SANDPIT_RECONCILE_GRACE_SECONDS is marked failed.
STUCK_SENDING_SECONDS = env.integer("SANDPIT_STUCK_SENDING_SECONDS", 120)
RECONCILE_GRACE_SECONDS = env.integer("SANDPIT_RECONCILE_GRACE_SECONDS", 120)
RECONCILE_EVERY_SECONDS = env.integer("SANDPIT_RECONCILE_EVERY_SECONDS", 30)
# A coach's claim on a draft lapses this long after their last sign of life (the open
# review page renews it every minute); then another coach may take the review over.
CLAIM_STALE_AFTER = dt.timedelta(minutes=env.integer("SANDPIT_CLAIM_STALE_MINUTES", 15))
# /health/ waits this long for a worker to answer its heartbeat.
HEALTH_WORKER_TIMEOUT = env.integer("SANDPIT_HEALTH_WORKER_TIMEOUT", 5)
# A queued publication whose task message was lost is re-sent after this long.
PUBLICATION_REQUEUE_AFTER_SECONDS = env.integer("SANDPIT_REQUEUE_AFTER_SECONDS", 60)

# The page benchmark's baseline view (bench/pages.py): a signed-in page that does nothing.
# Off unless asked for; it is harmless (it shows who you are) but has no use in service.
BENCH_BARE_VIEW = env.boolean("SANDPIT_BENCH_BARE_VIEW", False)

EMAIL_BACKEND = env.string(
    "DJANGO_EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend"
    if PRODUCTION
    else "django.core.mail.backends.console.EmailBackend",
)
DEFAULT_FROM_EMAIL = env.string("DJANGO_DEFAULT_FROM_EMAIL", "sandpit@localhost")
EMAIL_HOST = env.string("DJANGO_EMAIL_HOST", "localhost")
EMAIL_PORT = env.integer("DJANGO_EMAIL_PORT", 587 if PRODUCTION else 25)
EMAIL_HOST_USER = env.string("DJANGO_EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env.string("DJANGO_EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env.boolean("DJANGO_EMAIL_USE_TLS", PRODUCTION)
EMAIL_TIMEOUT = 10
# The address people reach Sandpit at, for the links in emails (no trailing slash).
SITE_URL = env.string(
    "SANDPIT_SITE_URL",
    f"https://{ALLOWED_HOSTS[0]}" if PRODUCTION and ALLOWED_HOSTS else "http://127.0.0.1:8000",
).rstrip("/")
# The local hour (0-23) from which coaches' daily digests go out.
DIGEST_HOUR = env.integer("SANDPIT_DIGEST_HOUR", 7)
if not 0 <= DIGEST_HOUR <= 23:
    raise env.ImproperlyConfiguredEnv(f"SANDPIT_DIGEST_HOUR={DIGEST_HOUR} must be 0 to 23.")
# People managed by their organisation (coaching.services.people): how long an invitation
# link works, and the largest CSV an admin may import (bytes and rows).
INVITATION_DAYS = env.integer("SANDPIT_INVITATION_DAYS", 7)
PEOPLE_IMPORT_MAX_BYTES = env.integer("SANDPIT_PEOPLE_IMPORT_MAX_BYTES", 2_000_000)
PEOPLE_IMPORT_MAX_ROWS = env.integer("SANDPIT_PEOPLE_IMPORT_MAX_ROWS", 5000)
# How long a subject access export can be downloaded before it is deleted.
SUBJECT_ACCESS_EXPORT_DAYS = env.integer("SANDPIT_SUBJECT_ACCESS_EXPORT_DAYS", 7)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"quiet_refusals": {"()": "sandbox.logs.QuietRefusals"}},
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.string("SANDPIT_LOG_LEVEL", "INFO")},
    "loggers": {
        # Django's own console handler (in DEBUG) printed every record the root's prints
        # again: one handler, the root's, for everything.
        "django": {"handlers": [], "level": "INFO", "propagate": True},
        # A refusal (403) is expected: one line with its reason, no traceback.
        "django.request": {"filters": ["quiet_refusals"], "propagate": True},
    },
}
