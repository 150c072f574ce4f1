"""Settings from the environment.

Defaults give the embedded mode: SQLite, in-process tasks, keys kept in ``var/`` beside the
project. Production sets ``DEBUG=0`` and must provide ``SECRET_KEY``, ``DATABASE_URL`` and
the field-encryption keys; nothing secret has a production default.
"""

from __future__ import annotations

import ipaddress
import json
import os
import warnings
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("FUNDFLOW_VAR_DIR", BASE_DIR / "var"))


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG", True)
#: The embedded demo (`make run`): DEBUG on when the process starts. Only here may keys be
#: generated and `seed_demo` create its users with their public password; `make run-prod`
#: (``manage.py check_production``) refuses it. Read once, so tests running with DEBUG off
#: (pytest-django) keep the mode the process started in.
EMBEDDED_MODE = DEBUG

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
    SECRET_KEY = "embedded-mode-only-not-secret-" + "x" * 40

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "djmoney",
    "import_export",
    "audit",
    "fund",
    "workflows",
    "accounting",
    "cofinancing",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "axes",
    "csp",
    "django_htmx",
    "web",
    "rest_framework",
    "drf_spectacular",
    "api",
    "reminders",
    "privacy",
    "demo",
    "operations",
    # Last: owner-only files and folders of the embedded mode (core/file_modes.py).
    "config.apps.FundflowConfig",
]

