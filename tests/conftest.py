import pytest

from accounts.models import Organisation, Role, User
from tests import factories


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
