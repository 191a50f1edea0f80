"""Settings → Single Sign-on → Okta / Entra ID → SCIM: the organisation's own attributes. The
list with what to type into Okta's profile editor or Entra's attribute list, the add form, and
removal after a confirmation page of its own. Primary admins only; always their own
organisation."""

import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from pytest_django.asserts import assertContains, assertNotContains

from accounts import services
from accounts.models import ActorKind, AuditEvent, CustomAttribute, Role, User
from sso import services as sso_services
from tests import factories

SYSTEM = factories.SYSTEM
URN = "urn:ietf:params:scim:schemas:extension:auzlearn:2.0:User"


def tab(provider: str = "okta") -> str:
    return reverse("scim_settings:scim", args=[provider])


def add_url(provider: str = "okta") -> str:
    return reverse("scim_settings:attribute-add", args=[provider])


def remove_url(attribute: CustomAttribute, provider: str = "okta") -> str:
    return reverse("scim_settings:attribute-remove", args=[provider, attribute.pk])


def define(org, name="costCentre", type="string", description=""):
    return services.custom_attribute_add(
        organisation=org, actor=SYSTEM, name=name, type=type, description=description
    )


def own_attributes(response) -> str:
    """The "Your own attributes" panel of the SCIM tab, as HTML."""
    html = response.content.decode()
    start = html.index('<section class="panel" aria-labelledby="own-attributes-heading">')
    return html[start : html.index("</section>", start)]


@pytest.fixture
def admin_client(client, primary_admin):
    client.force_login(primary_admin)
    return client


# --- the list --------------------------------------------------------------------------------


def test_with_no_attributes_the_tab_says_so_and_offers_the_form(admin_client):
    response = admin_client.get(tab())

    panel = own_attributes(response)
    assert '<h2 id="own-attributes-heading">Your own attributes</h2>' in panel
    assert '<p class="empty">None yet.</p>' in panel
    assert '<label for="id_name">Name</label>' in panel
    assert '<label for="id_type">Type</label>' in panel
    assert '<option value="dateTime">Date and time (dateTime)</option>' in panel
    assert '<label for="id_description">Description (optional)</label>' in panel
    assert ">Add attribute</button>" in panel
    assert "In Okta" not in panel  # the steps come with something to type


def test_okta_tab_gives_the_exact_strings_for_oktas_profile_editor(admin_client, org):
    define(org, "costCentre", "string", "Finance's code")
    define(org, "fte", "decimal")
    define(org, "hireDate", "dateTime")

    panel = own_attributes(admin_client.get(tab("okta")))

    assert f'id="extension-urn" class="copy-value" value="{URN}"' in panel
    assert '<label for="extension-urn">External namespace' in panel
    names = re.findall(r'<h3 id="attribute-\d+"><code>([^<]+)</code>', panel)
    assert names == ["costCentre", "fte", "hireDate"]
    assert "<p>Finance&#x27;s code</p>" in panel
    expected = {
        "costCentre": ("string", ""),
        "fte": ("number", ""),
        "hireDate": ("string", "Okta has no date type: keep the value as ISO 8601 text"),
    }
    for name, (okta_type, note) in expected.items():
        item = panel[panel.index(f"<code>{name}</code> <span") :]
        item = item[: item.index("</li>")]
        assert f"<dt>External name</dt><dd><code>{name}</code></dd>" in item
        assert f"<dt>External namespace</dt><dd><code>{URN}</code></dd>" in item
        assert f"<dt>Data type</dt><dd><code>{okta_type}</code>" in item
        assert note in item
    for words in [
        "<strong>Directory</strong> → <strong>Profile Editor</strong>",
        "<strong>Add Attribute</strong>",
        "<strong>Save Mappings</strong>, then <strong>Apply updates now</strong>",
    ]:
        assert words in panel
    assert "Edit attribute list" not in panel


