"""Settings of the gunicorn servers the fault tests start (tests/test_database_faults.py and its
neighbours): the test suite's, but with database connections kept open between requests as in
production (CONN_MAX_AGE 60 with health checks), since what must recover from a cut is exactly
such a kept connection."""

from tests.settings import *  # noqa: F403

DATABASES["default"]["CONN_MAX_AGE"] = 60  # noqa: F405
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True  # noqa: F405
