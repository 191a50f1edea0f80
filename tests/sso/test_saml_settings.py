"""Settings → Single Sign-on → <provider>: the SAML tab (the values to copy into the IdP, Upload
Metadata XML, the switches, Test sign-in and its result), the Activity tab's sign-in log and the
providers overview. Primary admins only; always the admin's own organisation.

Metadata comes from the test IdP (tests/sso/idp.py), shaped as each vendor publishes it. URLs
that would need the network point at loopback addresses, which the fetcher refuses before
connecting: these tests never leave the machine.
"""

import html
import re
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection as db_connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from pytest_django.asserts import assertContains, assertNotContains, assertTemplateUsed

from accounts import services as accounts_services
from accounts.models import ActorKind, AuditEvent, Role
from sso import services
from sso.attributes import CLAIMS
from sso.forms import ONE_SOURCE, TOO_LARGE, MetadataForm, MetadataRefused, Upload, load_metadata
from sso.metadata import MAX_METADATA_BYTES, parse_metadata
from sso.models import PendingSignIn, SamlConnection, SignInAttempt, SignInOutcome
from sso.saml_views import PENDING_COOKIE
from tests import factories
from tests.sso import idp as test_idp

SYSTEM = factories.SYSTEM
PROVIDERS = ["okta", "entra", "google", "saml"]
FORMS = ["saml-metadata", "saml-switches", "saml-test"]


# The provider's home and the Activity tab show sso and scim together (console.urls).
CONSOLE = {"provider", "activity"}


def url(name: str, provider: str = "okta", *args: object) -> str:
    namespace = "console" if name in CONSOLE else "sso_settings"
    return reverse(f"{namespace}:{name}", args=[provider, *args])


@pytest.fixture(autouse=True)
def https_site(settings):
    """Served over https, as in production: a Test sign-in with an IdP on another site needs it
    (sso.same_site); the plain-http case has tests of its own below."""
    settings.PUBLIC_BASE_URL = "https://lms.example.com"


@pytest.fixture
def admin_client(client, primary_admin):
    client.force_login(primary_admin)
    return client


@pytest.fixture
def okta():
    return test_idp.okta_idp()


def configure(org, idp, provider: str = "okta", **switches: bool) -> SamlConnection:
    """A connection configured from the IdP's metadata, as an upload would leave it."""
    connection = services.connection_for(organisation=org, provider=provider)
    xml = idp.metadata_xml()
    services.connection_configure(
        connection=connection,
        actor=SYSTEM,
        metadata=parse_metadata(xml),
        metadata_xml=xml.decode(),
    )
    if switches:
        current = {
            "enabled": connection.enabled,
            "allow_idp_initiated": connection.allow_idp_initiated,
            "jit_provisioning": connection.jit_provisioning,
        }
        services.connection_switches(connection=connection, actor=SYSTEM, **{**current, **switches})
    return connection


def xml_file(content: bytes, name: str = "metadata.xml") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="application/xml")


def stored(connection: SamlConnection) -> dict[str, Any]:
    return dict(SamlConnection.objects.filter(pk=connection.pk).values().get())


def attempt(org, connection, minutes_ago: float = 0, **fields) -> SignInAttempt:
    values = {
        "outcome": SignInOutcome.SIGNED_IN,
        "name_id": "lee@acme.test",
        "ip": "203.0.113.7",
    }
    values.update(fields)
    return SignInAttempt.objects.create(
        organisation=org,
        connection=connection,
        created_at=timezone.now() - timedelta(minutes=minutes_ago),
        **values,
    )


# --- addresses -------------------------------------------------------------------------------


def test_saml_and_activity_tabs_live_below_the_provider_settings_path():
    assert url("provider") == "/settings/sso/okta/"
    assert url("saml", "google") == "/settings/sso/google/saml/"
    assert url("saml-metadata") == "/settings/sso/okta/saml/metadata/"
    assert url("saml-switches") == "/settings/sso/okta/saml/switches/"
    assert url("saml-test", "saml") == "/settings/sso/saml/saml/test/"
    assert url("saml-test-result", "entra", 42) == "/settings/sso/entra/saml/test/42/"
    assert url("activity", "saml") == "/settings/sso/saml/activity/"


@pytest.mark.parametrize("provider", PROVIDERS)
def test_every_provider_opens_on_its_saml_tab(admin_client, provider):
    response = admin_client.get(url("provider", provider))

    assert response.status_code == 302
    assert response.url == url("saml", provider)


@pytest.mark.parametrize("path", ["unknown/", "unknown/saml/", "other/saml/", "OKTA/saml/"])
def test_unknown_providers_have_no_pages(admin_client, path):
    assert admin_client.get(f"/settings/sso/{path}").status_code == 404


# --- the SAML tab: what to copy into the identity provider ------------------------------------


@pytest.mark.parametrize(
    ("provider", "name", "acs_label", "entity_label", "relay_label", "has_scim"),
    [
        (
            "okta",
            "Okta",
            "Single sign-on URL",
            "Audience URI (SP Entity ID)",
            "Default RelayState",
            True,
        ),
        (
            "entra",
            "Microsoft Entra ID",
            "Reply URL (Assertion Consumer Service URL)",
            "Identifier (Entity ID)",
            "Relay State (Optional)",
            True,
        ),
        ("google", "Google Workspace", "ACS URL", "Entity ID", "Start URL (optional)", False),
        (
            "saml",
            "Other SAML 2.0",
            "Assertion Consumer Service (ACS) URL",
            "Entity ID (Audience)",
            "RelayState",
            False,
        ),
    ],
)
def test_saml_tab_shows_the_values_to_copy_in_the_providers_words(
    admin_client, org, provider, name, acs_label, entity_label, relay_label, has_scim
):
    response = admin_client.get(url("saml", provider))

    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    assertTemplateUsed(response, "settings/provider.html")
    connection = SamlConnection.objects.get(organisation=org, provider=provider)
    assertContains(response, f"<h1>{name}</h1>")
    assertContains(response, f'<label for="acs-url">{acs_label}')
    assertContains(response, f'id="acs-url" class="copy-value" value="{connection.acs_url}"')
    assertContains(response, f'<label for="entity-id">{html.escape(entity_label)}')
    assertContains(response, f'id="entity-id" class="copy-value" value="{connection.sp_entity_id}"')
    assertContains(response, f'<label for="relay-state">{relay_label}')
    assertContains(response, 'id="relay-state" class="copy-value" value="/"')
    assertContains(
        response, f'id="sp-metadata-url" class="copy-value" value="{connection.sp_entity_id}"'
    )
    for field in ["acs-url", "entity-id", "relay-state", "sp-metadata-url"]:
        assertContains(response, f'data-copy="{field}" hidden>Copy')
    assertContains(response, "js/copy.js")
    assertContains(response, '<p id="copy-status" class="visually-hidden" aria-live="polite">')
    assertContains(response, f'href="{url("saml", provider)}" aria-current="page">SAML</a>')
    assertContains(response, f'href="{url("activity", provider)}">Activity</a>')
    scim_tab = f'href="/settings/sso/{provider}/scim/">SCIM</a>'
    if has_scim:
        assertContains(response, scim_tab)
    else:
        assertNotContains(response, scim_tab)


