"""Conformance: the scim2-tester suite against a live server over real HTTP on loopback."""

from collections import Counter

import pytest
from httpx2 import Client
from scim2_client.engines.httpx2 import SyncSCIMClient
from scim2_tester import Status, check_server

from tests import factories
from tests.scim.conftest import scim_client_for


@pytest.mark.django_db(transaction=True)
def test_scim2_tester_reports_no_failures(live_server, capsys):
    org = factories.organisation("conformance")
    scim = scim_client_for(org)
    http = Client(
        base_url=f"{live_server.url}/scim/v2/{org.public_id}",
        headers={"Authorization": f"Bearer {scim.key}"},
        timeout=30,
    )
    results = check_server(SyncSCIMClient(http))

    counts = Counter(result.status.name.lower() for result in results)
    failures = [r for r in results if r.status not in (Status.SUCCESS, Status.SKIPPED)]
    with capsys.disabled():  # the summary belongs in CI's output
        print(
            f"\nscim2-tester conformance: {counts['success']} checks succeeded, "
            f"{counts['skipped']} skipped (features we do not offer), {len(failures)} failures"
        )
    assert len(results) > 50, "the suite did not run"
    assert not failures, "\n".join(f"{r.title}: {r.reason}" for r in failures)
