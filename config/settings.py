"""Settings for the medication-education app, read from the environment.

Every variable is documented in README.md and .env.example.
"""

from __future__ import annotations

import os
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent

DEFAULT_SECRET_KEY = "insecure-local-development-key-do-not-use-in-production"  # noqa: S105 - refused outside DEBUG


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    lowered = value.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {value!r}")


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {value!r}") from None


def env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


# Off unless asked for: `make run` (and the Makefile's other local targets) and the tests turn it on.
DEBUG = env_bool("DEBUG", False)
SECRET_KEY = os.environ.get("SECRET_KEY", DEFAULT_SECRET_KEY)
if not DEBUG and SECRET_KEY == DEFAULT_SECRET_KEY:
    raise ImproperlyConfigured("Set SECRET_KEY: the default key is only for local development (DEBUG=true).")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "staff.apps.StaffAdminConfig",  # django.contrib.admin, served by the two-factor staff site
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    "template_partials",
    "csp",
    "core",
    "interactions",
    "education",
    "staff",
    "bench",  # manage.py bench only
    "simple_history",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "axes",
]

# Everything patients see that staff can change, catalog first: a change to any of them moves the content
# version (core), staff roles get rights on them and catalog changes wait for approval (staff), and
# `make backup` dumps them (staff.backup). The first five are the catalog.
PATIENT_CONTENT_MODELS = [
    "interactions.DrugClass",
    "interactions.Medication",
    "interactions.MedicationName",
    "interactions.Regimen",
    "interactions.Reference",
    "interactions.Interaction",
    "interactions.ListRule",
    "interactions.StandingMessage",
    "education.Article",
]
CATALOG_MODEL_COUNT = 5

MIDDLEWARE = [
    # The header middleware sit outside WhiteNoise and CommonMiddleware, so static files and the
    # bad-Host 400 (raised in CommonMiddleware) carry every security header too.
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "core.middleware.SecurityHeadersMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "core.middleware.StaffSessionLifetimeMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "core.middleware.DatabaseUnavailableMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    # Last, as django-axes documents: it turns a locked-out sign-in into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"

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
                "interactions.context_processors.site",
            ],
            "builtins": ["template_partials.templatetags.partials"],
        },
    }
]
# {% kept %} fragments (core/templatetags/kept.py) are also rendered afresh and compared when true:
# the tests turn it on, so a fragment that depends on something its tag does not name fails them.
KEPT_FRAGMENTS_VERIFY = env_bool("KEPT_FRAGMENTS_VERIFY", False)

WSGI_APPLICATION = "config.wsgi.application"

if os.environ.get("DATABASE_URL"):
    import dj_database_url

    DATABASES = {"default": dj_database_url.parse(os.environ["DATABASE_URL"], conn_max_age=60, conn_health_checks=True)}
else:
    DATABASES = {
        "default": {
            # Django's, with connections kept between requests while the file stays the same (core/sqlite_backend).
            "ENGINE": "core.sqlite_backend",
            "NAME": os.environ.get("SQLITE_PATH", str(BASE_DIR / "db.sqlite3")),
            "CONN_MAX_AGE": 60,
            "CONN_HEALTH_CHECKS": True,
            # Tests use a file, not shared-cache memory: browser tests run the app in a second thread.
            "TEST": {"NAME": str(BASE_DIR / "test-artifacts" / "test-db.sqlite3")},
            # Several threads or workers write at once (a staff save while a page reads): WAL lets
            # readers go on beside a writer, and IMMEDIATE transactions wait for the write lock
            # (up to the timeout) instead of failing at once with "database is locked".
            "OPTIONS": {
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
            },
        }
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = os.environ.get("TIME_ZONE", "America/New_York")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", BASE_DIR / "staticfiles"))
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

# The shared cache: local memory by default, Redis when CACHE_URL is set (several app servers).
# "content_version" holds one token in the database, so every process sees a publish at once.
CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": os.environ["CACHE_URL"]}
        if os.environ.get("CACHE_URL")
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "medwise"}
    ),
    "content_version": {
        "BACKEND": "django.core.cache.backends.db.DatabaseCache",
        "LOCATION": "medwise_content_version",
    },
}

# Strict Content-Security-Policy: no inline script or style, no eval, nothing from other origins.
SELF, NONE = "'self'", "'none'"
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [NONE],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF],
        "font-src": [SELF],
        "connect-src": [SELF],
        "manifest-src": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
        "base-uri": [NONE],
        "object-src": [NONE],
    }
}
PERMISSIONS_POLICY = (
    "accelerometer=(), autoplay=(), camera=(), display-capture=(), encrypted-media=(), fullscreen=(), "
    "geolocation=(), gyroscope=(), hid=(), magnetometer=(), microphone=(), midi=(), payment=(), "
    "picture-in-picture=(), publickey-credentials-get=(), screen-wake-lock=(), serial=(), usb=(), "
    "xr-spatial-tracking=(), interest-cohort=()"
)

