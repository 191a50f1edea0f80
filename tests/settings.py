"""Settings for the test suite: production settings, fixed test secrets and a fast hasher.

DEBUG stays off, as in production. DATABASE_URL comes from the environment (SQLite by default,
PostgreSQL in CI).
"""

import os

os.environ.setdefault("SECRET_KEY", "test-secret-key-that-is-long-enough-1234567890")
os.environ.setdefault("SCIM_KEY_SECRET", "test-scim-key-secret-that-is-long-enough-123456")

from auzlearn.settings import *  # noqa: F403

# Password hashing dominates a suite that signs people in; production keeps Django's default.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Never the project's staticfiles/: WhiteNoise indexes every file under STATIC_ROOT each time a
# test client loads the middleware, and the 611 files a `collectstatic` leaves there (a deploy
# rehearsal, a bench run) made the suite 40% slower. Tests render pages without collected files
# (pyproject.toml ignores WhiteNoise's warning); the browser tests' live server uses the finders.
STATIC_ROOT = BASE_DIR / "tests" / "no-collected-static"  # noqa: F405
# Live-server threads would otherwise keep their connections open past the test run, and the
# test database could not be dropped.
DATABASES["default"]["CONN_MAX_AGE"] = 0  # noqa: F405
