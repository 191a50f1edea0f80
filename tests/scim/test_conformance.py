"""Conformance: the scim2-tester suite against a live server over real HTTP on loopback."""

from collections import Counter

import pytest
from httpx2 import Client
from scim2_client.engines.httpx2 import SyncSCIMClient
from scim2_tester import Status, check_server

from accounts import services
from tests import factories
from tests.scim.conftest import scim_client_for


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("own_attributes", [False, True], ids=["constant", "own-attributes"])
def test_scim2_tester_reports_no_failures(live_server, capsys, own_attributes):
    org = factories.organisation("conformance")
    if own_attributes:  # /Schemas then lists a third User extension, which the suite fills in
        # No decimal or dateTime: scim2-tester fills those with a UUID string (its filling.py
        # has cases for int, bool and references only), which its own client model refuses
        # before sending anything. tests/scim/test_custom_attributes_api.py covers them.
        for name, type_ in [("costCode", "string"), ("mentor", "boolean"), ("level", "integer")]:
            services.custom_attribute_add(
                organisation=org, actor=factories.SYSTEM, name=name, type=type_
            )
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