MIDDLEWARE = [
    "config.request_id.RequestIdMiddleware",
    # Outside the rest, so a request's time and final status are what it cost and answered.
    "operations.middleware.RequestMetricsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Before WhiteNoise, so that static files carry the header too.
    "config.permissions_policy.PermissionsPolicyMiddleware",
    # /healthz and /readyz: inside the security headers, before sessions, CSRF and checkpoints
    # (not redirected to HTTPS: SECURE_REDIRECT_EXEMPT below).
    "operations.health.HealthProbeMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # A failing database (full or read-only disk, lost server): 503, logged once per incident;
    # outside the session middleware, whose save it watches (config/database_errors.py).
    "config.database_errors.DatabaseUnavailableMiddleware",
    # Keys not checked at start because the database did not answer: checked at the first
    # request that reaches it; 503 until then, and for good if they do not fit.
    "config.start_up_keys.StartUpKeyCheckMiddleware",
    # Django's, except that a database that cannot save the session is no "Bad Request".
    "config.database_errors.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    # Before anything reads the body (the CSRF check parses form bodies).
    "config.request_limits.RequestSizeLimitMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "audit.context.AuditActorMiddleware",
    "audit.middleware.CheckpointWhenDueMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Last, as django-axes requires: turns a lockout into its 429 response.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
        conn_max_age=int(os.environ.get("DATABASE_CONN_MAX_AGE", "0")),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Writers wait for each other instead of failing at once; the audit chain serialises
    # appends, so short waits are expected.
    DATABASES["default"].setdefault("OPTIONS", {})
    DATABASES["default"]["OPTIONS"].update({"timeout": 20, "transaction_mode": "IMMEDIATE"})
# The PostgreSQL role the application runs as, which `make migrate-prod` grants its rights
# (operations/database_grants.py): DATABASE_APP_ROLE, else the user of the application's
# DATABASE_URL (passed as APP_DATABASE_URL while DATABASE_URL is the owner's), else
# fundflow_app.
DATABASE_APP_ROLE = (
    os.environ.get("DATABASE_APP_ROLE")
    or dj_database_url.parse(
        os.environ.get("APP_DATABASE_URL") or os.environ.get("DATABASE_URL") or "sqlite://"
    ).get("USER")
    or "fundflow_app"
)

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Swedish first; English available.
LANGUAGE_CODE = "sv"
LANGUAGES = [("sv", _("Swedish")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
# English dates as ISO (2026-12-01 14:20), like Django's Swedish ones (config/formats/en).
FORMAT_MODULE_PATH = ["config.formats"]
TIME_ZONE = "Europe/Stockholm"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", BASE_DIR / "staticfiles"))
# Production serves static files from gunicorn through WhiteNoise (hashed, compressed,
# collected by `collectstatic`); embedded mode keeps Django's finders.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

# A shared cache (rate limits across gunicorn workers) when CACHE_URL names a Redis server.
CACHE_URL = os.environ.get("CACHE_URL", "")
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": CACHE_URL}
    if CACHE_URL
    else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
}

# Request size limits. Form and JSON bodies: Django's DATA_UPLOAD_MAX_MEMORY_SIZE (the API
# answers 413 above it); uploaded files (time sheets, bank files): UPLOAD_MAX_BYTES, checked
# from Content-Length before the body is read and again on the file. Keep the proxy's limit
# (nginx client_max_body_size) a little above UPLOAD_MAX_BYTES.
DATA_UPLOAD_MAX_MEMORY_SIZE = int(os.environ.get("DATA_UPLOAD_MAX_MEMORY_SIZE", 1024 * 1024))
DATA_UPLOAD_MAX_NUMBER_FIELDS = 1000
DATA_UPLOAD_MAX_NUMBER_FILES = 5
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
UPLOAD_MAX_BYTES = int(os.environ.get("UPLOAD_MAX_BYTES", 5 * 1024 * 1024))

LOGIN_URL = "web:login"
LOGIN_REDIRECT_URL = "web:home"

# Static files are served by WhiteNoise (from the app directories too, so no collectstatic is
# needed in the embedded mode and in tests).
WHITENOISE_USE_FINDERS = True
warnings.filterwarnings("ignore", message="No directory at: ", category=UserWarning)

# Login throttling (django-axes): after 5 failed attempts (password or one-time code) for a
# user name from an address, that pair is locked out for an hour. The web login asks axes
# before authenticating, and axes' backend refuses any other authenticate() for a locked-out
# pair (it needs the request: tests sign in with force_login, see tests/signin.py).
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = int(os.environ.get("AXES_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = float(os.environ.get("AXES_COOLOFF_HOURS", "1"))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "web/locked_out.html"
AXES_VERBOSE = False
# The client's address behind the reverse proxy (README "Deployment", core.client_address):
# with TRUSTED_PROXY_COUNT = N proxies in front, the N-th X-Forwarded-For entry from the
# right, and only on connections from TRUSTED_PROXY_ADDRESSES (gunicorn's FORWARDED_ALLOW_IPS:
# addresses or networks, "*" for any). 0 (the default, no proxy): the header is ignored. The
# lockout (per user name and address), the API's rate limits and their logs all use it.
TRUSTED_PROXY_COUNT = int(os.environ.get("TRUSTED_PROXY_COUNT", "0"))


def _proxy_addresses(entries: list[str]) -> list[str]:
    """Refuse a mistyped proxy: ignoring it would make every client the proxy's address."""
    for entry in entries:
        try:
            if entry != "*":
                ipaddress.ip_network(entry, strict=False)
        except ValueError as error:
            raise ImproperlyConfigured(
                f"FORWARDED_ALLOW_IPS: {entry!r} is neither an address nor a network."
            ) from error
    return entries


TRUSTED_PROXY_ADDRESSES = _proxy_addresses(env_list("FORWARDED_ALLOW_IPS", "127.0.0.1"))
if TRUSTED_PROXY_COUNT < 0:
    raise ImproperlyConfigured("TRUSTED_PROXY_COUNT must be 0 (no proxy) or more.")
AXES_CLIENT_IP_CALLABLE = "core.client_address.client_address"

# Content-Security-Policy (django-csp 4): own origin only, no inline scripts or styles.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
        "base-uri": ["'none'"],
        "object-src": ["'none'"],
    }
}

# django-otp: the issuer shown in authenticator apps.
OTP_TOTP_ISSUER = "Fundflow"

# Money: SEK by default, öre precision.
CURRENCIES = ("SEK",)
DEFAULT_CURRENCY = "SEK"
CURRENCY_CHOICES = [("SEK", "SEK")]

# Field encryption for personal data. Comma-separated Fernet keys, newest first (rotation).
# In embedded mode a key is generated once into var/keys/ (outside the database).
FIELD_ENCRYPTION_KEYS = env_list("FIELD_ENCRYPTION_KEYS")
FIELD_ENCRYPTION_KEY_FILE = Path(
    os.environ.get("FIELD_ENCRYPTION_KEY_FILE", VAR_DIR / "keys" / "field-encryption.key")
)
# Embedded mode may create missing key files on first use, and only while no data under them
# exists (core.crypto refuses to replace a lost key); production never does.
GENERATE_MISSING_KEYS = env_bool("GENERATE_MISSING_KEYS", EMBEDDED_MODE)
# Key for blind indexes (HMAC) so duplicates can be found without storing plain values. Its
# own key, never derived from SECRET_KEY: in embedded mode generated once into var/keys/.
BLIND_INDEX_KEY = os.environ.get("BLIND_INDEX_KEY", "")
BLIND_INDEX_KEY_FILE = Path(
    os.environ.get("BLIND_INDEX_KEY_FILE", VAR_DIR / "keys" / "blind-index.key")
)
if not DEBUG and (not FIELD_ENCRYPTION_KEYS or not BLIND_INDEX_KEY):
    raise ImproperlyConfigured(
        "FIELD_ENCRYPTION_KEYS and BLIND_INDEX_KEY must be set when DEBUG is off."
    )

# Audit checkpoints are signed with an Ed25519 key kept outside the database.
AUDIT_SIGNING_KEY_FILE = Path(
    os.environ.get("AUDIT_SIGNING_KEY_FILE", VAR_DIR / "keys" / "audit-signing.pem")
)
AUDIT_PUBLIC_KEY_FILE = Path(
    os.environ.get("AUDIT_PUBLIC_KEY_FILE", VAR_DIR / "keys" / "audit-signing.pub.pem")
)
#: Who holds the signing key: ``file`` (AUDIT_SIGNING_KEY_FILE) or ``socket:<path>`` (a
#: separate signer process under its own user, ``python -m audit.signer``; README).
AUDIT_SIGNER = os.environ.get("AUDIT_SIGNER", "file")
#: The log's name: the first line of every checkpoint and the name of its key. Set it once,
#: for good, to something that names the foundation (a schema-less URL).
AUDIT_LOG_ORIGIN = os.environ.get("AUDIT_LOG_ORIGIN", "fundflow.local/audit")
#: Checkpoints are made by the request (or task) that crosses either threshold, in every
#: mode: after this many events since the last one, or when it is this old.
AUDIT_CHECKPOINT_EVERY_EVENTS = int(os.environ.get("AUDIT_CHECKPOINT_EVERY_EVENTS", "100"))
AUDIT_CHECKPOINT_EVERY_MINUTES = int(os.environ.get("AUDIT_CHECKPOINT_EVERY_MINUTES", "60"))
AUDIT_AUTO_CHECKPOINT = env_bool("AUDIT_AUTO_CHECKPOINT", True)
#: Who gets each new checkpoint by mail (comma-separated), so it leaves the server at once.
AUDIT_CHECKPOINT_RECIPIENTS = [
    a.strip() for a in os.environ.get("AUDIT_CHECKPOINT_RECIPIENTS", "").split(",") if a.strip()
]
#: An RFC 3161 timestamp authority for every checkpoint (empty: none). Its CA certificates
#: (PEM) are what verification trusts.
AUDIT_TSA_URL = os.environ.get("AUDIT_TSA_URL", "")
AUDIT_TSA_CA_FILE = os.environ.get("AUDIT_TSA_CA_FILE", "")
AUDIT_TSA_TIMEOUT_SECONDS = float(os.environ.get("AUDIT_TSA_TIMEOUT_SECONDS", "10"))
#: How far event times may go backwards (a clock stepped back by NTP) before verification
#: reports it; the same tolerance applies to a checkpoint's time against its events.
AUDIT_CLOCK_TOLERANCE_SECONDS = int(os.environ.get("AUDIT_CLOCK_TOLERANCE_SECONDS", "120"))
#: /readyz fails when the last audit verification is older than this (nightly run + slack).
AUDIT_VERIFIED_WITHIN_HOURS = float(os.environ.get("AUDIT_VERIFIED_WITHIN_HOURS", "26"))

# Celery: in-process unless a broker is configured.
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "")
CELERY_RESULT_BACKEND = os.environ.get("CELERY_RESULT_BACKEND", CELERY_BROKER_URL or None)
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = TIME_ZONE
# An unacknowledged task (its worker died) is delivered again after this many seconds.
# Keep it above the longest task's run time.
# Workers look for such tasks every interval x throttle seconds (kombu's defaults: 10 x 10).
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": int(os.environ.get("CELERY_VISIBILITY_TIMEOUT", "3600")),
    "unacked_restore_interval": int(os.environ.get("CELERY_UNACKED_RESTORE_INTERVAL", "10")),
    "unacked_restore_throttle": int(os.environ.get("CELERY_UNACKED_RESTORE_THROTTLE", "10")),
}
CELERY_RESULT_EXPIRES = 7 * 24 * 3600
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_BEAT_SCHEDULE = {
    "audit-checkpoint-daily": {
        "task": "audit.create_checkpoint",
        "schedule": crontab(hour=0, minute=30),
    },
    "audit-verify-nightly": {"task": "audit.verify_chain", "schedule": crontab(hour=2, minute=0)},
    "reminders-daily": {"task": "reminders.send_reminders", "schedule": crontab(hour=6, minute=0)},
}
#: Where payout files (pain.001) generated by the worker are written.
PAYOUT_FILES_DIR = Path(os.environ.get("PAYOUT_FILES_DIR", VAR_DIR / "payouts"))
EXPORT_FILES_DIR = Path(os.environ.get("EXPORT_FILES_DIR", VAR_DIR / "exports"))

