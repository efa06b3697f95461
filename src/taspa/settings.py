"""Taspa's one settings module, configured by environment variables (CONTRACT.md)."""

from __future__ import annotations

import secrets
from datetime import timedelta
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF
from django.utils.translation import gettext_lazy as _

from taspa.env import (
    SettingError,
    env_bool,
    env_choice,
    env_float,
    env_hhmm,
    env_int,
    env_list,
    env_str,
    env_url,
    https_origins,
    require_settings,
)

PACKAGE_DIR = Path(__file__).resolve().parent

TASPA_HOME = Path(env_str("TASPA_HOME", "var") or "var").resolve()
TASPA_HOME.mkdir(parents=True, exist_ok=True)


def _home_secret(name: str, file_name: str) -> str:
    """A secret from the environment, or one made once in a 0600 file under TASPA_HOME."""
    configured = env_str(name)
    if configured:
        return configured
    path = TASPA_HOME / file_name
    if not path.exists():
        path.write_text(secrets.token_hex(32), encoding="utf-8")
        path.chmod(0o600)
    return path.read_text(encoding="utf-8").strip()


# Keys the audit chain's HMAC; kept outside the database so table edits cannot be re-chained.
TASPA_AUDIT_KEY = _home_secret("TASPA_AUDIT_KEY", "audit_key")
DEBUG = env_bool("TASPA_DEBUG", False)
# Production is a server behind a TLS-terminating proxy (CONTRACT.md): TASPA_HTTPS=true. Then
# nothing may fall back to a default: the secret key and the host names must be given.
TASPA_HTTPS = env_bool("TASPA_HTTPS", False)
if TASPA_HTTPS:
    require_settings(
        "TASPA_HTTPS=true",
        ("TASPA_SECRET_KEY", "TASPA_ALLOWED_HOSTS"),
    )
    if DEBUG:
        raise SettingError("TASPA_DEBUG=true cannot be used with TASPA_HTTPS=true (production)")
SECRET_KEY = _home_secret("TASPA_SECRET_KEY", "secret_key")
ALLOWED_HOSTS = env_list("TASPA_ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")
CSRF_TRUSTED_ORIGINS = env_list("TASPA_CSRF_TRUSTED_ORIGINS", "")
if TASPA_HTTPS:
    # Forms are posted from the host names the server answers to, through the proxy.
    CSRF_TRUSTED_ORIGINS += https_origins(ALLOWED_HOSTS)
    SECURE_SSL_REDIRECT = True
    # The proxy (nginx) sets X-Forwarded-Proto; the server must listen only where the proxy
    # reaches it (127.0.0.1 or a private network), or a client could claim HTTPS.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    # Probes and Prometheus talk to each process directly over plain HTTP.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]
    SECURE_HSTS_SECONDS = env_int("TASPA_HSTS_SECONDS", 31_536_000, minimum=3600)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True