def test_entra_tab_gives_the_target_attribute_and_type_for_entras_attribute_list(admin_client, org):
    define(org, "costCentre", "string")
    define(org, "fte", "decimal")
    define(org, "onboarded", "boolean")
    define(org, "hireDate", "dateTime")
    define(org, "level", "integer")

    panel = own_attributes(admin_client.get(tab("entra")))

    for name, entra_type in [
        ("costCentre", "String"),
        ("fte", "String"),
        ("onboarded", "Boolean"),
        ("hireDate", "DateTime"),
        ("level", "Integer"),
    ]:
        item = panel[panel.index(f"<code>{name}</code> <span") :]
        item = item[: item.index("</li>")]
        assert f"<dd><code>{URN}:{name}</code></dd>" in item
        assert f"<dt>Type</dt><dd><code>{entra_type}</code>" in item
    assert "Entra has no decimal type: send the number as text" in panel
    assert "<strong>Edit attribute list for</strong>" in panel
    assert "<strong>Add New Mapping</strong>" in panel
    assert "External namespace" not in panel


# --- adding ----------------------------------------------------------------------------------


def test_primary_admin_adds_an_attribute_and_the_audit_trail_names_them(
    admin_client, org, primary_admin
):
    response = admin_client.post(
        add_url(), {"name": "costCentre", "type": "string", "description": "Finance's code"}
    )

    assert response.status_code == 302
    assert response["Location"] == tab() + "#main"
    assert list(
        CustomAttribute.objects.values_list("organisation", "name", "type", "description")
    ) == [(org.pk, "costCentre", "string", "Finance's code")]
    event = AuditEvent.objects.get(action="custom_attribute.add")
    assert (event.organisation, event.actor_kind, event.actor_user) == (
        org,
        ActorKind.ADMIN,
        primary_admin,
    )
    page = admin_client.get(tab())
    assertContains(
        page, "costCentre added. Add it to Okta with the values shown under Your own attributes."
    )
    assertContains(page, "<dt>External name</dt><dd><code>costCentre</code></dd>")


@pytest.mark.parametrize(
    ("posted", "field", "error"),
    [
        (
            {"name": "cost centre", "type": "string"},
            "name",
            "&#x27;cost centre&#x27; is not a SCIM attribute name: use 1 to 64 letters, digits, "
            "hyphens and underscores, starting with a letter.",
        ),
        (
            {"name": "COSTCENTRE", "type": "integer"},
            "name",
            "This organisation already has an attribute named &#x27;COSTCENTRE&#x27; (SCIM "
            "compares attribute names ignoring case).",
        ),
        (
            {"name": "level", "type": "float"},
            "type",
            "Select a valid choice. float is not one of the available choices.",
        ),
        ({"name": "", "type": "string"}, "name", "This field is required."),
        (
            {"name": "level", "type": "integer", "description": "x" * 501},
            "description",
            "Ensure this value has at most 500 characters (it has 501).",
        ),
    ],
    ids=["grammar", "taken", "type", "empty", "description"],
)
def test_a_refused_attribute_is_shown_next_to_its_field_and_nothing_changes(
    admin_client, org, posted, field, error
):
    define(org, "costCentre")
    before = AuditEvent.objects.count()

    response = admin_client.post(add_url(), posted)

    assert response.status_code == 200
    assertContains(
        response, f'<p class="field-error" id="id_{field}_error">{error}</p>', html=False
    )
    assertContains(response, '<div class="field has-error">', count=1)
    assert list(CustomAttribute.objects.values_list("name", flat=True)) == ["costCentre"]
    assert AuditEvent.objects.count() == before


# --- removing --------------------------------------------------------------------------------