@pytest.mark.parametrize(
    ("provider", "names"),
    [
        ("okta", ["FirstName", "LastName", "Email"]),
        ("google", ["FirstName", "LastName", "Email"]),
        ("saml", ["FirstName", "LastName", "Email"]),
        ("entra", [f"{CLAIMS}/givenname", f"{CLAIMS}/surname", f"{CLAIMS}/emailaddress"]),
    ],
)
def test_saml_tab_names_the_exact_attributes_to_send(admin_client, provider, names):
    response = admin_client.get(url("saml", provider))

    for number, name in enumerate(names, start=1):
        assertContains(response, f'<label for="attribute-{number}">')
        assertContains(response, f'id="attribute-{number}" class="copy-value" value="{name}"')
        assertContains(response, f'data-copy="attribute-{number}" hidden>Copy')


def test_okta_steps_use_the_words_of_oktas_screens(admin_client):
    response = admin_client.get(url("saml", "okta"))

    for words in [
        "Create App Integration",
        "<strong>SAML 2.0</strong>",
        "<dt>Single sign-on URL</dt>",
        "<dt>Audience URI (SP Entity ID)</dt>",
        "<dt>Default RelayState</dt><dd><code>/</code></dd>",
        "<dt>Name ID format</dt><dd><strong>Unspecified</strong> (or <strong>EmailAddress",
        "<dt>Application username</dt><dd><strong>Okta username</strong>",
        "Attribute Statements",
        "<code>user.firstName</code>",
        'First name <span class="aka">(in Okta: user.firstName)</span>',
        "View SAML setup instructions",
        "Identity Provider metadata",
        "SCIM 2.0 Test App (OAuth Bearer Token)",
    ]:
        assertContains(response, words)
    assertNotContains(response, "Reply URL")


def test_entra_steps_use_the_words_of_entras_screens(admin_client):
    response = admin_client.get(url("saml", "entra"))

    for words in [
        "<strong>Enterprise applications</strong>",
        "<strong>New application</strong>",
        "open <strong>Single sign-on</strong> and select <strong>SAML</strong>",
        "<strong>Basic SAML Configuration</strong>",
        "<dt>Identifier (Entity ID)</dt>",
        "<dt>Reply URL (Assertion Consumer Service URL)</dt>",
        "Attributes &amp; Claims",
        "<strong>SAML Certificates</strong>",
        "<strong>Federation Metadata XML</strong>",
        "<strong>App Federation Metadata Url</strong>",
        "user.userprincipalname",
    ]:
        assertContains(response, words)
    assertNotContains(response, "Audience URI")


def test_google_steps_use_the_words_of_googles_screens(admin_client):
    response = admin_client.get(url("saml", "google"))

    for words in [
        "Google Admin console",
        "<strong>Apps</strong> → <strong>Web and mobile apps</strong>",
        "<strong>Add custom SAML app</strong>",
        "<dt>ACS URL</dt>",
        "<dt>Entity ID</dt>",
        "Primary email",
        "<strong>Attribute mapping</strong>",
        "<strong>Download metadata</strong>",
    ]:
        assertContains(response, words)


def test_other_saml_steps_are_generic(admin_client):
    response = admin_client.get(url("saml", "saml"))

    assertContains(response, "Set up sign-in in your identity provider")
    assertContains(response, "SHA-256")
    assertNotContains(response, "Okta username")


def test_before_any_upload_the_tab_says_what_to_do_and_offers_no_test(admin_client):
    response = admin_client.get(url("saml"))

    assertContains(response, '<span class="badge off">Not uploaded</span>')
    assertContains(response, '<h3 id="upload-heading">Upload Metadata XML</h3>')
    assertContains(response, "Upload Okta's metadata first: single sign-on cannot be turned on")
    assertContains(response, 'class="button primary" disabled aria-describedby="test-help"')
    assertNotContains(response, "?download=1")
    assertNotContains(response, "Signing certificates")


def test_the_sp_metadata_download_link_works_once_metadata_is_uploaded(admin_client, org, okta):
    connection = configure(org, okta)

    response = admin_client.get(url("saml"))

    assertContains(response, f'href="{connection.sp_entity_id}?download=1" download>')
    xml = admin_client.get(urlsplit(connection.sp_entity_id).path, {"download": "1"})
    assert xml.status_code == 200
    assert xml["Content-Disposition"].startswith("attachment")
    assert connection.acs_url.encode() in xml.content


# --- Upload Metadata XML ------------------------------------------------------------------------