EMAIL_BACKEND = os.environ.get(
    "EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend"
    if DEBUG
    else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_FILE_PATH = os.environ.get("EMAIL_FILE_PATH", str(VAR_DIR / "mail"))
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "fundflow@localhost")
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)


def _addresses(value: str) -> list[tuple[str, str]]:
    """``"Anna Admin <anna@example.org>, ops@example.org"`` as Django's (name, address) pairs."""
    from email.utils import getaddresses

    return [(name or address, address) for name, address in getaddresses([value]) if address]


#: Who gets error and alert mail (a broken audit chain among them): ADMINS from the
#: environment, so an installation never runs with nobody to tell.
ADMINS = _addresses(os.environ.get("ADMINS", ""))
#: Further addresses told of a broken audit chain (e.g. the auditors), comma-separated.
AUDIT_ALERT_RECIPIENTS = [
    address for _, address in _addresses(os.environ.get("AUDIT_ALERT_RECIPIENTS", ""))
]
#: The address reminders link to (no personal data in mails: references only).
SITE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:8000")

# REST API (/api/v1/): hashed tokens for integrations, sessions for the browser; rate limits
# per user and per anonymous client (shared across workers when CACHE_URL is set).
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "api.authentication.HashedTokenAuthentication",
        "api.authentication.VerifiedSessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_THROTTLE_CLASSES": ["api.throttling.AnonThrottle", "api.throttling.UserThrottle"],
    "DEFAULT_PAGINATION_CLASS": "api.pagination.Pagination",
    "DEFAULT_SCHEMA_CLASS": "api.schema.AutoSchema",
    "EXCEPTION_HANDLER": "api.errors.exception_handler",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["api.parsers.JSONParser"],
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    # The throttles take the client from core.client_address; DRF's own reading agrees.
    "NUM_PROXIES": TRUSTED_PROXY_COUNT,
}
API_THROTTLE_RATES = {
    "anon": os.environ.get("API_THROTTLE_ANON", "60/min"),
    "user": os.environ.get("API_THROTTLE_USER", "600/min"),
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Fundflow API",
    "DESCRIPTION": "Applications, transitions, decisions, payouts and decision trails. "
    "Beneficiaries appear by reference only.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "ENUM_NAME_OVERRIDES": {
        "ObligationEnum": "workflows.models.Obligation",
        "DecisionOutcomeEnum": "workflows.models.DecisionOutcome",
        "ItemOutcomeEnum": "fund.models.NeedItem.Outcome",
        "ExportKindEnum": "accounting.models.ExportKind",
        "ExportStatusEnum": "accounting.models.ExportStatus",
    },
}

