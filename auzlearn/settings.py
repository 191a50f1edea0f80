"""Settings for auzlearn, read from the environment (see .env.example).

Every variable is parsed strictly: a value that cannot be understood stops the process at start
with a message naming the variable, rather than falling back to a default nobody asked for.
"""

from pathlib import Path

import django_stubs_ext
import environ

from auzlearn.config import EnvReader, set_planning, set_timeouts

# Lets Django's generic classes take type arguments at run time (admin.ModelAdmin[User]), as
# they do for the type checker.
django_stubs_ext.monkeypatch()

BASE_DIR = Path(__file__).resolve().parent.parent

environ.Env.read_env(BASE_DIR / ".env")  # optional local file; real environment wins
env = EnvReader()

DEBUG = env.get_bool("DEBUG", default=False)

# Secrets have no defaults outside DEBUG: a production server must never run on a known key.
SECRET_KEY = env.secret("SECRET_KEY", debug=DEBUG, debug_default="insecure-dev-only-secret-key")
# Keyed hash for SCIM secret keys; separate from SECRET_KEY so rotating one does not revoke
# every provisioning integration.
SCIM_KEY_SECRET = env.secret(
    "SCIM_KEY_SECRET", debug=DEBUG, debug_default="insecure-dev-only-scim-key-secret"
)

# The scheme and host the outside world uses. Behind a load balancer the Host header Django sees
# is not what Okta sees, so every absolute URL we show or send is built from this.
PUBLIC_BASE_URL = env.base_url("PUBLIC_BASE_URL", default="http://127.0.0.1:8000", debug=DEBUG)

ALLOWED_HOSTS = env.get_list(
    "ALLOWED_HOSTS", default=env.default_hosts(PUBLIC_BASE_URL, debug=DEBUG)
)
CSRF_TRUSTED_ORIGINS = [PUBLIC_BASE_URL]

INSTALLED_APPS = [
    # django.contrib.admin, with a site whose login has the sign-in back-off (accounts/apps.py).
    "accounts.apps.SupportAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "accounts",
    "sso",
    "scim",
    # The admin's settings pages that show sso and scim together (console/apps.py).
    "console",
    # Development tools: the development IdP (routed only with DEBUG on, auzlearn/urls.py) and
    # manage.py simulate_idp. No models.
    "devidp",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Content-Security-Policy on every response; the policy is CONTENT_SECURITY_POLICY below.
    "auzlearn.security.ContentSecurityPolicyMiddleware",
    # Serves our few static files from the app servers, so no separate file server is needed.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, so it sees a view's exception first: a database fault becomes a 503 with
    # Retry-After that needs no database to render (auzlearn/unavailable.py).
    "auzlearn.unavailable.DatabaseFaultMiddleware",
]

ROOT_URLCONF = "auzlearn.urls"

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
            ],
        },
    },
]

WSGI_APPLICATION = "auzlearn.wsgi.application"

DATABASES = {
    "default": env.database("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")
}
# Bounded waits on PostgreSQL (auzlearn/db_timeouts.py; README, Operations). A web request waits
# at most WEB_DB_LOCK_TIMEOUT_MS for a lock and WEB_DB_STATEMENT_TIMEOUT_MS for a statement,
# then answers 503 with Retry-After. Sign-ins and SCIM writes hold their row locks for
# milliseconds, so 3 s rides out a burst of them; a request's statements take milliseconds, so
# one running 10 s is a runaway; and both together stay far below gunicorn's 30 s worker
# timeout (gunicorn.conf.py), which would leave the client without any answer. Management
# commands and migrations (every other process) wait at most COMMAND_DB_LOCK_TIMEOUT_MS for a
# lock, so that a migration never queues sign-ins behind a lock it is itself waiting for, and
# have no statement timeout. Opening a connection gives up after
# DATABASE_CONNECT_TIMEOUT_SECONDS (a database host that does not answer at all).
WEB_DB_LOCK_TIMEOUT_MS = env.get_int("WEB_DB_LOCK_TIMEOUT_MS", default=3000)
WEB_DB_STATEMENT_TIMEOUT_MS = env.get_int("WEB_DB_STATEMENT_TIMEOUT_MS", default=10000)
COMMAND_DB_LOCK_TIMEOUT_MS = env.get_int("COMMAND_DB_LOCK_TIMEOUT_MS", default=5000)
DATABASE_CONNECT_TIMEOUT_SECONDS = env.get_int("DATABASE_CONNECT_TIMEOUT_SECONDS", default=5)
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault(
        "connect_timeout", DATABASE_CONNECT_TIMEOUT_SECONDS
    )
set_planning(DATABASES)  # no parallel workers, no JIT for our short statements (config.py)
set_timeouts(DATABASES, lock_timeout_ms=COMMAND_DB_LOCK_TIMEOUT_MS, statement_timeout_ms=None)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

CACHES = {"default": env.cache("CACHE_URL", default="locmemcache://")}