def test_uploading_okta_metadata_as_a_file_configures_the_connection(
    admin_client, org, primary_admin, okta
):
    response = admin_client.post(
        url("saml-metadata"), {"metadata_file": xml_file(okta.metadata_xml())}
    )

    assert response.status_code == 302
    assert response.url == url("saml") + "#main"  # the top, where the message is
    connection = SamlConnection.objects.get(organisation=org, provider="okta")
    assert connection.idp_entity_id == okta.entity_id
    assert connection.idp_sso_url == okta.sso_url
    assert connection.idp_slo_url == ""
    assert connection.metadata_url == ""
    assert connection.metadata_xml == okta.metadata_xml().decode()
    certificate = okta.keys[0].certificate
    fingerprint = certificate.fingerprint(certificate.signature_hash_algorithm).hex(":").upper()
    assert [cert["fingerprint_sha256"] for cert in connection.certificates] == [fingerprint]
    assert not connection.enabled  # uploading configures; turning on is a switch of its own
    event = AuditEvent.objects.get(organisation=org, action="saml.configure")
    assert (event.actor_kind, event.actor_user) == (ActorKind.ADMIN, primary_admin)
    assert event.changes["idp_entity_id"] == okta.entity_id

    page = admin_client.get(response.url)

    assertContains(page, f"Metadata saved: sign-ins from {okta.entity_id} signed with its")
    assertContains(page, '<span class="badge on">Uploaded</span>')
    assertContains(page, f"<dd><code>{okta.entity_id}</code></dd>")
    assertContains(page, f"<dd><code>{okta.sso_url}</code></dd>")
    assertContains(page, "none: signing out of auzlearn does not sign people out of Okta")
    assertContains(page, "<strong>CN=acme (Okta)</strong>")
    assertContains(page, f"<code>{fingerprint}</code>")
    expires = certificate.not_valid_after_utc.isoformat()
    assertContains(page, f'<time datetime="{expires}">')
    assertContains(page, '<li class="certificate">')  # neither expiring nor expired
    assertContains(page, '<h3 id="upload-heading">Replace the metadata</h3>')


def test_pasting_entra_metadata_keeps_both_certificates_and_the_sign_out_url(admin_client, org):
    current = test_idp.make_key_pair("Entra current", days_valid=400)
    upcoming = test_idp.make_key_pair("Entra upcoming", days_valid=1000)
    entra = test_idp.entra_idp(keys=[current, upcoming])

    response = admin_client.post(
        url("saml-metadata", "entra"), {"metadata_xml": entra.metadata_xml().decode()}
    )

    assert response.status_code == 302
    connection = SamlConnection.objects.get(organisation=org, provider="entra")
    assert [cert["subject"] for cert in connection.certificates] == [
        "CN=Entra current",
        "CN=Entra upcoming",
    ]
    assert connection.idp_slo_url == entra.slo_url
    page = admin_client.get(url("saml", "entra"))
    assertContains(page, "<strong>CN=Entra current</strong>")
    assertContains(page, "<strong>CN=Entra upcoming</strong>")
    assertContains(page, f"<dd><code>{entra.slo_url}</code></dd>")
    assertContains(page, "signed with one of its 2 certificates")


def test_uploading_google_metadata_as_a_file(admin_client, org):
    google = test_idp.google_idp()

    response = admin_client.post(
        url("saml-metadata", "google"),
        {"metadata_file": xml_file(google.metadata_xml(), "GoogleIDPMetadata.xml")},
    )

    assert response.status_code == 302
    connection = SamlConnection.objects.get(organisation=org, provider="google")
    assert connection.idp_entity_id == google.entity_id
    assert connection.idp_sso_url == google.sso_url
    assert len(connection.certificates) == 1


def test_uploading_again_replaces_the_configuration_and_audits_the_certificate_change(
    admin_client, org, okta
):
    configure(org, okta)
    rotated = test_idp.okta_idp(signing_key=test_idp.make_key_pair("acme (Okta) 2027"))

    admin_client.post(url("saml-metadata"), {"metadata_xml": rotated.metadata_xml().decode()})

    connection = SamlConnection.objects.get(organisation=org, provider="okta")
    assert [cert["subject"] for cert in connection.certificates] == ["CN=acme (Okta) 2027"]
    event = AuditEvent.objects.filter(action="saml.configure").latest("id")
    assert event.actor_kind == ActorKind.ADMIN
    assert set(event.changes["certificates"]) == {"before", "after"}


def test_certificates_expiring_soon_or_expired_are_flagged(admin_client, org):
    expired = test_idp.make_key_pair("old", days_valid=10, not_before_days_ago=30)
    expiring = test_idp.make_key_pair("current", days_valid=40, not_before_days_ago=10)
    later = test_idp.make_key_pair("next", days_valid=800)
    configure(org, test_idp.entra_idp(keys=[later, expired, expiring]), "entra")

    response = admin_client.get(url("saml", "entra"))

    html_text = response.content.decode()
    order = [html_text.index(f"<strong>CN={name}</strong>") for name in ["old", "current", "next"]]
    assert order == sorted(order)  # soonest expiry first
    assertContains(response, '<li class="certificate expired">', count=1)
    assertContains(response, '<li class="certificate expiring">', count=1)
    assertContains(response, '<li class="certificate">', count=1)
    assertContains(response, '<span class="badge failed">Expired</span>', count=1)
    assertContains(response, '<span class="badge warn">Expires soon</span>', count=1)
    assertContains(response, "This certificate has expired: sign-ins signed with it are refused.")
    assertContains(response, "Expires within 60 days.")


def test_a_metadata_url_shows_its_last_refresh_and_last_error(admin_client, org, okta):
    connection = services.connection_for(organisation=org, provider="okta")
    xml = okta.metadata_xml()
    services.connection_configure(
        connection=connection,
        actor=SYSTEM,
        metadata=parse_metadata(xml),
        metadata_xml=xml.decode(),
        metadata_url="https://acme.okta.com/app/exk1abcd2EFGH3ijk4l5/sso/saml/metadata",
    )
    services.connection_refresh_failed(
        connection=connection, error="The metadata URL answered 404 (Not Found)."
    )

    response = admin_client.get(url("saml"))

    assertContains(
        response, "<code>https://acme.okta.com/app/exk1abcd2EFGH3ijk4l5/sso/saml/metadata</code>"
    )
    refreshed = connection.metadata_refreshed_at
    assert refreshed is not None
    assertContains(response, f'<dt>Last refreshed</dt><dd><time datetime="{refreshed.isoformat()}')
    assertContains(
        response,
        "Failed: The metadata URL answered 404 (Not Found). The configuration shown is the "
        "last good one.",
    )


def _without_key_descriptors(xml: bytes) -> bytes:
    return re.sub(rb"<md:KeyDescriptor.*?</md:KeyDescriptor>", b"", xml, flags=re.S)