def test_removing_asks_first_on_a_page_of_its_own_saying_what_goes(admin_client, org, learner):
    attribute = define(org, "costCentre")
    services.user_set_custom_attributes(user=learner, actor=SYSTEM, values={"costCentre": "CC-1"})
    okta = sso_services.connection_for(organisation=org, provider="okta")
    sso_services.connection_map_attribute(
        connection=okta, actor=SYSTEM, attribute="dept_code", target="custom:costCentre"
    )

    response = admin_client.post(remove_url(attribute))

    assert response.status_code == 200
    assertContains(response, '<h2 id="confirm-heading">Remove costCentre?</h2>', html=False)
    assertContains(
        response,
        "SCIM stops publishing and accepting costCentre at once: remove its mapping in Okta too.",
    )
    assertContains(
        response,
        "1 person&#x27;s value of it will be deleted. This cannot be undone: adding an attribute "
        "of the same name later starts without values.",
    )
    assertContains(
        response,
        "Sign-ins stop setting it: the SAML attribute mapping of “dept_code” on Okta will do "
        "nothing until an attribute of this name exists again.",
    )
    assertContains(response, f'action="{remove_url(attribute)}"')
    assertContains(response, '<input type="hidden" name="confirm" value="yes">')
    assertContains(response, f'<a class="button secondary" href="{tab()}">Cancel</a>')
    assert CustomAttribute.objects.filter(pk=attribute.pk).exists()
    learner.refresh_from_db()
    assert learner.custom_attributes == {"costCentre": "CC-1"}
    assert not AuditEvent.objects.filter(action="custom_attribute.remove").exists()


def test_confirmed_removal_deletes_the_attribute_and_its_values_and_is_audited(
    admin_client, org, primary_admin, learner
):
    attribute = define(org, "costCentre")
    define(org, "track")
    other = factories.user(org, "other@acme.test")
    for person in (learner, other):
        services.user_set_custom_attributes(
            user=person, actor=SYSTEM, values={"costCentre": "CC-1", "track": "Sales"}
        )

    response = admin_client.post(remove_url(attribute), {"confirm": "yes"})

    assert response.status_code == 302 and response["Location"] == tab()
    assert list(CustomAttribute.objects.values_list("name", flat=True)) == ["track"]
    assert [person.custom_attributes for person in User.objects.filter(organisation=org)] == [
        {},  # the primary admin never had one
        {"track": "Sales"},
        {"track": "Sales"},
    ]
    event = AuditEvent.objects.get(action="custom_attribute.remove")
    assert (event.actor_user, event.changes) == (
        primary_admin,
        {"name": "costCentre", "type": "string", "values_deleted": 2},
    )
    page = admin_client.get(tab())
    assertContains(page, "costCentre removed; 2 people&#x27;s values deleted.")
    assertNotContains(page, "<code>costCentre</code>")


def test_removing_an_attribute_nobody_has_says_so(admin_client, org):
    attribute = define(org, "costCentre")

    confirmation = admin_client.post(remove_url(attribute))
    admin_client.post(remove_url(attribute), {"confirm": "yes"})

    assertContains(confirmation, "Nobody has a value of it yet.")
    assertContains(admin_client.get(tab()), "costCentre removed; nobody had a value of it.")


# --- who may --------------------------------------------------------------------------------


def test_another_organisations_attribute_is_a_404_and_stays(client, org, other_org, learner):
    theirs = define(other_org, "costCentre")
    define(org, "costCentre")
    admin = factories.user(org, "boss@acme.test", role=Role.PRIMARY_ADMIN)
    client.force_login(admin)

    assert client.post(remove_url(theirs)).status_code == 404
    assert client.post(remove_url(theirs), {"confirm": "yes"}).status_code == 404
    assert client.post(remove_url(theirs, "entra"), {"confirm": "yes"}).status_code == 404

    assert CustomAttribute.objects.filter(pk=theirs.pk).exists()
    page = own_attributes(client.get(tab()))
    assert page.count("<code>costCentre</code> <span") == 1  # their own only
    assert not AuditEvent.objects.filter(action="custom_attribute.remove").exists()


def test_an_unknown_attribute_id_is_a_404(admin_client):
    assert admin_client.post("/settings/sso/okta/scim/attributes/999999/remove/").status_code == 404