# The organisation behind the books (SIE #ORGNR/#FNAMN, pain.001 debtor).
FOUNDATION_NAME = os.environ.get("FOUNDATION_NAME", "Stiftelsen Fundflow Demo")
FOUNDATION_ORGNR = os.environ.get("FOUNDATION_ORGNR", "802400-0000")

# The chart: which account books each kind of event (``accounting.chart``; BAS 2026 defaults,
# documented in docs/accounting.md). A foundation keeping its own chart maps roles here, e.g.
# LEDGER_ACCOUNTS_JSON='{"grants_paid": "6993"}'. LEDGER_CHART_TYPE is SIE's #KPTYP.
LEDGER_ACCOUNTS: dict[str, str] = json.loads(os.environ.get("LEDGER_ACCOUNTS_JSON", "{}"))
LEDGER_CHART_TYPE = os.environ.get("LEDGER_CHART_TYPE", "BAS2026")

SESSION_COOKIE_HTTPONLY = True
# Sessions end after 30 idle minutes (each request renews the cookie) and at browser close.
SESSION_COOKIE_AGE = int(os.environ.get("SESSION_COOKIE_AGE", str(30 * 60)))
SESSION_SAVE_EVERY_REQUEST = True
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
X_FRAME_OPTIONS = "DENY"
#: Permissions-Policy on every answer (config/permissions_policy.py): the pages use no camera,
#: microphone, location, payment, device or sensor feature, so each is denied to the page and
#: to anything it could embed. An empty list is ``feature=()``.
PERMISSIONS_POLICY: dict[str, list[str]] = {
    feature: []
    for feature in (
        "accelerometer",
        "ambient-light-sensor",
        "autoplay",
        "bluetooth",
        "browsing-topics",
        "camera",
        "display-capture",
        "encrypted-media",
        "fullscreen",
        "geolocation",
        "gyroscope",
        "hid",
        "idle-detection",
        "interest-cohort",
        "magnetometer",
        "microphone",
        "midi",
        "payment",
        "picture-in-picture",
        "publickey-credentials-get",
        "screen-wake-lock",
        "serial",
        "sync-xhr",
        "usb",
        "xr-spatial-tracking",
    )
}
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if not DEBUG:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "31536000"))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Logs never carry personal data: only references (A-…, B-…) and ids are logged.
# Production writes one JSON object a line (LOG_FORMAT=json), each with the request id.
LOG_FORMAT = os.environ.get("LOG_FORMAT", "plain" if DEBUG else "json")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "config.request_id.RequestIdFilter"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(request_id)s %(message)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        },
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT,
            "filters": ["request_id"],
        }
    },
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
}