def _too_large() -> bytes:
    return b"<?xml version='1.0'?><md:EntityDescriptor>" + b" " * MAX_METADATA_BYTES


BAD_INPUTS: dict[str, tuple[dict[str, Any], str | None, str]] = {
    "not XML": ({"metadata_xml": "this is not metadata"}, "metadata_xml", "is not valid XML"),
    "a DTD": (
        {
            "metadata_xml": '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "a">]>'
            '<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" '
            'entityID="&a;"/>'
        },
        "metadata_xml",
        "contains a DOCTYPE declaration",
    ),
    "our own SP metadata": (
        {
            "metadata_file": lambda: xml_file(
                b'<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" '
                b'entityID="https://sp.example/"><md:SPSSODescriptor '
                b'protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">'
                b"</md:SPSSODescriptor></md:EntityDescriptor>"
            )
        },
        "metadata_file",
        "This is service-provider metadata",
    ),
    "an http sign-in URL": (
        {
            "metadata_xml": lambda: (
                test_idp.okta_idp(sso_url="http://acme.okta.com/app/sso/saml")
                .metadata_xml()
                .decode()
            )
        },
        "metadata_xml",
        "must use https, but it is http://acme.okta.com/app/sso/saml",
    ),
    "no signing certificate": (
        {
            "metadata_file": lambda: xml_file(
                _without_key_descriptors(test_idp.okta_idp().metadata_xml())
            )
        },
        "metadata_file",
        "lists no signing certificate",
    ),
    "a file that is too large": (
        {"metadata_file": lambda: xml_file(_too_large())},
        "metadata_file",
        TOO_LARGE,
    ),
    "an empty file": ({"metadata_file": lambda: xml_file(b"")}, "metadata_file", "is empty"),
    "more than one source": (
        {
            "metadata_file": lambda: xml_file(test_idp.okta_idp().metadata_xml()),
            "metadata_xml": lambda: test_idp.okta_idp().metadata_xml().decode(),
        },
        None,
        ONE_SOURCE,
    ),
    "no source": ({"metadata_xml": "   ", "metadata_url": ""}, None, ONE_SOURCE),
    "an http URL": (
        {"metadata_url": "http://acme.okta.com/metadata"},
        "metadata_url",
        "The metadata URL must use https.",
    ),
    "a URL of a loopback address": (
        {"metadata_url": "https://127.0.0.1/metadata.xml"},
        "metadata_url",
        "resolves to a loopback address (127.0.0.1), which is not allowed",
    ),
    "a URL of this server": (
        {"metadata_url": "https://localhost/"},
        "metadata_url",
        "points at this server (localhost)",
    ),
    "a URL of a private address": (
        {"metadata_url": "https://10.0.0.8/federationmetadata.xml"},
        "metadata_url",
        "resolves to a private address (10.0.0.8)",
    ),
}


@pytest.mark.parametrize("case", list(BAD_INPUTS))
def test_bad_metadata_is_refused_next_to_the_form_and_nothing_changes(
    admin_client, org, okta, case
):
    data, field, words = BAD_INPUTS[case]
    connection = configure(org, okta, enabled=True)
    before, events = stored(connection), AuditEvent.objects.count()

    response = admin_client.post(
        url("saml-metadata"), {name: v() if callable(v) else v for name, v in data.items()}
    )

    assert response.status_code == 200
    assertTemplateUsed(response, "sso/settings/saml_tab.html")
    assertContains(response, f'action="{url("saml-metadata")}#upload-heading"')  # in view
    form = response.context["metadata_form"]
    errors = form.errors.get(field or "__all__")
    assert errors and any(words in error for error in errors), form.errors
    assertContains(response, "The metadata was not saved; the configuration above is unchanged.")
    if field:
        # The id the field's aria-describedby names (Django's id_<name>_error).
        assertContains(response, f'aria-describedby="id_{field}_error"')
        assertContains(response, f'<p class="field-error" id="id_{field}_error">')
    assertContains(response, html.escape(words))
    assert stored(connection) == before
    assert AuditEvent.objects.count() == events


def test_a_refused_upload_leaves_a_new_connection_unconfigured(admin_client, org):
    response = admin_client.post(url("saml-metadata"), {"metadata_xml": "<nope/>"})

    assert response.status_code == 200
    connection = SamlConnection.objects.get(organisation=org, provider="okta")
    assert not connection.is_configured
    assert not AuditEvent.objects.filter(action="saml.configure").exists()


def test_a_file_over_the_size_cap_is_refused_before_it_is_read():
    def read(size: int) -> bytes:
        raise AssertionError("the file was read")

    with pytest.raises(MetadataRefused) as refused:
        load_metadata(upload=Upload(size=MAX_METADATA_BYTES + 1, read=read))

    assert (refused.value.field, refused.value.message) == ("metadata_file", TOO_LARGE)


def test_a_file_is_read_no_further_than_the_cap_whatever_its_size_claims():
    asked: list[int] = []

    def read(size: int) -> bytes:
        asked.append(size)
        return b" " * size

    with pytest.raises(MetadataRefused, match="larger than 1 MB"):
        load_metadata(upload=Upload(size=10, read=read))

    assert asked == [MAX_METADATA_BYTES + 1]


def test_a_metadata_url_is_fetched_then_parsed_and_kept(okta):
    fetched: list[str] = []

    def fetch(address: str) -> bytes:  # stands in for the network only
        fetched.append(address)
        return okta.metadata_xml()

    form = MetadataForm(data={"metadata_url": " https://acme.okta.com/metadata "}, fetch=fetch)

    assert form.is_valid(), form.errors
    assert fetched == ["https://acme.okta.com/metadata"]
    assert form.loaded is not None
    assert form.loaded.url == "https://acme.okta.com/metadata"
    assert form.loaded.metadata.entity_id == okta.entity_id


def test_metadata_at_a_url_is_checked_like_an_upload():
    form = MetadataForm(data={"metadata_url": "https://idp.example/"}, fetch=lambda _: b"<html>")

    assert not form.is_valid()
    assert "This is a web page (HTML)" in form.errors["metadata_url"][0]


# --- the switches ------------------------------------------------------------------------------


