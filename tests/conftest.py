import os

import pytest
from hypothesis import HealthCheck, settings

from accounts.models import Organisation, Role, User
from tests import factories

# Hypothesis profiles (tests/scim/test_fuzz.py). "ci", the default, keeps that module to about a
# minute on PostgreSQL and is derandomized: a CI run tries the same inputs every time, so a red
# build is caused by the change under test, never by the luck of the draw; finding new inputs is
# the job of "fuzz" (HYPOTHESIS_PROFILE=fuzz, `make fuzz`), random and long, which also keeps its
# failures in .hypothesis/ and replays them first next time. Examples share a function-scoped
# fixture on purpose (each runs in its own rolled-back transaction), and a request to the real
# views has no useful deadline.
_COMMON = settings(
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    print_blob=True,
)
settings.register_profile("ci", _COMMON, max_examples=800, derandomize=True)
# CI's second pass, on SQLite: the same inputs' beginning, for the database-specific paths.
settings.register_profile("ci-short", _COMMON, max_examples=200, derandomize=True)
settings.register_profile("fuzz", _COMMON, max_examples=10_000)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture(autouse=True)
def dev_idp_dir(settings, tmp_path_factory) -> None:
    """The development IdP keeps its key in files (devidp/keys.py): a test that makes one writes
    it to a temporary folder, never into the checkout's .dev-idp/."""
    settings.DEV_IDP_DIR = str(tmp_path_factory.mktemp("dev-idp"))


@pytest.fixture
def org(db) -> Organisation:
    return factories.organisation("acme")


@pytest.fixture
def other_org(db) -> Organisation:
    return factories.organisation("globex")


@pytest.fixture
def primary_admin(org) -> User:
    return factories.user(
        org, "admin@acme.test", role=Role.PRIMARY_ADMIN, given_name="Ada", family_name="Admin"
    )


@pytest.fixture
def learner(org) -> User:
    return factories.user(org, "lee@acme.test", given_name="Lee", family_name="Learner")


@pytest.fixture
def staff_user(db) -> User:
    return factories.staff()
