"""Authentication, tenant isolation, discovery, errors and the request log, on every endpoint."""

import uuid

import pytest
from django.test import Client

from accounts import services
from accounts.models import Team, User
from scim import keys
from scim.groups import MAX_MEMBERS_PER_REQUEST
from scim.handlers import exception_handler
from scim.models import RefusedRequestCount, ScimKey, ScimRequest
from tests import factories
from tests.scim.conftest import assert_scim_error

# Every endpoint with a method that needs no body, as "method path" with {user} / {team}.
ENDPOINTS = [
    "GET Users",
    "POST Users",
    "GET Users/{user}",
    "PUT Users/{user}",
    "PATCH Users/{user}",
    "DELETE Users/{user}",
    "GET Groups",
    "POST Groups",
    "GET Groups/{team}",
    "PUT Groups/{team}",
    "PATCH Groups/{team}",
    "DELETE Groups/{team}",
    "GET ServiceProviderConfig",
    "GET ResourceTypes",
    "GET ResourceTypes/User",
    "GET Schemas",
    "GET Schemas/urn:ietf:params:scim:schemas:core:2.0:User",
    "GET Me",
    "POST Bulk",
]


@pytest.fixture
def targets(org):
    user = factories.user(org, "target@acme.test")
    team = factories.team(org, "Target", members=[user])
    return {"user": user.public_id, "team": team.public_id}


def _call(client, endpoint: str, targets, **kwargs):
    method, path = endpoint.split(" ")
    return client.request(method, path.format(**targets), {}, **kwargs)


def _unchanged(org, targets) -> None:
    user = User.objects.get(public_id=targets["user"])
    assert user.is_active and not user.is_deleted and user.username == "target@acme.test"
    team = Team.objects.get(public_id=targets["team"])
    assert team.display_name == "Target" and team.members.count() == 1
    assert User.objects.filter(organisation=org).count() == 1


@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize(
    "authorization", ["", "Bearer", "Bearer wrong-key-wrong-key", "non-token", "Basic dXNlcjpwYXNz"]
)
def test_every_endpoint_refuses_a_missing_or_wrong_key_with_401(
    scim, org, targets, endpoint, authorization
):
    response = _call(scim, endpoint, targets, authorization=authorization)
    assert_scim_error(response, 401)
    assert response["WWW-Authenticate"].startswith("Bearer")
    _unchanged(org, targets)


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_another_organisations_key_gets_the_same_401_on_every_endpoint(
    scim, other_scim, org, targets, endpoint
):
    # Globex's valid key, on Acme's Tenant URL.
    other_scim.organisation = org
    intruder = _call(other_scim, endpoint, targets)
    stranger = _call(scim, endpoint, targets, authorization="Bearer not-a-key-at-all")
    assert intruder.json() == stranger.json()
    assert_scim_error(intruder, 401)
    _unchanged(org, targets)


def test_a_key_sees_only_its_own_organisation(scim, other_scim, org, other_org):
    theirs = factories.user(other_org, "theirs@globex.test")
    their_team = factories.team(other_org, "Theirs", members=[theirs])
    assert_scim_error(scim.get(f"Users/{theirs.public_id}"), 404)
    assert_scim_error(scim.get(f"Groups/{their_team.public_id}"), 404)
    assert scim.get('Users?filter=userName eq "theirs@globex.test"').json()["totalResults"] == 0
    assert scim.get("Groups").json()["totalResults"] == 0
    assert_scim_error(scim.delete(f"Users/{theirs.public_id}"), 404)
    theirs.refresh_from_db()
    assert not theirs.is_deleted


def test_bare_key_without_the_bearer_scheme_is_accepted(scim):
    assert scim.get("Users", authorization=scim.key).status_code == 200


def test_disabled_scim_refuses_the_key_and_keeps_everything(scim, org, learner):
    services.organisation_update(organisation=org, actor=factories.SYSTEM, scim_enabled=False)
    document = assert_scim_error(scim.get("Users"), 403)
    assert "turned off" in document["detail"]
    assert User.objects.filter(pk=learner.pk, is_active=True).exists()