def test_sso_cannot_be_turned_on_before_the_metadata_is_uploaded(admin_client, org):
    response = admin_client.post(url("saml-switches"), {"enabled": "on"}, follow=True)

    assertContains(response, "Upload the identity provider&#x27;s metadata before turning SSO on.")
    connection = SamlConnection.objects.get(organisation=org, provider="okta")
    assert not connection.enabled
    assert not AuditEvent.objects.filter(action="saml.switches").exists()


def test_primary_admin_turns_sso_on_and_the_audit_trail_names_them(
    admin_client, org, okta, primary_admin
):
    connection = configure(org, okta)

    response = admin_client.post(
        url("saml-switches"), {"enabled": "on", "allow_idp_initiated": "on", "confirm": "yes"}
    )

    assert response.status_code == 302
    assert response.url == url("saml")
    connection.refresh_from_db()
    assert connection.enabled
    assert connection.allow_idp_initiated
    event = AuditEvent.objects.get(action="saml.switches", actor_user=primary_admin)
    assert event.changes == {"provider": "okta", "enabled": [False, True]}
    page = admin_client.get(url("saml"))
    assertContains(page, "Saved.")
    assertContains(page, 'name="enabled" value="on" aria-describedby="sso-enabled-help" checked')
    assertContains(page, 'Single sign-on <span class="badge on">On</span>')


def test_turning_sso_off_asks_for_confirmation_first(admin_client, org, okta):
    connection = configure(org, okta, enabled=True, allow_idp_initiated=True)

    asked = admin_client.post(url("saml-switches"), {"allow_idp_initiated": "on"})

    assert asked.status_code == 200
    assertTemplateUsed(asked, "settings/confirm.html")
    assertContains(asked, "Nobody can sign in with Okta once SSO is off")
    assertContains(asked, f'action="{url("saml-switches")}"')
    assertContains(asked, '<input type="hidden" name="allow_idp_initiated" value="on">')
    assertNotContains(asked, 'name="enabled"')
    assertContains(asked, '<input type="hidden" name="confirm" value="yes">')
    assertContains(asked, f'<a class="button secondary" href="{url("saml")}">Cancel</a>')
    connection.refresh_from_db()
    assert connection.enabled

    confirmed = admin_client.post(
        url("saml-switches"), {"allow_idp_initiated": "on", "confirm": "yes"}
    )

    assert confirmed.status_code == 302
    connection.refresh_from_db()
    assert not connection.enabled
    assert connection.allow_idp_initiated


def test_allowing_idp_initiated_sign_in_needs_no_confirmation(admin_client, org, okta):
    connection = configure(org, okta, allow_idp_initiated=False)

    response = admin_client.post(url("saml-switches"), {"allow_idp_initiated": "on"})

    assert response.status_code == 302
    connection.refresh_from_db()
    assert connection.allow_idp_initiated


def test_requiring_sso_asks_first_and_keeps_a_break_glass_for_primary_admins(
    admin_client, org, okta, primary_admin
):
    configure(org, okta, enabled=True)
    switches = {"enabled": "on", "sso_required": "on"}

    asked = admin_client.post(url("saml-switches"), switches)

    assertTemplateUsed(asked, "settings/confirm.html")
    assertContains(asked, "password sign-in is refused for everyone but primary admins")
    assertContains(asked, "You keep a break-glass password sign-in")
    assertContains(asked, '<input type="hidden" name="sso_required" value="on">')
    org.refresh_from_db()
    assert not org.sso_required

    admin_client.post(url("saml-switches"), {**switches, "confirm": "yes"})

    org.refresh_from_db()
    assert org.sso_required
    event = AuditEvent.objects.get(action="organisation.update", actor_user=primary_admin)
    assert event.changes == {"sso_required": [False, True]}
    page = admin_client.get(url("saml"))
    assertContains(
        page, 'name="sso_required" value="on" aria-describedby="sso-required-help" checked'
    )
    assertContains(page, "you keep a break-glass password sign-in")


def test_requiring_sso_while_no_sso_is_on_is_refused(admin_client, org, okta):
    connection = configure(org, okta)

    response = admin_client.post(
        url("saml-switches"), {"sso_required": "on", "confirm": "yes"}, follow=True
    )

    assertContains(response, "Turn single sign-on on before requiring it")
    org.refresh_from_db()
    assert not org.sso_required
    assert stored(connection)["enabled"] is False


def test_turning_sso_off_while_it_is_required_is_refused_and_changes_nothing(
    admin_client, org, okta
):
    connection = configure(org, okta, enabled=True)
    accounts_services.organisation_update(organisation=org, actor=SYSTEM, sso_required=True)

    response = admin_client.post(
        url("saml-switches"), {"sso_required": "on", "confirm": "yes"}, follow=True
    )

    assertContains(response, "Turn single sign-on on before requiring it")
    connection.refresh_from_db()
    assert connection.enabled


def test_sso_may_be_required_from_one_provider_while_another_is_on(admin_client, org, okta):
    configure(org, test_idp.google_idp(), "google", enabled=True)
    configure(org, okta)

    admin_client.post(url("saml-switches"), {"sso_required": "on", "confirm": "yes"})

    org.refresh_from_db()
    assert org.sso_required


def test_jit_switch_is_off_and_disabled_while_scim_is_on_and_keeps_its_value(
    admin_client, org, okta
):
    connection = configure(org, okta, jit_provisioning=True)
    accounts_services.organisation_update(organisation=org, actor=SYSTEM, scim_enabled=True)

    page = admin_client.get(url("saml"))

    assertContains(
        page,
        'name="jit_provisioning" value="on" aria-describedby="sso-jit-help" disabled>',
    )
    assertContains(page, "Off while SCIM is on: SCIM decides who has an account")

    # A disabled box is not sent; the stored choice stays for when SCIM is off again.
    admin_client.post(url("saml-switches"), {"allow_idp_initiated": "on"})
    connection.refresh_from_db()
    assert connection.jit_provisioning
    assert not connection.jit_allowed