# Omprövning (reconsideration) of a rejection can be asked for within this many days of the
# case's last state change: förvaltningslagen's three weeks, which the foundation applies by
# analogy. A person with no voucher on any case is held only until it has run (fund.privacy).
RECONSIDERATION_WINDOW_DAYS = int(os.environ.get("RECONSIDERATION_WINDOW_DAYS", "21"))

# Prometheus metrics at /metrics (operations.metrics; README, Monitoring): only for a scraper
# with METRICS_TOKEN (``Authorization: Bearer …``) or connecting directly (not through the
# proxy) from METRICS_ALLOWED_IPS (addresses or networks). Under gunicorn and Celery set
# PROMETHEUS_MULTIPROC_DIR (read by prometheus-client itself) to one directory for all.
METRICS_TOKEN = os.environ.get("METRICS_TOKEN", "")
METRICS_ALLOWED_IPS = env_list("METRICS_ALLOWED_IPS", "127.0.0.1,::1")
# A scraper on the host speaks plain HTTP to gunicorn: no redirect to HTTPS for /metrics.
SECURE_REDIRECT_EXEMPT = [*globals().get("SECURE_REDIRECT_EXEMPT", []), r"^metrics$"]
# Load balancers and orchestrators probe gunicorn directly over plain HTTP.
SECURE_REDIRECT_EXEMPT += [r"^healthz/?$", r"^readyz/?$"]
