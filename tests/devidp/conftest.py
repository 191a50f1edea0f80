from collections.abc import Iterator
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command

from accounts.models import Organisation
from sso.models import SamlConnection
from tests.devidp.routing import urls_with_debug


@pytest.fixture(scope="session")
def dev_idp_state(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One directory for the whole run: the development IdP's key is made once, as on a
    developer's machine."""
    return tmp_path_factory.mktemp("dev-idp")


@pytest.fixture(autouse=True)
def dev_idp_dir(settings: Any, dev_idp_state: Path) -> Path:
    settings.DEV_IDP_DIR = str(dev_idp_state)
    return dev_idp_state


@pytest.fixture
def debug_on(settings: Any) -> Iterator[None]:
    """DEBUG on, as `make run` has it, with the URLconf loaded that way: /dev-idp/ exists."""
    with urls_with_debug(settings, True):
        yield


def run_demo() -> str:
    out = StringIO()
    call_command("demo", stdout=out)
    return out.getvalue()


@pytest.fixture
def demo(debug_on: None, db: None) -> Organisation:
    """What `make run` starts with: the demo command's organisation."""
    run_demo()
    return Organisation.objects.get(slug="demo")


@pytest.fixture
def demo_connection(demo: Organisation) -> SamlConnection:
    return SamlConnection.objects.get(organisation=demo, provider="okta")