def test_jit_cannot_be_switched_on_behind_scims_back(admin_client, org, okta):
    connection = configure(org, okta)
    accounts_services.organisation_update(organisation=org, actor=SYSTEM, scim_enabled=True)

    admin_client.post(url("saml-switches"), {"jit_provisioning": "on"})

    connection.refresh_from_db()
    assert not connection.jit_provisioning


def test_jit_is_switched_on_while_scim_is_off(admin_client, org, okta):
    connection = configure(org, okta)

    admin_client.post(url("saml-switches"), {"jit_provisioning": "on"})

    connection.refresh_from_db()
    assert connection.jit_allowed
    assertContains(
        admin_client.get(url("saml")),
        'name="jit_provisioning" value="on" aria-describedby="sso-jit-help" checked>',
    )


# --- Test sign-in -------------------------------------------------------------------------------


def test_test_sign_in_sends_the_admin_to_the_idp_with_a_request_and_a_pending_cookie(
    admin_client, org, okta, primary_admin
):
    connection = configure(org, okta)  # SSO still off: testing first is the point

    response = admin_client.post(url("saml-test"))

    assert response.status_code == 302
    assert response.url.startswith(f"{okta.sso_url}?SAMLRequest=")
    request = test_idp.decode_authn_request(response.url)
    assert request["acs_url"] == connection.acs_url
    assert request["issuer"] == connection.sp_entity_id
    cookie = response.cookies[PENDING_COOKIE]
    assert cookie["path"] == urlsplit(connection.acs_url).path
    assert cookie["httponly"]
    pending = PendingSignIn.objects.get()
    assert (pending.request_id, pending.tested_by) == (request["id"], primary_admin)


def test_test_sign_in_round_trip_shows_every_check_and_signs_nobody_in(
    admin_client, org, okta, primary_admin, learner
):
    connection = configure(org, okta)
    request = test_idp.decode_authn_request(admin_client.post(url("saml-test")).url)
    xml = okta.response(
        acs_url=connection.acs_url,
        audience=connection.sp_entity_id,
        name_id=learner.username,
        in_response_to=request["id"],
        attributes=okta.default_attributes("Lee", "Learner", learner.username),
    )

    answered = admin_client.post(urlsplit(connection.acs_url).path, okta.post_form(xml))

    attempt = SignInAttempt.objects.get()
    assert attempt.outcome == SignInOutcome.TEST_PASSED
    assert answered.status_code == 302
    assert answered.url == url("saml-test-result", "okta", attempt.pk)
    result = admin_client.get(answered.url)
    assertContains(result, 'Test sign-in <span class="badge on">Test passed</span>')
    assertContains(result, "Every check passed. You can turn single sign-on on.")
    assertContains(result, '<span class="badge on">Passed</span>', count=len(attempt.checks))
    assertContains(result, f"<dt>NameID</dt><dd><code>{learner.username}</code></dd>")
    assert admin_client.get("/me.json").json()["username"] == primary_admin.username


def test_test_sign_in_needs_the_metadata_first(admin_client, org):
    response = admin_client.post(url("saml-test"), follow=True)

    assertContains(response, "Upload the identity provider&#x27;s metadata before testing")
    assert not PendingSignIn.objects.exists()


def test_the_result_page_shows_each_check_the_clock_and_the_attributes(admin_client, org, okta):
    connection = configure(org, okta)
    checks = [
        {"code": "status", "name": "Status is Success", "passed": True, "detail": ""},
        {
            "code": "audience",
            "name": "Audience is our Entity ID",
            "passed": False,
            "detail": "The Audience is https://wrong.example/, not ours.",
        },
        {
            "code": "replay",
            "name": "Not used before",
            "passed": None,
            "detail": "Not checked: an earlier check failed.",
        },
    ]
    tried = attempt(
        org,
        connection,
        outcome=SignInOutcome.TEST_FAILED,
        reason_code="audience",
        reason="The Audience is https://wrong.example/, not ours.",
        name_id="ada@acme.test",
        checks=checks,
        clock_difference_seconds=3.4,
        attributes={"FirstName": ["Ada"], "mail": ["ada@acme.test"], "groups": ["Sales", "Ops"]},
    )

    response = admin_client.get(url("saml-test-result", "okta", tried.pk))

    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    assertContains(response, 'Test sign-in <span class="badge failed">Test failed</span>')
    assertContains(response, '<p class="explanation">The Audience is https://wrong.example/')
    html_text = response.content.decode()
    rows = re.findall(
        r'<li class="check (\w+)">.*?class="check-name">(.*?)</span>', html_text, re.S
    )
    assert rows == [
        ("passed", "Status is Success"),
        ("failed", "Audience is our Entity ID"),
        ("skipped", "Not used before"),
    ]
    assertContains(response, '<span class="badge failed">Failed</span>')
    assertContains(response, '<span class="badge off">Not checked</span>')
    assertContains(response, "Not checked: an earlier check failed.")
    assertContains(response, "<dt>Clock difference</dt><dd>+3 s")
    assertContains(response, "up to 120 s either way is accepted")
    assertContains(response, "<dt>NameID</dt><dd><code>ada@acme.test</code></dd>")
    assertContains(response, '<td data-label="Expected name"><code>FirstName</code></td>')
    assertContains(response, '<td data-label="Received">Ada</td>')
    assertContains(response, '<span class="badge warn">Missing</span>', count=1)  # LastName
    assertContains(response, "Arrived as <code>mail</code>, which auzlearn accepts too.")
    assertContains(response, "<dt><code>groups</code></dt><dd>Sales, Ops</dd>")


def test_entra_results_expect_entras_claim_uris(admin_client, org):
    connection = configure(org, test_idp.entra_idp(), "entra")
    tried = attempt(
        org,
        connection,
        outcome=SignInOutcome.TEST_PASSED,
        attributes={f"{CLAIMS}/givenname": ["Ada"], f"{CLAIMS}/surname": ["Admin"]},
    )

    response = admin_client.get(url("saml-test-result", "entra", tried.pk))

    assertContains(response, f"<code>{CLAIMS}/emailaddress</code>")
    assertContains(response, '<td data-label="Received">Admin</td>')
    assertContains(response, '<span class="badge warn">Missing</span>', count=1)


def test_another_organisations_attempt_is_not_found(admin_client, org, other_org, okta):
    theirs = attempt(other_org, configure(other_org, okta))

    assert admin_client.get(url("saml-test-result", "okta", theirs.pk)).status_code == 404


