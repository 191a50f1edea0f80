"""Conformance: the scim2-tester suite against a live server over real HTTP (loopback)."""

import pytest
from httpx2 import Client
from scim2_client.engines.httpx2 import SyncSCIMClient
from scim2_tester import Status, check_server

from tests import factories
from tests.scim.conftest import scim_client_for


@pytest.mark.django_db(transaction=True)
def test_scim2_tester_reports_no_failures(live_server):
    org = factories.organisation("conformance")
    scim = scim_client_for(org)
    http = Client(
        base_url=f"{live_server.url}/scim/v2/{org.public_id}",
        headers={"Authorization": f"Bearer {scim.key}"},
        timeout=30,
    )
    client = SyncSCIMClient(http)
    results = check_server(client)
    failures = [r for r in results if r.status not in (Status.SUCCESS, Status.SKIPPED)]
    for r in results:
        print("RESULT", r.status.name, r.title, "|", (r.reason or "")[:400].replace("\n", " "))
    summary = f"scim2-tester: {len(results) - len(failures)} passed, {len(failures)} failed"
    print(summary)
    assert not failures, "\n".join(f"{r.title}: {r.reason}" for r in failures)