# Only the SCIM API uses DRF; its errors are SCIM Error documents.
REST_FRAMEWORK: dict[str, object] = {
    "EXCEPTION_HANDLER": "scim.handlers.exception_handler",
    "DEFAULT_AUTHENTICATION_CLASSES": [],
    "DEFAULT_PERMISSION_CLASSES": [],
    "UNAUTHENTICATED_USER": None,
}
# Retention of the SCIM request log (Activity tab); `manage.py prune_scim_requests` applies it.
SCIM_REQUEST_RETENTION_DAYS = env.get_int("SCIM_REQUEST_RETENTION_DAYS", default=30)
# SCIM requests an organisation's keys may send per minute, counted for all app servers together
# in the shared cache (scim/limits.py); more are answered 429 with Retry-After, which Okta and
# Entra retry by themselves. Entra's gallery asks a SCIM server to take at least 25 requests a
# second per tenant (1,500 a minute); the default is four times that, so no real provisioning
# cycle meets it, while one tenant still cannot take every worker from the others.
SCIM_RATE_LIMIT_PER_MINUTE = env.get_int("SCIM_RATE_LIMIT_PER_MINUTE", default=6000)
# Requests without a valid key, per client address (accounts/client.py). A client that pastes a
# wrong key sends a few; Okta's addresses are shared by many of its customers, so not too few.
SCIM_UNAUTHENTICATED_RATE_LIMIT_PER_MINUTE = env.get_int(
    "SCIM_UNAUTHENTICATED_RATE_LIMIT_PER_MINUTE", default=120
)
# After Generate Key, the key it replaces keeps working until the new key is first used, or for
# this many hours at most: time to paste the new key into Okta or Entra without a gap.
SCIM_KEY_OVERLAP_HOURS = env.get_int("SCIM_KEY_OVERLAP_HOURS", default=24)

# Clock difference tolerated between us and an identity provider when checking SAML validity
# windows. Small on purpose: a forwarded or replayed assertion should not live long.
SAML_CLOCK_SKEW_SECONDS = env.get_int("SAML_CLOCK_SKEW_SECONDS", default=120)

# Password sign-in back-off (accounts/throttle.py): this many failures for one account within
# the window, or this many from one client address across accounts, refuse further attempts for
# 1, 2, 4 ... minutes, up to the maximum. Counted in the shared cache (CACHE_URL).
SIGN_IN_MAX_FAILURES = env.get_int("SIGN_IN_MAX_FAILURES", default=10)
SIGN_IN_FAILURE_WINDOW_SECONDS = env.get_int("SIGN_IN_FAILURE_WINDOW_SECONDS", default=900)
SIGN_IN_MAX_BACKOFF_SECONDS = env.get_int("SIGN_IN_MAX_BACKOFF_SECONDS", default=900)
SIGN_IN_MAX_FAILURES_PER_ADDRESS = env.get_int("SIGN_IN_MAX_FAILURES_PER_ADDRESS", default=50)
# DNS servers that check sign-in domains' verification records (sso/dns_lookup.py), as IP
# addresses with an optional port; empty: the system resolver (/etc/resolv.conf).
SSO_DNS_NAMESERVERS = env.get_list("SSO_DNS_NAMESERVERS", default=[])

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = ["accounts.backends.OrganisationBackend"]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "accounts:home"
LOGOUT_REDIRECT_URL = "accounts:login"
# userName is unique per organisation, not globally; OrganisationBackend looks people up by
# (organisation, userName), so Django's global-uniqueness warning does not apply.
SILENCED_SYSTEM_CHECKS = ["auth.W004"]
# The covering index of a team's members (accounts.User: user_live_public_id_idx) is for
# PostgreSQL; SQLite, for local runs, builds it without its INCLUDE column, which is all it needs.
SILENCED_SYSTEM_CHECKS += ["models.W040"]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# Cookies and redirects follow the public scheme: secure cookies whenever people reach us over
# https. A TLS-terminating proxy tells us the original scheme in X-Forwarded-Proto.
_PUBLIC_IS_HTTPS = PUBLIC_BASE_URL.startswith("https://")
SESSION_ENGINE = "accounts.sessions"  # database sessions, written once per sign-in
SESSION_COOKIE_SECURE = _PUBLIC_IS_HTTPS
CSRF_COOKIE_SECURE = _PUBLIC_IS_HTTPS
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = env.get_int("SESSION_COOKIE_AGE", default=8 * 60 * 60)
_TRUST_X_FORWARDED_PROTO = env.get_bool("TRUST_X_FORWARDED_PROTO", default=False)
if _TRUST_X_FORWARDED_PROTO:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# How many proxies in front of the app servers append to X-Forwarded-For; the client's address
# (for sign-in throttles and records) is read from it only then (accounts/client.py).
TRUSTED_PROXY_COUNT = env.get_int("TRUSTED_PROXY_COUNT", default=0)
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
# Plain http is redirected to https only when we can tell the two apart (the proxy's
# X-Forwarded-Proto): otherwise every request would look like http and redirect forever. The
# load balancer's probes often come over plain http to the app server; they are answered as they
# are.
SECURE_SSL_REDIRECT = _PUBLIC_IS_HTTPS and _TRUST_X_FORWARDED_PROTO
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
# HSTS whenever people reach us over https: browsers then refuse plain http to this host for
# HSTS_SECONDS (a year by default, the usual figure; shorten it for a first rollout).
# Subdomains only when asked for: they may be run by someone else, and HSTS once sent on them
# cannot be taken back before max-age runs out. Preload is the domain owner's decision, not the
# app's (it needs includeSubDomains and a submission to the browsers' list).
_HSTS_SECONDS = env.get_int("HSTS_SECONDS", default=365 * 24 * 60 * 60)
SECURE_HSTS_SECONDS = _HSTS_SECONDS if _PUBLIC_IS_HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.get_bool("HSTS_INCLUDE_SUBDOMAINS", default=False)
SILENCED_SYSTEM_CHECKS += [
    "security.W005",  # HSTS without includeSubDomains: deliberate, see above
    "security.W021",  # HSTS without preload: deliberate, see above
]

# Content-Security-Policy (django-csp; auzlearn/security.py). Scripts only from our own files,
# never inline, so injected markup cannot run script; nothing may frame us (clickjacking), no
# plugins, no <base> to re-point our relative URLs. Forms post to us; the pages of single
# sign-on also to https identity providers (auzlearn/security.py says why).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],  # data: for the empty favicon of base.html
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
    }
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["stderr"], "level": env.log_level("LOG_LEVEL", default="INFO")},
}