TASPA_ROLE = env_choice("TASPA_ROLE", ("court", "central"), "court")
TASPA_COURT = env_str("TASPA_COURT")
TASPA_CENTRAL_URL = env_str("TASPA_CENTRAL_URL")
TASPA_CENTRAL_TOKEN = env_str("TASPA_CENTRAL_TOKEN")
TASPA_REPLICATION_TIME = env_hhmm("TASPA_REPLICATION_TIME", "02:00")
# PEM file of the CAs EDS certificates must chain to (the national CA's roots in production);
# by default the file trust-anchors.pem in TASPA_HOME when it exists.
TASPA_TRUST_ANCHORS = env_str("TASPA_TRUST_ANCHORS") or (
    str(TASPA_HOME / "trust-anchors.pem") if (TASPA_HOME / "trust-anchors.pem").exists() else None
)
TASPA_STORAGE = env_str("TASPA_STORAGE", f"file://{TASPA_HOME / 'blobs'}")
TASPA_SPOOL = Path(env_str("TASPA_SPOOL", str(TASPA_HOME / "spool")) or "").resolve()
TASPA_RETENTION_YEARS = env_int("TASPA_RETENTION_YEARS", 1, minimum=1)  # R24: never below 1
# R8: recording starts only after a passing equipment check of the courtroom this recent (0: off).
TASPA_PREFLIGHT_MAX_AGE_MIN = env_int("TASPA_PREFLIGHT_MAX_AGE_MIN", 120, minimum=0)
# R24: an S3 bucket without object lock cannot enforce retention; accepted only when asked.
TASPA_S3_WITHOUT_OBJECT_LOCK = env_bool("TASPA_S3_WITHOUT_OBJECT_LOCK", False)
# Proofs of a seal (R14), read by jobs long after start: checked here so that a bad value stops
# start-up naming the variable instead of failing inside a job. The TSA and each OCSP/CRL
# request get this many seconds; a proof still missing after TASPA_PROOF_ALERT_AFTER_HOURS
# opens an incident.
TASPA_TSA_URL = env_url("TASPA_TSA_URL", ("http", "https"))
TASPA_TSA_TIMEOUT = env_float("TASPA_TSA_TIMEOUT", 3.0, above=0)
TASPA_REVOCATION_TIMEOUT = env_float("TASPA_REVOCATION_TIMEOUT", 3.0, above=0)
TASPA_PROOF_ALERT_AFTER_HOURS = env_float("TASPA_PROOF_ALERT_AFTER_HOURS", 24.0, above=0)
TASPA_FIXITY_BYTES_PER_RUN = env_int("TASPA_FIXITY_BYTES_PER_RUN", 4 << 30, minimum=1)
# The electronic archive (R27); unset: file://$TASPA_HOME/archive (taspa.retention.archive).
TASPA_ARCHIVE_STORAGE = env_url("TASPA_ARCHIVE_STORAGE", ("file", "s3"))
TASPA_COVERAGE_TOLERANCE_S = env_float("TASPA_COVERAGE_TOLERANCE_S", 60.0, minimum=0)
TASPA_COPY_LINK_DAYS = env_int("TASPA_COPY_LINK_DAYS", 30, minimum=1)
# Media (R21-R26, R33): where they may be mounted, where their block devices may be named, and
# the file system they are formatted with.
TASPA_MEDIUM_ROOTS = env_list("TASPA_MEDIUM_ROOTS", "/media,/run/media,/mnt")
TASPA_MEDIUM_DEVICE_ROOTS = env_list("TASPA_MEDIUM_DEVICE_ROOTS", "/dev")
TASPA_MEDIUM_FILESYSTEM = env_choice("TASPA_MEDIUM_FILESYSTEM", ("exfat", "vfat", "ext4"), "exfat")
if not (TASPA_STORAGE.startswith("file://") or TASPA_STORAGE.startswith("s3://")):
    raise SettingError(f"TASPA_STORAGE={TASPA_STORAGE!r}: expected file://PATH or s3://BUCKET")

INSTALLED_APPS = [
    # First, so its ``createsuperuser`` (a system administrator) replaces Django's.
    "taspa.ops",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rules",
    "axes",
    "taspa.courts",
    "taspa.audit",
    "taspa.storage",
    "taspa.recorder",
    "taspa.sealing",
    "taspa.incidents",
    "taspa.jobs",
    "taspa.documents",
    "taspa.custody",
    "taspa.replication",
    "taspa.retention",
    "taspa.access",
    "taspa.evidence",
    "django_tasks",
    "django_tasks_db",
    "taspa.api",
    "taspa.web",
]

MIDDLEWARE = [
    # Outermost: one log line and one latency observation per request, whatever answers it.
    "taspa.ops.middleware.RequestLog",
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "taspa.web.middleware.UserLanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: turns a locked-out sign-in into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "taspa.urls"
WSGI_APPLICATION = "taspa.wsgi.application"
ASGI_APPLICATION = "taspa.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]

DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{TASPA_HOME / 'taspa.sqlite3'}") or "",
        conn_max_age=env_int("TASPA_DB_CONN_MAX_AGE", 0, minimum=0),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets readers work beside the one writer; IMMEDIATE takes the write lock at BEGIN so
    # two writers queue instead of failing on a lock upgrade.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 30,
    }