def test_revoked_key_stops_working_at_once(scim, org):
    keys.revoke(organisation=org, actor=factories.SYSTEM)
    assert_scim_error(scim.get("Users"), 401)


def test_key_is_stored_only_as_a_keyed_hash(scim):
    record = ScimKey.objects.get(organisation=scim.organisation)
    assert scim.key not in (record.digest, record.prefix)
    assert record.digest == keys.digest(scim.key) and len(record.digest) == 64


def test_key_use_is_noted(scim):
    scim.get("Users")
    assert ScimKey.objects.get(organisation=scim.organisation).last_used_at is not None


def test_unknown_path_and_unknown_organisation_are_scim_404s(scim):
    assert_scim_error(scim.get("Nonsense"), 404)
    assert_scim_error(scim.get("/scim/v2/00000000000000000000/Users"), 401)
    assert_scim_error(Client().get("/scim/v2/whatever"), 404)


def test_method_not_allowed_is_a_scim_405(scim):
    assert_scim_error(scim.request("DELETE", "Users"), 405)
    assert_scim_error(scim.request("PATCH", "ServiceProviderConfig", {}), 405)


@pytest.mark.parametrize("endpoint", ["GET Me", "POST Me", "POST Bulk"])
def test_me_and_bulk_are_not_supported(scim, targets, endpoint):
    assert_scim_error(_call(scim, endpoint, targets), 501)


def test_oversized_body_is_413(scim):
    body = '{"userName": "' + "x" * (3 * 1024 * 1024) + '"}'
    assert_scim_error(scim.request("POST", "Users", raw=body), 413)


def test_service_provider_config_describes_what_is_supported(scim):
    document = scim.get("ServiceProviderConfig").json()
    assert document["patch"] == {"supported": True}
    assert document["bulk"]["supported"] is False
    assert document["filter"] == {"supported": True, "maxResults": 1000}
    assert document["etag"] == {"supported": True}
    assert document["sort"] == {"supported": True}
    assert document["changePassword"] == {"supported": False}
    assert document["authenticationSchemes"][0]["type"] == "oauthbearertoken"
    limits_page = Client().get(document["documentationUri"].removeprefix("http://127.0.0.1:8000"))
    assert limits_page.status_code == 200
    assert b"1000 operations" in limits_page.content
    assert b"10000 members" in limits_page.content

    def no_nulls(value):
        if isinstance(value, dict):
            return all(v is not None and no_nulls(v) for v in value.values())
        if isinstance(value, list):
            return all(no_nulls(v) for v in value)
        return True

    assert no_nulls(document)
    for path in ("ResourceTypes", "Schemas"):
        assert no_nulls(scim.get(path).json())