def test_an_attempt_is_shown_under_its_own_provider_only(admin_client, org, okta):
    tried = attempt(org, configure(org, okta))

    assert admin_client.get(url("saml-test-result", "okta", tried.pk)).status_code == 200
    assert admin_client.get(url("saml-test-result", "google", tried.pk)).status_code == 404
    assert admin_client.get(url("saml-test-result", "okta", tried.pk + 1)).status_code == 404


# --- forms need POST and the CSRF token -------------------------------------------------------


@pytest.mark.parametrize("name", FORMS)
def test_forms_refuse_get(admin_client, name):
    assert admin_client.get(url(name)).status_code == 405


@pytest.mark.parametrize("name", ["saml", "activity"])
def test_pages_refuse_post(admin_client, name):
    assert admin_client.post(url(name)).status_code == 405


@pytest.mark.parametrize("name", FORMS)
def test_every_form_needs_the_csrf_token(org, primary_admin, okta, name):
    connection = configure(org, okta)
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(primary_admin)
    before = stored(connection)

    response = browser.post(
        url(name),
        {"enabled": "on", "confirm": "yes", "metadata_xml": test_idp.google_idp().metadata_xml()},
    )

    assert response.status_code == 403
    assert stored(connection) == before
    assert not PendingSignIn.objects.exists()