# Request budgets (requests per minute), kept in the cache (see core/ratelimit.py). A clinic
# waiting room shares one address, so reads (search, the check page) are far looser than list edits,
# and each list has budgets of its own beside its address's. Several workers need a shared cache.
RATE_LIMITS = {
    "search": env_int("RATE_LIMIT_SEARCH", 600),
    "check": env_int("RATE_LIMIT_CHECK", 600),
    "edit": env_int("RATE_LIMIT_EDIT", 120),
    "api": env_int("RATE_LIMIT_API", 60),
}
RATE_LIMITS_PER_LIST = {
    "search": env_int("RATE_LIMIT_LIST_SEARCH", 120),
    "check": env_int("RATE_LIMIT_LIST_CHECK", 120),
    "edit": env_int("RATE_LIMIT_LIST_EDIT", 30),
}
RATE_LIMIT_WINDOW_SECONDS = 60
# The per-list budgets' key: a function taking the request, giving its list's key or None (no list).
RATE_LIMIT_LIST_KEY = "interactions.list_cookie.list_key"
# Behind proxies: the header they append to (e.g. HTTP_X_FORWARDED_FOR) and how many of them there are.
# The client is the entry TRUSTED_PROXY_COUNT places from the right; anything further left is spoofable.
CLIENT_IP_HEADER = os.environ.get("CLIENT_IP_HEADER", "")
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 1 if CLIENT_IP_HEADER else 0)

# Emergency numbers shown with every urgent warning sign.
EMERGENCY_NUMBER = os.environ.get("EMERGENCY_NUMBER", "911")
CRISIS_LINE = os.environ.get("CRISIS_LINE", "988")
POISON_CONTROL = os.environ.get("POISON_CONTROL", "1-800-222-1222")

# The medication list cookie (see interactions/medlist.py and interactions/list_cookie.py).
MEDLIST_IDLE_SECONDS = env_int("MEDLIST_IDLE_SECONDS", 2 * 60 * 60)
MEDLIST_MAX_ENTRIES = 30

# Search input bounds: longer input is refused with a clear message.
SEARCH_MAX_QUERY_LENGTH = 100
SEARCH_MAX_LIMIT = 50
# How the search index follows a content change: "background" rebuilds it in a thread while searches
# keep the previous one; "sync" rebuilds it in the search that notices. Tests use "sync": a thread has
# its own connection, which cannot see a test's uncommitted rows.
SEARCH_INDEX_REBUILD = os.environ.get("SEARCH_INDEX_REBUILD", "").strip() or "background"
if SEARCH_INDEX_REBUILD not in {"background", "sync"}:
    raise ImproperlyConfigured(f"SEARCH_INDEX_REBUILD must be background or sync, not {SEARCH_INDEX_REBUILD!r}")

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"

if not DEBUG:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SESSION_COOKIE_NAME = "__Host-sessionid"
    CSRF_COOKIE_NAME = "__Host-csrftoken"
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]  # load balancers probe over plain HTTP
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

CSRF_FAILURE_VIEW = "core.views.csrf_failure"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    # The development server logs full request lines, query strings included (a search is a
    # medicine name): it logs nothing here. django.request still logs errors, with the path only.
    "loggers": {"django.server": {"handlers": [], "level": "CRITICAL", "propagate": False}},
}


# --- Staff workspace (Django admin): sign-in protection, staff sessions, review cycle -------------
# Only the admin signs anybody in, so these settings concern clinic staff alone. See docs/staff.md.

# django-axes first: it refuses a locked-out sign-in before any password is checked. It has no
# get_user(), so Django's test client force_login() picks ModelBackend, as axes documents.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env_int("ADMIN_LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = env_int("ADMIN_LOCKOUT_MINUTES", 30) / 60  # hours
# Lock the pair, so one person's typos do not lock out the whole clinic behind one address.
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "admin/lockout.html"
AXES_SENSITIVE_PARAMETERS = ["password", "otp_token"]
# No start-up banner in every command's output, and no user agents in the logs.
AXES_VERBOSE = False


# The same client address the rate limits use (CLIENT_IP_HEADER only behind a trusted proxy).
AXES_CLIENT_IP_CALLABLE = "core.ratelimit.client_address"

# Two-factor sign-in: the issuer shown in the authenticator app.
OTP_TOTP_ISSUER = os.environ.get("OTP_TOTP_ISSUER", "MedWise staff")

# Idle timeout: every request renews the session, so it ends after this long without one.
# Django's login() gives a new session key; logout() deletes the session on the server.
SESSION_COOKIE_AGE = env_int("STAFF_IDLE_TIMEOUT_MINUTES", 30) * 60
SESSION_SAVE_EVERY_REQUEST = True
# Absolute lifetime: a staff session ends this long after sign-in, even if used all along.
STAFF_SESSION_MAX_SECONDS = env_int("STAFF_SESSION_MAX_HOURS", 12) * 60 * 60
if STAFF_SESSION_MAX_SECONDS <= 0:
    raise ImproperlyConfigured("STAFF_SESSION_MAX_HOURS must be at least 1.")

# Publishing sets next_review_due this many days ahead; the review queue looks this far ahead.
REVIEW_INTERVAL_DAYS = env_int("REVIEW_INTERVAL_DAYS", 365)
# The largest JSON body POST /api/v1/check accepts (30 names of 100 characters fit easily).
API_MAX_BODY_BYTES = 16_384
REVIEW_DUE_SOON_DAYS = 30
READING_GRADE_TARGET = 8