def test_resource_types_and_schemas(scim):
    types = scim.get("ResourceTypes").json()
    assert {r["name"] for r in types["Resources"]} == {"User", "Group"}
    user_type = scim.get("ResourceTypes/User").json()
    assert user_type["schemaExtensions"] == [
        {"schema": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User", "required": False}
    ]
    schemas = scim.get("Schemas").json()
    assert {s["id"] for s in schemas["Resources"]} == {
        "urn:ietf:params:scim:schemas:core:2.0:User",
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User",
        "urn:ietf:params:scim:schemas:core:2.0:Group",
    }
    user_schema = scim.get("Schemas/urn:ietf:params:scim:schemas:core:2.0:User").json()
    names = {a["name"] for a in user_schema["attributes"]}
    assert {"userName", "name", "emails", "active", "groups"} <= names
    assert_scim_error(scim.get("Schemas/urn:nope"), 404)


# --- the request log -------------------------------------------------------------------------


def test_each_request_is_logged_for_its_organisation_without_secrets(scim, org):
    scim.post(
        "Users",
        {
            "userName": "jane@acme.test",
            "password": "s3cret-pass",
            "emails": [{"value": "jane@acme.test"}],
        },
    )
    entry = ScimRequest.objects.get(organisation=org, method="POST")
    assert entry.status == 201 and entry.outcome == "succeeded"
    assert entry.client == "Okta"
    assert entry.resource_type == "User" and entry.resource_label == "jane@acme.test"
    assert entry.key_prefix == scim.key[:8]
    assert "s3cret-pass" not in str(entry.summary) and scim.key not in str(entry.summary)
    assert entry.summary["password"] == "(not recorded)"


def test_a_failure_is_explained_in_plain_words(scim, learner):
    scim.post("Users", {"userName": learner.username})
    entry = ScimRequest.objects.get(method="POST")
    assert entry.status == 409 and entry.outcome == "failed"
    assert entry.explanation.startswith(f"Okta tried to create user {learner.username}")
    assert "already exists" in entry.explanation


def test_a_wrong_key_is_only_counted_for_the_organisation_of_the_url(scim, org):
    # Nothing such a request sends is stored (DESIGN §5): tests/scim/test_rate_limits.py.
    scim.get("Users", authorization="Bearer wrong")
    assert not ScimRequest.objects.exists()
    assert RefusedRequestCount.objects.get(organisation=org).count == 1


def test_attributes_we_do_not_store_are_noted_on_success(entra):
    body = {
        "userName": "jane@acme.test",
        "addresses": [{"type": "work", "formatted": "1 Main St", "label": "HQ"}],
        "roles": [],
        "password": "ignored-without-a-note",
    }
    assert entra.post("Users", body).status_code == 201
    entry = ScimRequest.objects.get(method="POST")
    assert entry.outcome == "succeeded"
    assert entry.explanation == (
        "Microsoft Entra ID also sent attributes auzlearn does not store, so they were ignored: "
        "roles, addresses.label."
    )


def test_a_patch_adding_a_second_work_email_keeps_the_new_one(scim, learner):
    body = {
        "Operations": [
            {
                "op": "add",
                "path": "emails",
                "value": [{"value": "new@acme.test", "type": "work", "primary": True}],
            }
        ]
    }
    assert scim.patch(f"Users/{learner.public_id}", body).status_code == 200
    learner.refresh_from_db()
    assert learner.email == "new@acme.test"
    assert learner.emails == [
        {"value": "lee@acme.test", "type": "work"},
        {"value": "new@acme.test", "type": "work", "primary": True},
    ]
    assert ScimRequest.objects.get(method="PATCH").explanation == ""


def test_nul_characters_are_refused_as_invalid_values(scim):
    assert_scim_error(scim.post("Users", {"userName": "a\u0000b@acme.test"}), 400, "invalidValue")
    assert_scim_error(scim.get('Users?filter=userName eq "a\u0000b"'), 400, "invalidValue")
    assert not User.objects.filter(organisation=scim.organisation).exists()
    assert ScimRequest.objects.filter(status=400).count() == 2  # logged, NUL replaced


def test_an_unexpected_error_is_a_plain_scim_500_without_internals(caplog):
    response = exception_handler(RuntimeError("secret internals in the message"), {})
    assert response.status_code == 500
    assert response.data == {
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"],
        "status": "500",
        "detail": "Something went wrong on our side; it has been logged. Retry the request later.",
    }
    assert "secret internals" in caplog.text  # logged for us, not sent to the client


def test_members_per_request_are_limited(scim, org):
    team = factories.team(org, "Big")
    too_many = [{"value": str(uuid.uuid4())} for _ in range(MAX_MEMBERS_PER_REQUEST + 1)]
    body = {"Operations": [{"op": "add", "path": "members", "value": too_many}]}
    document = assert_scim_error(scim.patch(f"Groups/{team.public_id}", body), 400, "invalidValue")
    assert str(MAX_MEMBERS_PER_REQUEST) in document["detail"]
