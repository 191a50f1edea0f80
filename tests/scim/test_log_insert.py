"""The request log's entry in one round trip (scim.log_insert), on PostgreSQL outside any
transaction, as a request runs in production; its savepoint form inside one."""

import pytest
from django.db import connection, transaction
from django.db.utils import IntegrityError
from django.forms.models import model_to_dict
from django.test.utils import CaptureQueriesContext

from accounts.models import Organisation
from scim import log_insert
from scim.models import Outcome, ScimRequest
from tests import factories
from tests.scim.conftest import scim_client_for

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="the one-round-trip form is PostgreSQL's; SQLite saves the ORM's way",
    ),
]


def _entry(organisation: Organisation, **changes: object) -> ScimRequest:
    fields: dict[str, object] = {
        "organisation": organisation,
        "client": "Okta",
        "key_prefix": "abcdefgh",
        "method": "GET",
        "path": "/scim/v2/x/Users?filter=userName%20eq%20%22100%25%20a%27b%22",
        "status": 200,
        "outcome": Outcome.SUCCEEDED,
        "duration_ms": 7,
        "resource_type": "User",
        "resource_label": "it's 100% ; DROP TABLE x; --",
        "summary": {"name": "%s %(x)s", "list": [1, 2]},
        "facts": {"returned": 0},
    }
    fields.update(changes)
    return ScimRequest(**fields)


def _synchronous_commit() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SHOW synchronous_commit")
        return str(cursor.fetchone()[0])


def test_a_lookup_writes_its_log_entry_in_one_statement_and_leaves_the_session_as_it_was():
    organisation = factories.organisation()
    scim = scim_client_for(organisation)
    with CaptureQueriesContext(connection) as queries:
        response = scim.get('Users?filter=userName eq "nobody@acme.test"')
    assert response.status_code == 200
    log_statements = [q["sql"] for q in queries if "scim_scimrequest" in q["sql"]]
    assert len(log_statements) == 1
    assert log_statements[0].startswith("SET LOCAL synchronous_commit TO OFF; INSERT INTO")
    assert [q["sql"] for q in queries if q["sql"].startswith("SET LOCAL")] == log_statements
    entry = ScimRequest.objects.get(organisation=organisation)
    assert entry.resource_label == "nobody@acme.test" and entry.status == 200
    assert entry.facts == {"returned": 0, "total": 0}
    assert _synchronous_commit() == "on"  # the SET LOCAL ended with its implicit transaction
    assert not connection.in_atomic_block


def test_the_one_statement_writes_exactly_the_row_save_writes():
    organisation = factories.organisation()
    direct = _entry(organisation)
    log_insert.insert(direct)
    assert direct.pk is not None and not direct._state.adding
    with transaction.atomic():  # inside a transaction: the ORM's own save, in a savepoint
        saved = _entry(organisation, created_at=direct.created_at)
        log_insert.insert(saved)
    rows = ScimRequest.objects.filter(pk__in=[direct.pk, saved.pk]).order_by("pk")
    first, second = (model_to_dict(row, exclude=["id"]) for row in rows)
    assert first == second
    assert first["resource_label"] == "it's 100% ; DROP TABLE x; --"
    assert first["summary"] == {"name": "%s %(x)s", "list": [1, 2]}
    assert ScimRequest.objects.count() == 2  # the label's "DROP TABLE" was only text


def test_a_failed_insert_raises_commits_nothing_and_leaves_the_connection_usable():
    organisation = factories.organisation()
    broken = _entry(organisation, status=-1)  # the column's CHECK refuses it
    with pytest.raises(IntegrityError):
        log_insert.insert(broken)
    assert not connection.in_atomic_block
    assert ScimRequest.objects.count() == 0
    assert _synchronous_commit() == "on"
    log_insert.insert(_entry(organisation))
    assert ScimRequest.objects.count() == 1


def test_inside_a_transaction_a_failed_insert_does_not_abort_the_outer_one():
    organisation = factories.organisation()
    with transaction.atomic():
        broken = _entry(organisation, status=-1)
        with pytest.raises(IntegrityError):
            log_insert.insert(broken)
        log_insert.insert(_entry(organisation))  # the outer transaction goes on
    assert ScimRequest.objects.count() == 1