# The server runs at most this many requests' views at once: each is a thread with its own
# database connection (PostgreSQL's default max_connections is 100). A request waits for a free
# one at most TASPA_WEB_QUEUE_SECONDS, then gets 503 with Retry-After (taspa/concurrency.py).
TASPA_WEB_CONCURRENCY = env_int("TASPA_WEB_CONCURRENCY", 8, minimum=1)
TASPA_WEB_QUEUE_SECONDS = env_int("TASPA_WEB_QUEUE_SECONDS", 10, minimum=1)

# SIGTERM: how long the server finishes requests in flight (then closes the rest, e.g. event
# streams) and a worker lets its running job finish (then puts it back in the queue).
TASPA_SHUTDOWN_GRACE_SECONDS = env_int("TASPA_SHUTDOWN_GRACE_SECONDS", 30, minimum=0)

# Background jobs: django-tasks with its database backend (no broker; SKIP LOCKED on PostgreSQL).
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "courts.User"
AUTHENTICATION_BACKENDS = [
    # First: refuses a locked-out sign-in before any password is checked (R20).
    "taspa.courts.signin.SignInThrottle",
    "rules.permissions.ObjectPermissionBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# R20: sign-in throttling (web login and the admin site) with django-axes: after
# TASPA_LOGIN_FAILURE_LIMIT wrong passwords for one user name from one address, that pair is
# locked for TASPA_LOGIN_LOCKOUT_MINUTES, even with the right password. Other users and other
# addresses are unaffected. API bearer tokens never pass through ``authenticate``.
AXES_FAILURE_LIMIT = env_int("TASPA_LOGIN_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("TASPA_LOGIN_LOCKOUT_MINUTES", 15, minimum=1))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "taspa.courts.signin.locked_out"
AXES_VERBOSE = False
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "web:home"
LOGOUT_REDIRECT_URL = "login"
# Django's own password paths (createsuperuser at the console, changepassword, the admin site)
# check the rule the API and the web check (courts.actions.require_password).
AUTH_PASSWORD_VALIDATORS = [{"NAME": "taspa.courts.password_rule.TaspaPasswordRule"}]
PASSWORD_HASHERS = (
    ["django.contrib.auth.hashers.MD5PasswordHasher"]
    if env_bool("TASPA_FAST_PASSWORD_HASHER", False)
    else [
        "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    ]
)

# Kazakh is the state language and the default; Russian is official; English is third.
LANGUAGE_CODE = env_choice("TASPA_LANGUAGE", ("kk", "ru", "en"), "kk")
LANGUAGES = [("kk", _("Kazakh")), ("ru", _("Russian")), ("en", _("English"))]
LOCALE_PATHS = [PACKAGE_DIR / "locale"]
USE_I18N = True
USE_TZ = True
# Stored times are UTC; this zone is only for display and calendars (STYLE 9).
TIME_ZONE = env_str("TASPA_TIME_ZONE", "Asia/Almaty")

STATIC_URL = "static/"
STATIC_ROOT = TASPA_HOME / "static"
STATIC_ROOT.mkdir(exist_ok=True)
# Serve app static files straight from the package: no collectstatic step for the embedded default.
WHITENOISE_USE_FINDERS = True
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

# A strict Content-Security-Policy on every page (django-csp 4): the UI loads nothing from
# elsewhere and has no inline script, style or event-handler attribute. ``blob:`` media is the
# console's listening monitor (MediaSource).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [NONE],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF],
        "font-src": [SELF],
        "media-src": [SELF, "blob:"],
        "connect-src": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
        "base-uri": [NONE],
        "object-src": [NONE],
    }
}

SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
# The largest request body read into memory (JSON, forms, an agent's upload chunk of at most
# 2 MiB); a bigger one is refused with 413 before it is read.
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("TASPA_MAX_REQUEST_BYTES", 2_621_440, minimum=2 << 20)

EMAIL_HOST = env_str("TASPA_EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("TASPA_EMAIL_PORT", 25, minimum=1)
DEFAULT_FROM_EMAIL = env_str("TASPA_EMAIL_FROM", "taspa@localhost")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "loggers": {"taspa": {"handlers": ["console"], "level": env_str("TASPA_LOG_LEVEL", "INFO")}},
}