def test_the_forms_work_with_the_token_the_page_gives(org, primary_admin, okta):
    connection = configure(org, okta)
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(primary_admin)
    page = browser.get(url("saml")).content.decode()
    tokens = re.findall(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    # switches, Add mapping, metadata, Test sign-in, Add domain, and sign-out
    assert len(tokens) == page.count('<form method="post"') == 6

    response = browser.post(
        url("saml-switches"),
        {"enabled": "on", "confirm": "yes", "csrfmiddlewaretoken": tokens[0]},
    )

    assert response.status_code == 302
    connection.refresh_from_db()
    assert connection.enabled


# --- who may open the tabs -------------------------------------------------------------------

PAGES = ["provider", "saml", "activity"]


@pytest.mark.parametrize("role", [Role.ADMIN, Role.MANAGER, Role.LEARNER])
def test_other_roles_are_refused_everywhere(client, org, okta, role):
    connection = configure(org, okta)
    tried = attempt(org, connection)
    person = factories.user(org, f"{role}@acme.test", role=role)
    client.force_login(person)
    before = stored(connection)

    for provider in PROVIDERS:
        for name in PAGES:
            assert client.get(url(name, provider)).status_code == 403
    assert client.get(url("saml-test-result", "okta", tried.pk)).status_code == 403
    for name in FORMS:
        data = {"enabled": "on", "confirm": "yes", "metadata_xml": okta.metadata_xml()}
        assert client.post(url(name), data).status_code == 403
    assert stored(connection) == before
    assert not PendingSignIn.objects.exists()
    assert not SamlConnection.objects.exclude(pk=connection.pk).exists()


def test_support_staff_are_refused(client, org, staff_user):
    client.force_login(staff_user)

    assert client.get(url("saml")).status_code == 403
    assert client.post(url("saml-switches"), {"enabled": "on"}).status_code == 403
    assert not SamlConnection.objects.exists()


@pytest.mark.parametrize("name", PAGES + FORMS + ["saml-test-result"])
def test_anonymous_visitors_are_sent_to_sign_in(client, org, name):
    address = url(name, "okta", 1) if name == "saml-test-result" else url(name)

    response = client.post(address) if name in FORMS else client.get(address)

    assert response.status_code == 302
    assert response.url == f"{reverse('accounts:login')}?next={address}"
    assert not SamlConnection.objects.exists()


def test_another_organisations_admin_works_on_their_own_connection_only(
    admin_client, org, other_org, okta
):
    ours = configure(org, okta, enabled=True)
    tried = attempt(org, ours, name_id="acme-person@acme.test")
    before = stored(ours)
    globex_admin = factories.user(other_org, "admin@globex.test", role=Role.PRIMARY_ADMIN)
    globex = Client()
    globex.force_login(globex_admin)

    page = globex.get(url("saml"))
    activity = globex.get(url("activity"))
    globex.post(url("saml-metadata"), {"metadata_xml": okta.metadata_xml().decode()})
    globex.post(url("saml-switches"), {"enabled": "on", "confirm": "yes"})

    theirs = SamlConnection.objects.get(organisation=other_org, provider="okta")
    assertContains(page, theirs.acs_url)
    assertNotContains(page, ours.acs_url)
    assertNotContains(activity, "acme-person@acme.test")
    assert globex.get(url("saml-test-result", "okta", tried.pk)).status_code == 404
    assert theirs.enabled and theirs.public_id != ours.public_id
    assert stored(ours) == before


# --- the Activity tab: sign-ins ---------------------------------------------------------------


def test_activity_lists_this_providers_sign_ins_newest_first(admin_client, org, other_org, okta):
    connection = configure(org, okta)
    attempt(org, connection, 30, name_id="first@acme.test")
    attempt(
        org,
        connection,
        20,
        outcome=SignInOutcome.REFUSED,
        reason_code="unknown_user",
        reason="No account with this NameID in the organisation.",
        name_id="stranger@acme.test",
        attributes={"FirstName": ["Sam"], "Email": ["stranger@acme.test"]},
        ip="198.51.100.4",
    )
    third = attempt(org, connection, 10, name_id="third@acme.test", outcome="test_passed")
    attempt(org, configure(org, test_idp.google_idp(), "google"), 5, name_id="google@acme.test")
    attempt(other_org, configure(other_org, okta), 1, name_id="globex@globex.test")

    response = admin_client.get(url("activity"))

    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    assertContains(response, f'href="{url("activity")}" aria-current="page">Activity</a>')
    assertContains(response, f'href="{url("activity")}" aria-current="page">Sign-ins</a>')
    html_text = response.content.decode()
    order = [html_text.index(name) for name in ["third@", "stranger@", "first@"]]
    assert order == sorted(order)
    assert "google@acme.test" not in html_text
    assert "globex@globex.test" not in html_text
    assertContains(response, "3 sign-in attempts.")
    assertContains(response, '<span class="badge failed">Refused</span>')
    assertContains(response, '<span class="badge on">Test passed</span>')
    assertContains(
        response, '<p class="explanation">No account with this NameID in the organisation.</p>'
    )
    assertContains(response, '<p class="help">IP address 198.51.100.4</p>')
    assertContains(response, "<details><summary>Attributes received</summary><pre>{")
    assertContains(response, "&quot;FirstName&quot;: [")
    assertContains(response, f'href="{url("saml-test-result", "okta", third.pk)}">See the checks')


@pytest.mark.parametrize(
    ("outcome", "shown", "hidden"),
    [
        ("signed_in", "in@acme.test", "out@acme.test"),
        ("refused", "out@acme.test", "in@acme.test"),
        ("test", "test@acme.test", "out@acme.test"),
    ],
)
def test_activity_filters_sign_ins_by_outcome(admin_client, org, okta, outcome, shown, hidden):
    connection = configure(org, okta)
    attempt(org, connection, 3, name_id="in@acme.test")
    attempt(org, connection, 2, name_id="out@acme.test", outcome=SignInOutcome.REFUSED)
    attempt(org, connection, 1, name_id="test@acme.test", outcome=SignInOutcome.TEST_FAILED)

    response = admin_client.get(url("activity"), {"outcome": outcome})

    assertContains(response, shown)
    assertNotContains(response, hidden)
    assertContains(response, f'?outcome={outcome}" aria-current="page">')


def test_activity_says_when_nobody_has_signed_in_yet(admin_client):
    response = admin_client.get(url("activity", "google"))

    assertContains(response, "No sign-ins with Google Workspace yet.")


def test_only_scim_providers_offer_the_scim_request_log(admin_client, org):
    okta_page = admin_client.get(url("activity", "okta"))
    google_page = admin_client.get(url("activity", "google"), {"log": "scim"})

    assertContains(okta_page, f'href="{url("activity")}?log=scim">SCIM requests</a>')
    assertNotContains(google_page, "SCIM requests")
    assert google_page.context["log"] == "sign-ins"


def test_sign_ins_are_paginated_keeping_the_filter(admin_client, org, okta):
    connection = configure(org, okta)
    SignInAttempt.objects.bulk_create(
        SignInAttempt(
            organisation=org,
            connection=connection,
            created_at=timezone.now() - timedelta(minutes=n),
            outcome=SignInOutcome.REFUSED,
            name_id=f"person-{n:03d}@acme.test",
        )
        for n in range(60)
    )

    first = admin_client.get(url("activity"), {"outcome": "refused"})
    second = admin_client.get(url("activity"), {"outcome": "refused", "page": 2})

    assert len(first.context["rows"]) == 50
    assertContains(first, 'href="?outcome=refused&amp;page=2" rel="next">Older</a>')
    assert [row.attempt.name_id for row in second.context["rows"]] == [
        f"person-{n:03d}@acme.test" for n in range(50, 60)
    ]


def test_sign_in_log_takes_the_same_number_of_queries_for_5_or_60_rows(
    admin_client, org, okta, django_assert_max_num_queries
):
    connection = configure(org, okta)
    for n in range(5):
        attempt(org, connection, n, attributes={"Email": [f"p{n}@acme.test"]})
    with CaptureQueriesContext(db_connection) as few:
        assert admin_client.get(url("activity")).status_code == 200

    for n in range(5, 60):
        attempt(org, connection, n, outcome=SignInOutcome.REFUSED, reason="no")
    with django_assert_max_num_queries(len(few)):
        response = admin_client.get(url("activity"))
    assert len(response.context["rows"]) == 50


# --- the providers overview --------------------------------------------------------------------


def _cards(response) -> dict[str, str]:
    cards = response.content.decode().split('<li class="provider-card">')[1:]
    names = [re.findall(r"<h2>(.*?)</h2>", card)[0] for card in cards]
    return dict(zip(names, cards, strict=True))


def test_overview_shows_sso_on_or_off_and_links_every_provider(admin_client, org, okta):
    configure(org, okta, enabled=True)
    configure(org, test_idp.google_idp(), "google")

    cards = _cards(admin_client.get(reverse("console:overview")))

    assert '<span class="badge on">SSO on</span>' in cards["Okta"]
    assert f'href="{url("provider", "okta")}">Manage<' in cards["Okta"]
    assert (
        '<span class="badge off">SSO off</span> <span class="help">Configured'
        in cards["Google Workspace"]
    )
    assert f'href="{url("provider", "google")}">Manage<' in cards["Google Workspace"]
    for name, slug in [("Microsoft Entra ID", "entra"), ("Other SAML 2.0", "saml")]:
        assert "Not configured" in cards[name]
        assert f'href="{url("provider", slug)}">Set up<' in cards[name]


def test_overview_warns_of_certificates_expiring_soon_or_expired(admin_client, org):
    expired = test_idp.make_key_pair("old", days_valid=10, not_before_days_ago=30)
    expiring = test_idp.make_key_pair("current", days_valid=40, not_before_days_ago=10)
    configure(org, test_idp.entra_idp(keys=[expired, expiring]), "entra")
    configure(org, test_idp.okta_idp())

    cards = _cards(admin_client.get(reverse("console:overview")))

    assert "1 signing certificate expired" in cards["Microsoft Entra ID"]
    assert "1 signing certificate expiring within 60 days" in cards["Microsoft Entra ID"]
    assert "signing certificate" not in cards["Okta"]


def test_overview_reads_all_connections_in_one_query(
    admin_client, org, django_assert_max_num_queries
):
    with CaptureQueriesContext(db_connection) as none:
        admin_client.get(reverse("console:overview"))
    for idp, provider in [
        (test_idp.okta_idp(), "okta"),
        (test_idp.entra_idp(), "entra"),
        (test_idp.google_idp(), "google"),
        (test_idp.generic_idp(), "saml"),
    ]:
        configure(org, idp, provider, enabled=True)

    with django_assert_max_num_queries(len(none)):
        response = admin_client.get(reverse("console:overview"))
    assert response.content.decode().count("SSO on") == 4
