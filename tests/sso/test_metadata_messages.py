"""Refused metadata on the SAML tab (issue 14): what is wrong in plain words first, where to get
the right file in this provider next, the parser's own detail last; for each kind of refusal
sso/metadata.py and sso/fetch.py know."""

import html

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from sso.metadata import MAX_METADATA_BYTES, MetadataError, parse_metadata
from sso.metadata_advice import PLAIN, WHERE, plain_message
from sso.models import SamlConnection
from tests.sso import idp as test_idp

MD = "urn:oasis:names:tc:SAML:2.0:metadata"
PROTOCOL = "urn:oasis:names:tc:SAML:2.0:protocol"
REDIRECT = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect"

NOT_XML = b"This is not metadata at all"
DTD = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]><x>&a;</x>'
SP_ONLY = (
    f'<md:EntityDescriptor xmlns:md="{MD}" entityID="https://lms.example.com/sp">'
    f'<md:SPSSODescriptor protocolSupportEnumeration="{PROTOCOL}"/></md:EntityDescriptor>'
).encode()
NO_CERTIFICATE = (
    f'<md:EntityDescriptor xmlns:md="{MD}" entityID="http://www.okta.com/exk1">'
    f'<md:IDPSSODescriptor protocolSupportEnumeration="{PROTOCOL}">'
    f'<md:SingleSignOnService Binding="{REDIRECT}" Location="https://acme.okta.com/sso"/>'
    "</md:IDPSSODescriptor></md:EntityDescriptor>"
).encode()


def expired_metadata() -> bytes:
    old = test_idp.make_key_pair("old", days_valid=10, not_before_days_ago=30)
    return bytes(test_idp.okta_idp(keys=[old]).metadata_xml())


@pytest.fixture
def admin_client(client, primary_admin):
    client.force_login(primary_admin)
    return client


def upload(admin_client, provider: str, content: bytes) -> str:
    response = admin_client.post(
        reverse("sso_settings:saml-metadata", args=[provider]),
        {"metadata_file": SimpleUploadedFile("metadata.xml", content, "application/xml")},
    )
    assert response.status_code == 200  # the tab again, with the error by the field
    return html.unescape(response.content.decode())


def error_of(page: str) -> str:
    start = page.index('<p class="field-error"')
    return page[page.index(">", start) + 1 : page.index("</p>", start)]


@pytest.mark.parametrize(
    ("content", "code", "plain"),
    [
        (NOT_XML, "not_xml", "This file is not XML."),
        (DTD, "dtd", "This file declares a DTD or entities"),
        (SP_ONLY, "service_provider_metadata", "This is a service provider's metadata"),
        (NO_CERTIFICATE, "no_signing_certificate", "This metadata has no signing certificate."),
        (None, "certificates_expired", "Every signing certificate in this metadata has expired."),
        (b"", "empty", "This file is empty."),
    ],
)
def test_each_refusal_says_what_is_wrong_then_where_then_the_detail(
    admin_client, org, content, code, plain
):
    content = expired_metadata() if content is None else content
    with pytest.raises(MetadataError) as refused:
        parse_metadata(content)
    assert refused.value.code == code

    error = error_of(upload(admin_client, "okta", content))

    assert error.startswith(plain)
    where = error.index("In Okta, open the app's Sign On tab and download the metadata")
    assert error.index(plain) < where < error.index(f"Details: {refused.value.message}")
    assert not SamlConnection.objects.get(organisation=org, provider="okta").is_configured


def test_the_issue_s_example_reads_as_it_asked(admin_client, org):
    error = error_of(upload(admin_client, "okta", NOT_XML))

    assert error.startswith(
        "This file is not XML. In Okta, open the app's Sign On tab and download the metadata"
    )


@pytest.mark.parametrize(
    ("provider", "where"),
    [
        ("entra", "In Microsoft Entra ID, open the app's Single sign-on page"),
        ("google", "In the Google Admin console"),
        ("saml", "In your identity provider, download the SAML metadata"),
    ],
)
def test_the_advice_names_the_provider_of_the_tab(admin_client, org, provider, where):
    error = error_of(upload(admin_client, provider, NOT_XML))

    assert error.startswith("This file is not XML. " + where)


def test_a_file_too_big_is_said_plainly(admin_client, org):
    error = error_of(upload(admin_client, "okta", b"<x/>" + b" " * MAX_METADATA_BYTES))

    assert error.startswith("This is too big to be SAML metadata. In Okta")
    assert "Details: " in error


def test_an_expired_certificate_says_what_to_do_in_that_provider(admin_client, org):
    error = error_of(upload(admin_client, "entra", expired_metadata()))

    assert "Make a new signing certificate active in Microsoft Entra ID first." in error


@pytest.mark.parametrize(
    ("url", "plain"),
    [
        ("http://acme.okta.com/app/metadata", "The metadata URL must use https."),
        ("https://127.0.0.1/metadata", "auzlearn does not fetch from that address."),
        ("https://user:pw@acme.okta.com/m", "This is not a metadata URL auzlearn can use."),
    ],
)
def test_a_url_that_cannot_be_fetched_is_said_plainly(admin_client, org, url, plain):
    response = admin_client.post(
        reverse("sso_settings:saml-metadata", args=["okta"]), {"metadata_url": url}
    )

    error = error_of(html.unescape(response.content.decode()))
    assert error.startswith(plain + " ")
    assert "In Okta, open the app's Sign On tab" in error
    assert "Details: " in error


def test_only_one_source_is_still_the_forms_own_words(admin_client, org):
    response = admin_client.post(
        reverse("sso_settings:saml-metadata", args=["okta"]),
        {"metadata_xml": "<x/>", "metadata_url": "https://acme.okta.com/m"},
    )

    assert "Details:" not in html.unescape(response.content.decode())


@pytest.mark.parametrize("code", sorted(PLAIN))
@pytest.mark.parametrize("provider", sorted(WHERE))
def test_every_known_code_has_plain_words_and_advice(code, provider):
    message = plain_message(code, provider, "the parser's detail.")

    assert message.startswith(PLAIN[code])
    assert WHERE[provider] in message
    assert message.endswith("Details: the parser's detail.")


def test_codes_of_the_metadata_s_own_urls_and_unknown_codes():
    assert plain_message("sso_url_not_https", "okta", "d").startswith(
        "A URL in this metadata does not use https"
    )
    assert plain_message("slo_url_invalid", "okta", "d").startswith(
        "A URL in this metadata is not a valid https URL."
    )
    assert plain_message("something_new", "okta", "d").startswith("This metadata cannot be used.")