def test_attributes_added_by_one_organisation_stay_its_own(client, org, other_org):
    globex_admin = factories.user(other_org, "admin@globex.test", role=Role.PRIMARY_ADMIN)
    client.force_login(globex_admin)

    client.post(add_url(), {"name": "costCentre", "type": "string"})

    assert list(CustomAttribute.objects.values_list("organisation", flat=True)) == [other_org.pk]
    acme = Client()
    acme.force_login(factories.user(org, "admin@acme.test", role=Role.PRIMARY_ADMIN))
    assert '<p class="empty">None yet.</p>' in own_attributes(acme.get(tab()))


@pytest.mark.parametrize("role", [Role.ADMIN, Role.MANAGER, Role.LEARNER])
def test_other_roles_can_neither_add_nor_remove(client, org, role):
    attribute = define(org, "costCentre")
    client.force_login(factories.user(org, f"{role}@acme.test", role=role))

    assert client.post(add_url(), {"name": "track", "type": "string"}).status_code == 403
    assert client.post(remove_url(attribute), {"confirm": "yes"}).status_code == 403

    assert list(CustomAttribute.objects.values_list("name", flat=True)) == ["costCentre"]


def test_support_staff_are_refused(client, org, staff_user):
    attribute = define(org, "costCentre")
    client.force_login(staff_user)

    assert client.post(add_url(), {"name": "track", "type": "string"}).status_code == 403
    assert client.post(remove_url(attribute), {"confirm": "yes"}).status_code == 403
    assert CustomAttribute.objects.count() == 1


def test_anonymous_visitors_are_sent_to_sign_in(client, org):
    attribute = define(org, "costCentre")

    for url in (add_url(), remove_url(attribute)):
        response = client.post(url, {"name": "track", "type": "string", "confirm": "yes"})
        assert response.status_code == 302
        assert response.url == f"{reverse('accounts:login')}?next={url}"
    assert CustomAttribute.objects.count() == 1


@pytest.mark.parametrize("provider", ["google", "saml"])
def test_providers_without_scim_have_no_attribute_forms(admin_client, org, provider):
    attribute = define(org, "costCentre")

    assert admin_client.post(f"/settings/sso/{provider}/scim/attributes/").status_code == 404
    path = f"/settings/sso/{provider}/scim/attributes/{attribute.pk}/remove/"
    assert admin_client.post(path, {"confirm": "yes"}).status_code == 404


def test_the_forms_refuse_get(admin_client, org):
    attribute = define(org, "costCentre")

    assert admin_client.get(add_url()).status_code == 405
    assert admin_client.get(remove_url(attribute)).status_code == 405


def test_every_form_needs_the_csrf_token(org, primary_admin):
    attribute = define(org, "costCentre")
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(primary_admin)

    assert browser.post(add_url(), {"name": "track", "type": "string"}).status_code == 403
    assert browser.post(remove_url(attribute), {"confirm": "yes"}).status_code == 403

    assert list(CustomAttribute.objects.values_list("name", flat=True)) == ["costCentre"]


def test_the_forms_work_with_the_token_the_page_gives(org, primary_admin):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(primary_admin)
    token = re.search(
        r'name="csrfmiddlewaretoken" value="([^"]+)"', browser.get(tab()).content.decode()
    )
    assert token is not None

    added = browser.post(
        add_url(),
        {"name": "track", "type": "string", "csrfmiddlewaretoken": token.group(1)},
    )
    removed = browser.post(
        remove_url(CustomAttribute.objects.get()),
        {"confirm": "yes", "csrfmiddlewaretoken": token.group(1)},
    )

    assert (added.status_code, removed.status_code) == (302, 302)
    assert not CustomAttribute.objects.exists()


def test_the_tab_takes_as_many_queries_for_eleven_attributes_as_for_one(admin_client, org):
    define(org, "a1")
    one = _queries(admin_client)
    for n in range(2, 12):
        define(org, f"a{n}", "integer")

    assert _queries(admin_client) == one


def _queries(client) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(tab()).status_code == 200
    return len(captured)
