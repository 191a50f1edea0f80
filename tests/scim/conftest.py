"""A SCIM client for the tests: speaks to the API as Okta and Entra do, with a real key."""

import json
import uuid
from dataclasses import dataclass
from typing import Any

import pytest
from django.core.cache import cache, caches
from django.core.cache.backends.locmem import LocMemCache
from django.test import Client

from accounts import services
from accounts.models import Organisation
from scim import keys
from tests import factories

OKTA_AGENT = "Okta SCIM Client 1.0.0"
ENTRA_AGENT = "Microsoft.Identity.Provisioning (AAD SCIM Provisioning)"
SCIM_TYPE = "application/scim+json"


@dataclass
class ScimClient:
    """Sends SCIM requests to one organisation's Tenant URL with one key."""

    client: Client
    organisation: Organisation
    key: str
    user_agent: str = OKTA_AGENT

    @property
    def base(self) -> str:
        return f"/scim/v2/{self.organisation.public_id}"

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        authorization: str | None = None,
        raw: str | None = None,
        content_type: str = SCIM_TYPE,
        **headers: str,
    ) -> Any:
        auth = f"Bearer {self.key}" if authorization is None else authorization
        sent = {"Authorization": auth, "User-Agent": self.user_agent}
        sent.update({name.replace("_", "-"): value for name, value in headers.items()})
        data = raw if raw is not None else (json.dumps(body) if body is not None else "")
        url = path if path.startswith("/") else f"{self.base}/{path}"
        return self.client.generic(method, url, data, content_type=content_type, headers=sent)

    def get(self, path: str, **kwargs: Any) -> Any:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, body: Any, **kwargs: Any) -> Any:
        return self.request("POST", path, body, **kwargs)

    def put(self, path: str, body: Any, **kwargs: Any) -> Any:
        return self.request("PUT", path, body, **kwargs)

    def patch(self, path: str, body: Any, **kwargs: Any) -> Any:
        return self.request("PATCH", path, body, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> Any:
        return self.request("DELETE", path, **kwargs)


def scim_client_for(organisation: Organisation, user_agent: str = OKTA_AGENT) -> ScimClient:
    services.organisation_update(
        organisation=organisation, actor=factories.SYSTEM, scim_enabled=True
    )
    issued = keys.issue(organisation=organisation, actor=factories.SYSTEM, created_by=None)
    return ScimClient(Client(), organisation, issued.secret, user_agent)


@pytest.fixture(autouse=True)
def fresh_rate_limits(settings):
    """Every test starts with no SCIM request counted: the test client's requests all come from
    one address, and the unauthenticated limit would otherwise carry over from test to test.
    The process's memory cache (the default, and CI's) is cleared; a shared cache (CACHE_URL in
    a developer's .env) gets a key prefix of the test's own instead, since clearing it would
    wipe more than the tests' counters."""
    if isinstance(caches["default"], LocMemCache):
        cache.clear()
        yield
        cache.clear()
    else:
        settings.CACHES = {
            name: {**config, "KEY_PREFIX": f"test-{uuid.uuid4().hex}"}
            for name, config in settings.CACHES.items()
        }
        yield


@pytest.fixture
def scim(org) -> ScimClient:
    """Okta, connected to the "acme" organisation."""
    return scim_client_for(org)


@pytest.fixture
def entra(org) -> ScimClient:
    """Microsoft Entra ID, connected to the "acme" organisation."""
    return scim_client_for(org, ENTRA_AGENT)


@pytest.fixture
def other_scim(other_org) -> ScimClient:
    """Okta, connected to the "globex" organisation."""
    return scim_client_for(other_org)


def assert_scim_error(response: Any, status: int, scim_type: str | None = None) -> dict[str, Any]:
    """The response is a SCIM Error document with this status, and no stack trace."""
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith(SCIM_TYPE)
    document: dict[str, Any] = response.json()
    assert document["schemas"] == ["urn:ietf:params:scim:api:messages:2.0:Error"]
    assert document["status"] == str(status)
    assert document["detail"]
    if scim_type is not None:
        assert document.get("scimType") == scim_type
    else:
        assert "scimType" not in document or document["scimType"]
    text = response.content.decode()
    assert "Traceback" not in text and 'File "' not in text
    return document
