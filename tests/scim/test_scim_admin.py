"""The support admin's SCIM pages: read-only, never a key digest, revocation through scim.keys."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts import services
from accounts.models import ActorKind, AuditEvent
from scim import keys
from scim.models import Outcome, ScimKey, ScimRequest
from tests import factories

SYSTEM = factories.SYSTEM


def _url(model: str, view: str, *args: object) -> str:
    return reverse(f"admin:scim_{model}_{view}", args=args)


@pytest.fixture
def staff_client(client, staff_user):
    client.force_login(staff_user)
    return client


@pytest.fixture
def scim_world(org, other_org, primary_admin):
    """A revoked and an active key for acme, an active key for globex, and some requests."""
    keys.issue(organisation=org, actor=SYSTEM, created_by=primary_admin)
    acme = keys.issue(organisation=org, actor=SYSTEM, created_by=primary_admin)
    globex = keys.issue(organisation=other_org, actor=SYSTEM, created_by=None)
    keys.note_use(globex.record)  # sets last_used_at
    requests = [
        ScimRequest.objects.create(
            organisation=org,
            created_at=timezone.now() - timedelta(minutes=5),
            client="Okta",
            key_prefix=acme.record.prefix,
            method="POST",
            path=f"/scim/v2/{org.public_id}/Users",
            status=409,
            outcome=Outcome.FAILED,
            duration_ms=14,
            resource_type="User",
            resource_label="dup@acme.test",
            summary={"userName": "dup@acme.test", "password": "(not recorded)"},
            explanation="Okta tried to create user dup@acme.test, but: the userName is taken.",
        ),
        ScimRequest.objects.create(
            organisation=other_org,
            client="Microsoft Entra ID",
            method="GET",
            path=f"/scim/v2/{other_org.public_id}/Groups?excludedAttributes=members",
            status=200,
            outcome=Outcome.SUCCEEDED,
            duration_ms=3,
            resource_type="Group",
        ),
    ]
    return {"acme": acme, "globex": globex, "requests": requests}


def _digests() -> list[str]:
    return list(ScimKey.objects.values_list("digest", flat=True))


def _pages(scim_world) -> list[str]:
    return [
        _url("scimkey", "changelist"),
        *[_url("scimkey", "change", key.pk) for key in ScimKey.objects.all()],
        _url("scimrequest", "changelist"),
        *[_url("scimrequest", "change", row.pk) for row in scim_world["requests"]],
    ]


def test_every_scim_admin_page_renders_and_none_shows_a_digest(staff_client, scim_world):
    digests = _digests()
    assert len(digests) == 3

    for page in _pages(scim_world):
        response = staff_client.get(page)
        assert response.status_code == 200, page
        content = response.content.decode()
        assert "auzlearn support" in content
        for digest in digests:
            assert digest not in content, page
            assert digest[:16] not in content, page
        assert scim_world["acme"].secret not in content


def test_the_index_lists_the_scim_models(staff_client):
    response = staff_client.get(reverse("admin:index"))

    apps = {app["app_label"]: app for app in response.context["app_list"]}
    assert {model["object_name"] for model in apps["scim"]["models"]} == {
        "ScimKey",
        "ScimRequest",
    }


def test_key_list_shows_prefix_creator_and_dates(staff_client, scim_world, primary_admin):
    response = staff_client.get(_url("scimkey", "changelist"))

    content = response.content.decode()
    assert scim_world["acme"].record.prefix in content
    assert scim_world["globex"].record.prefix in content
    assert primary_admin.username in content
    assert 'name="digest"' not in content
    assert "Digest" not in content


def test_key_page_is_read_only_without_the_digest(staff_client, scim_world):
    key = scim_world["acme"].record

    response = staff_client.get(_url("scimkey", "change", key.pk))

    assert "digest" not in response.context["adminform"].form.fields
    assert b'name="prefix"' not in response.content  # read-only: no inputs
    assert key.prefix.encode() in response.content


@pytest.mark.parametrize("model", ["scimkey", "scimrequest"])
def test_keys_and_requests_cannot_be_added_changed_or_deleted(staff_client, scim_world, model):
    obj = scim_world["acme"].record if model == "scimkey" else scim_world["requests"][0]
    before = (list(ScimKey.objects.values()), list(ScimRequest.objects.values()))

    add = staff_client.post(_url(model, "add"), {"prefix": "forged00", "path": "/x"})
    change = staff_client.post(_url(model, "change", obj.pk), {"prefix": "forged00", "path": "/x"})
    delete = staff_client.post(_url(model, "delete", obj.pk), {"post": "yes"})
    changelist = staff_client.get(_url(model, "changelist"))

    assert (add.status_code, change.status_code, delete.status_code) == (403, 403, 403)
    assert b"delete_selected" not in changelist.content
    assert (list(ScimKey.objects.values()), list(ScimRequest.objects.values())) == before


def test_revoke_action_revokes_each_selected_key_through_scim_keys(
    staff_client, staff_user, scim_world, org, other_org
):
    acme, globex = scim_world["acme"], scim_world["globex"]
    already = ScimKey.objects.get(organisation=org, revoked_at__isnull=False)

    response = staff_client.post(
        _url("scimkey", "changelist"),
        {
            "action": "revoke_keys",
            "_selected_action": [acme.record.pk, globex.record.pk, already.pk],
        },
        follow=True,
    )

    assert response.status_code == 200
    assert keys.verify(acme.secret) is None
    assert keys.verify(globex.secret) is None
    assert not ScimKey.objects.filter(revoked_at__isnull=True).exists()
    events = AuditEvent.objects.filter(action="scim.key_revoke", actor_user=staff_user)
    assert {(event.organisation, event.actor_kind) for event in events} == {
        (org, ActorKind.ADMIN),
        (other_org, ActorKind.ADMIN),
    }
    messages = [str(message) for message in response.context["messages"]]
    assert f"acme: revoked {acme.record.prefix}…." in messages
    assert f"globex: revoked {globex.record.prefix}…." in messages
    assert f"{already.prefix}… (acme): was already revoked." in messages


def test_revoke_action_leaves_unselected_keys_alone(staff_client, scim_world):
    acme, globex = scim_world["acme"], scim_world["globex"]

    staff_client.post(
        _url("scimkey", "changelist"),
        {"action": "revoke_keys", "_selected_action": [acme.record.pk]},
    )

    assert keys.verify(acme.secret) is None
    assert keys.verify(globex.secret) is not None


@pytest.mark.parametrize(
    ("params", "labels"),
    [
        ({"q": "dup@acme"}, {"dup@acme.test"}),
        ({"q": "userName is taken"}, {"dup@acme.test"}),
        ({"q": "excludedAttributes"}, {""}),
        ({"outcome__exact": "failed"}, {"dup@acme.test"}),
        ({"method__exact": "GET"}, {""}),
        ({"status__exact": "409"}, {"dup@acme.test"}),
    ],
)
def test_request_list_search_and_filters(staff_client, scim_world, params, labels):
    response = staff_client.get(_url("scimrequest", "changelist"), params)

    rows = response.context["cl"].result_list
    assert {row.resource_label for row in rows} == labels


def test_request_list_filters_by_organisation(staff_client, scim_world, other_org):
    response = staff_client.get(
        _url("scimrequest", "changelist"), {"organisation__id__exact": other_org.pk}
    )

    assert [row.organisation for row in response.context["cl"].result_list] == [other_org]


def test_request_page_shows_the_summary_as_json_and_the_explanation(staff_client, scim_world):
    row = scim_world["requests"][0]

    response = staff_client.get(_url("scimrequest", "change", row.pk))

    content = response.content.decode()
    assert "&quot;password&quot;: &quot;(not recorded)&quot;" in content
    assert "the userName is taken." in content


@pytest.mark.parametrize("model", ["scimkey", "scimrequest"])
def test_changelist_query_count_does_not_grow_with_the_rows(staff_client, scim_world, model):
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert staff_client.get(_url(model, "changelist")).status_code == 200
        return len(captured)

    before = queries()
    for _ in range(5):
        organisation = factories.organisation()
        admin = factories.user(organisation)
        services.organisation_update(organisation=organisation, actor=SYSTEM, scim_enabled=True)
        keys.issue(organisation=organisation, actor=SYSTEM, created_by=admin)
        ScimRequest.objects.create(
            organisation=organisation,
            method="GET",
            path="/x",
            status=200,
            outcome=Outcome.SUCCEEDED,
            duration_ms=1,
        )

    assert queries() == before


def test_organisation_people_cannot_open_the_scim_admin(client, primary_admin):
    client.force_login(primary_admin)

    response = client.get(_url("scimkey", "changelist"))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


def test_the_request_list_reads_the_log_once_for_its_count_and_never_all_its_dates(
    staff_client, scim_world
):
    with CaptureQueriesContext(connection) as captured:
        response = staff_client.get(_url("scimrequest", "changelist"))
    log_reads = [q["sql"] for q in captured if 'FROM "scim_scimrequest"' in q["sql"]]

    assert response.status_code == 200
    assert sum("COUNT(" in sql for sql in log_reads) == 1  # not a second one of the whole log
    assert not any("DISTINCT" in sql for sql in log_reads)  # no list of years or months


def test_the_request_list_filters_by_date_range(staff_client, scim_world):
    old = scim_world["requests"][0]
    ScimRequest.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=20))

    response = staff_client.get(
        _url("scimrequest", "changelist"),
        {"created_at__gte": str(timezone.now() - timedelta(days=7))},  # as its links say it
    )

    rows = response.context["cl"].result_list
    assert old.pk not in {row.pk for row in rows} and len(rows) >= 1


@pytest.mark.parametrize("params", [{"status__exact": "abc"}, {"method__exact": "TRACE"}])
def test_a_filter_value_the_list_does_not_know_shows_everything(staff_client, scim_world, params):
    response = staff_client.get(_url("scimrequest", "changelist"), params)

    assert response.status_code == 200
    assert len(response.context["cl"].result_list) == len(scim_world["requests"])
