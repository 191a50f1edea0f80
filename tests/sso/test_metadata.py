"""Reading IdP metadata: the shapes Okta, Entra ID and Google really publish, and what we refuse.

The metadata here is built the way each vendor writes it (element order, prefixes, line breaks in
certificates, Entra's signature and WS-Fed roles), with certificates generated in the test run.
"""

import base64
import time
from datetime import UTC, datetime, timedelta
from functools import cache

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from sso import metadata
from sso.metadata import MAX_METADATA_BYTES, Certificate, MetadataError, parse_metadata

NOW = datetime.now(UTC)
OKTA_ENTITY_ID = "http://www.okta.com/exk1fcia6d6EMsf331d8"
OKTA_SSO = "https://acme.okta.com/app/acme_auzlearn_1/exk1fcia6d6EMsf331d8/sso/saml"
ENTRA_TENANT = "6f1c2a3b-4d5e-46f7-8a9b-0c1d2e3f4a5b"
ENTRA_ENTITY_ID = f"https://sts.windows.net/{ENTRA_TENANT}/"
ENTRA_SAML2 = f"https://login.microsoftonline.com/{ENTRA_TENANT}/saml2"
GOOGLE_ENTITY_ID = "https://accounts.google.com/o/saml2?idpid=C03ab8xyz"
GOOGLE_SSO = "https://accounts.google.com/o/saml2/idp?idpid=C03ab8xyz"
REDIRECT = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect"
POST = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"


@cache
def make_certificate(common_name: str, not_after: datetime) -> x509.Certificate:
    """A self-signed RSA certificate, as IdPs use for signing, valid until `not_after`."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(min(NOW, not_after) - timedelta(days=365))
        .not_valid_after(not_after)
        .sign(key, hashes.SHA256())
    )


def b64(certificate: x509.Certificate, wrap: bool = False) -> str:
    text = base64.b64encode(certificate.public_bytes(serialization.Encoding.DER)).decode()
    if wrap:  # Google and ADFS break the base64 into lines
        text = "\n".join(text[i : i + 64] for i in range(0, len(text), 64))
    return text


def fingerprint(certificate: x509.Certificate) -> str:
    return certificate.fingerprint(hashes.SHA256()).hex(":").upper()


OKTA_CERT = make_certificate("acme", NOW + timedelta(days=3650))
ENTRA_CURRENT = make_certificate("Microsoft Azure Federated SSO Certificate", NOW + timedelta(20))
ENTRA_NEXT = make_certificate("Microsoft Azure Federated SSO Certificate", NOW + timedelta(1095))
ENTRA_METADATA_SIGNER = make_certificate("accounts.accesscontrol.windows.net", NOW + timedelta(900))
GOOGLE_CERT = make_certificate("Google", NOW + timedelta(days=1825))
EXPIRED_CERT = make_certificate("expired", NOW - timedelta(days=3))


def okta_key_descriptor(certificate: x509.Certificate, use: str | None = "signing") -> str:
    use_attribute = f' use="{use}"' if use else ""
    return (
        f"<md:KeyDescriptor{use_attribute}>"
        '<ds:KeyInfo xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:X509Data>'
        f"<ds:X509Certificate>{b64(certificate)}</ds:X509Certificate>"
        "</ds:X509Data></ds:KeyInfo></md:KeyDescriptor>"
    )


def okta_metadata(
    key_descriptors: str | None = None,
    services: str | None = None,
    protocols: str = "urn:oasis:names:tc:SAML:2.0:protocol",
    entity_id: str = OKTA_ENTITY_ID,
) -> str:
    """Okta's app metadata: one line, POST listed before Redirect, one signing certificate."""
    if key_descriptors is None:
        key_descriptors = okta_key_descriptor(OKTA_CERT)
    if services is None:
        services = (
            f'<md:SingleSignOnService Binding="{POST}" Location="{OKTA_SSO}"/>'
            f'<md:SingleSignOnService Binding="{REDIRECT}" Location="{OKTA_SSO}"/>'
        )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" '
        f'entityID="{entity_id}">'
        f'<md:IDPSSODescriptor WantAuthnRequestsSigned="false" '
        f'protocolSupportEnumeration="{protocols}">'
        f"{key_descriptors}"
        "<md:NameIDFormat>urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified</md:NameIDFormat>"
        "<md:NameIDFormat>urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress</md:NameIDFormat>"
        f"{services}"
        "</md:IDPSSODescriptor></md:EntityDescriptor>"
    )


def entra_metadata(certificates: tuple[x509.Certificate, ...] = (ENTRA_CURRENT, ENTRA_NEXT)) -> str:
    """Entra's federation metadata: default namespace, a signature over the document, WS-Fed
    RoleDescriptors carrying the same keys, then the SAML IDPSSODescriptor with two certificates
    during rollover and a single logout endpoint."""
    keys = "".join(
        '<KeyDescriptor use="signing"><KeyInfo xmlns="http://www.w3.org/2000/09/xmldsig#">'
        f"<X509Data><X509Certificate>{b64(certificate)}</X509Certificate></X509Data>"
        "</KeyInfo></KeyDescriptor>"
        for certificate in certificates
    )
    return f"""<?xml version="1.0" encoding="utf-8"?>
<EntityDescriptor ID="_2a1e3c4d-5b6f-4718-9a0b-1c2d3e4f5a6b" entityID="{ENTRA_ENTITY_ID}"
  xmlns="urn:oasis:names:tc:SAML:2.0:metadata">
  <Signature xmlns="http://www.w3.org/2000/09/xmldsig#">
    <SignedInfo>
      <CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#" />
      <SignatureMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256" />
      <Reference URI="#_2a1e3c4d-5b6f-4718-9a0b-1c2d3e4f5a6b">
        <Transforms>
          <Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature" />
          <Transform Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#" />
        </Transforms>
        <DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256" />
        <DigestValue>q2v3Y3JkZGlnZXN0dmFsdWU=</DigestValue>
      </Reference>
    </SignedInfo>
    <SignatureValue>c2lnbmF0dXJldmFsdWU=</SignatureValue>
    <KeyInfo><X509Data><X509Certificate>{b64(ENTRA_METADATA_SIGNER)}</X509Certificate>
    </X509Data></KeyInfo>
  </Signature>
  <RoleDescriptor xsi:type="fed:SecurityTokenServiceType"
    protocolSupportEnumeration="http://docs.oasis-open.org/wsfed/federation/200706"
    xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
    xmlns:fed="http://docs.oasis-open.org/wsfed/federation/200706">
    {keys}
    <fed:ClaimTypesOffered>
      <auth:ClaimType Uri="http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name"
        xmlns:auth="http://docs.oasis-open.org/wsfed/authorization/200706">
        <auth:DisplayName>Name</auth:DisplayName>
      </auth:ClaimType>
    </fed:ClaimTypesOffered>
    <fed:PassiveRequestorEndpoint>
      <wsa:EndpointReference xmlns:wsa="http://www.w3.org/2005/08/addressing">
        <wsa:Address>https://login.microsoftonline.com/{ENTRA_TENANT}/wsfed</wsa:Address>
      </wsa:EndpointReference>
    </fed:PassiveRequestorEndpoint>
  </RoleDescriptor>
  <RoleDescriptor xsi:type="fed:ApplicationServiceType"
    protocolSupportEnumeration="http://docs.oasis-open.org/wsfed/federation/200706"
    xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
    xmlns:fed="http://docs.oasis-open.org/wsfed/federation/200706">
    {keys}
  </RoleDescriptor>
  <IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
    {keys}
    <SingleLogoutService Binding="{REDIRECT}" Location="{ENTRA_SAML2}" />
    <SingleSignOnService Binding="{REDIRECT}" Location="{ENTRA_SAML2}" />
    <SingleSignOnService Binding="{POST}" Location="{ENTRA_SAML2}" />
  </IDPSSODescriptor>
</EntityDescriptor>"""


def google_metadata() -> str:
    """Google Workspace's downloaded metadata: pretty-printed, certificate wrapped over lines."""
    return f"""<?xml version="1.0" encoding="UTF-8" standalone="no"?>
<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata"
    entityID="{GOOGLE_ENTITY_ID}" validUntil="2031-05-04T10:06:55.000Z">
  <md:IDPSSODescriptor WantAuthnRequestsSigned="false"
      protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
    <md:KeyDescriptor use="signing">
      <ds:KeyInfo xmlns:ds="http://www.w3.org/2000/09/xmldsig#">
        <ds:X509Data>
          <ds:X509Certificate>{b64(GOOGLE_CERT, wrap=True)}</ds:X509Certificate>
        </ds:X509Data>
      </ds:KeyInfo>
    </md:KeyDescriptor>
    <md:NameIDFormat>urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified</md:NameIDFormat>
    <md:SingleSignOnService Binding="{REDIRECT}" Location="{GOOGLE_SSO}"/>
    <md:SingleSignOnService Binding="{POST}" Location="{GOOGLE_SSO}"/>
  </md:IDPSSODescriptor>
</md:EntityDescriptor>
"""


def sp_metadata() -> str:
    """Our own kind of metadata, which admins sometimes upload back to us by mistake."""
    return (
        '<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" '
        'entityID="https://auzlearn.example/sso/acme/saml/metadata/">'
        '<md:SPSSODescriptor AuthnRequestsSigned="false" WantAssertionsSigned="true" '
        'protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">'
        '<md:AssertionConsumerService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" '
        'Location="https://auzlearn.example/sso/acme/saml/acs/" index="1"/>'
        "</md:SPSSODescriptor></md:EntityDescriptor>"
    )


def entities(*members: str) -> str:
    """An EntitiesDescriptor (federation aggregate) around the given EntityDescriptors."""
    stripped = [member.removeprefix('<?xml version="1.0" encoding="UTF-8"?>') for member in members]
    return (
        '<md:EntitiesDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata">'
        f"{''.join(stripped)}</md:EntitiesDescriptor>"
    )


def billion_laughs(in_attribute: bool = False) -> str:
    """Ten levels of ten: a gigabyte of "lol" if anything expanded it."""
    levels = ['<!ENTITY lol0 "lol">'] + [
        f'<!ENTITY lol{n} "{f"&lol{n - 1};" * 10}">' for n in range(1, 10)
    ]
    entity_id, content = ("&lol9;", "") if in_attribute else ("x", "&lol9;")
    return (
        f'<?xml version="1.0"?><!DOCTYPE md:EntityDescriptor [{"".join(levels)}]>'
        '<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" '
        f'entityID="{entity_id}">{content}</md:EntityDescriptor>'
    )


def expected(certificate: x509.Certificate) -> Certificate:
    return Certificate(
        pem=certificate.public_bytes(serialization.Encoding.PEM).decode(),
        der_b64=b64(certificate),
        fingerprint_sha256=fingerprint(certificate),
        not_before=certificate.not_valid_before_utc,
        not_after=certificate.not_valid_after_utc,
        subject=certificate.subject.rfc4514_string(),
    )


# --- what each vendor's metadata gives us -------------------------------------------------------


def test_okta_metadata_prefers_the_redirect_binding_listed_after_post():
    idp = parse_metadata(okta_metadata())

    assert idp.entity_id == OKTA_ENTITY_ID
    assert idp.sso_url == OKTA_SSO
    assert idp.slo_url is None
    assert idp.certificates == (expected(OKTA_CERT),)
    assert idp.name_id_formats == (
        "urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified",
        "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress",
    )


def test_entra_metadata_keeps_both_certificates_during_rollover():
    idp = parse_metadata(entra_metadata())

    assert idp.entity_id == ENTRA_ENTITY_ID
    assert idp.sso_url == ENTRA_SAML2
    assert idp.slo_url == ENTRA_SAML2
    assert idp.certificates == (expected(ENTRA_CURRENT), expected(ENTRA_NEXT))
    assert idp.name_id_formats == ()


def test_entra_metadata_signature_and_ws_fed_keys_are_not_taken_as_signing_certificates():
    idp = parse_metadata(entra_metadata(certificates=(ENTRA_NEXT,)))

    assert [c.fingerprint_sha256 for c in idp.certificates] == [fingerprint(ENTRA_NEXT)]
    assert fingerprint(ENTRA_METADATA_SIGNER) not in {
        c.fingerprint_sha256 for c in idp.certificates
    }


def test_google_metadata_reads_a_certificate_wrapped_over_several_lines():
    idp = parse_metadata(google_metadata())

    assert idp.entity_id == GOOGLE_ENTITY_ID
    assert idp.sso_url == GOOGLE_SSO
    assert idp.slo_url is None
    assert idp.certificates == (expected(GOOGLE_CERT),)
    assert idp.name_id_formats == ("urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified",)


@pytest.mark.parametrize(
    "encode",
    [
        lambda text: text,
        lambda text: text.encode(),
        lambda text: text.encode("utf-8-sig"),
        lambda text: text.replace('encoding="utf-8"', 'encoding="utf-16"').encode("utf-16"),
    ],
    ids=["pasted text", "uploaded utf-8", "utf-8 with bom", "utf-16 from a windows editor"],
)
def test_metadata_is_accepted_pasted_or_uploaded(encode):
    assert parse_metadata(encode(entra_metadata())).entity_id == ENTRA_ENTITY_ID


def test_certificate_expiry_is_exposed_for_the_settings_page_warning():
    current, following = parse_metadata(entra_metadata()).certificates

    assert current.not_after == ENTRA_CURRENT.not_valid_after_utc
    assert current.not_after.tzinfo is not None
    assert current.expires_within(60)
    assert not current.expires_within(19)
    assert not current.is_expired()
    assert current.is_expired(now=NOW + timedelta(days=21))
    assert not following.expires_within(60)


def test_an_expired_certificate_is_kept_beside_a_current_one_mid_rollover():
    idp = parse_metadata(entra_metadata(certificates=(EXPIRED_CERT, ENTRA_NEXT)))

    assert idp.certificates == (expected(EXPIRED_CERT), expected(ENTRA_NEXT))
    assert idp.certificates[0].is_expired()


def test_a_certificate_listed_twice_is_kept_once():
    descriptors = okta_key_descriptor(OKTA_CERT) + okta_key_descriptor(OKTA_CERT, use=None)

    idp = parse_metadata(okta_metadata(key_descriptors=descriptors))

    assert idp.certificates == (expected(OKTA_CERT),)


def test_a_key_descriptor_without_use_is_a_signing_key_and_encryption_keys_are_ignored():
    descriptors = okta_key_descriptor(EXPIRED_CERT, use="encryption") + okta_key_descriptor(
        OKTA_CERT, use=None
    )

    idp = parse_metadata(okta_metadata(key_descriptors=descriptors))

    assert idp.certificates == (expected(OKTA_CERT),)


def test_post_binding_is_used_when_there_is_no_redirect_binding():
    services = (
        '<md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:SOAP" '
        'Location="https://idp.example/soap"/>'
        f'<md:SingleSignOnService Binding="{POST}" Location="https://idp.example/post"/>'
    )

    assert parse_metadata(okta_metadata(services=services)).sso_url == "https://idp.example/post"


def test_an_aggregate_with_one_identity_provider_and_other_service_providers_is_accepted():
    idp = parse_metadata(entities(sp_metadata(), google_metadata().split("?>", 1)[1]))

    assert idp.entity_id == GOOGLE_ENTITY_ID


def test_an_identity_provider_speaking_saml_1_1_and_2_0_is_accepted():
    protocols = "urn:oasis:names:tc:SAML:1.1:protocol urn:oasis:names:tc:SAML:2.0:protocol"

    assert parse_metadata(okta_metadata(protocols=protocols)).entity_id == OKTA_ENTITY_ID


# --- what we refuse, and the sentence the admin reads ---------------------------------------------

BAD_METADATA = [
    pytest.param(b"", "empty", "empty", id="empty"),
    pytest.param(" \n\t ", "empty", "empty", id="only whitespace"),
    pytest.param(
        b"<x>" + b" " * MAX_METADATA_BYTES + b"</x>",
        "too_large",
        "larger than 1 MB",
        id="oversized",
    ),
    pytest.param(
        "Just some notes about Okta",
        "not_xml",
        "not valid XML (Start tag expected, '<' not found, line 1, column 1).",
        id="not xml",
    ),
    pytest.param(
        '{"entityID": "http://www.okta.com/exk1fcia6d6EMsf331d8"}', "not_xml", "JSON", id="json"
    ),
    pytest.param(
        okta_metadata()[:-40], "not_xml", "not valid XML", id="truncated by copy and paste"
    ),
    pytest.param(
        "<!DOCTYPE html>\n<html lang=en><head><title>Sign In</title></head><body></body></html>",
        "html",
        "web page",
        id="html sign-in page",
    ),
    pytest.param(
        "<html><head><title>Okta</title></head><body><p>Hi</p></body></html>",
        "html",
        "web page",
        id="html without doctype",
    ),
    pytest.param(billion_laughs(), "dtd", "DOCTYPE", id="billion laughs"),
    pytest.param(
        billion_laughs(in_attribute=True), "dtd", "DOCTYPE", id="billion laughs in an attribute"
    ),
    pytest.param(
        '<!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><x>&xxe;</x>',
        "dtd",
        "DOCTYPE",
        id="external entity",
    ),
    pytest.param(
        '<?xml version="1.0"?><!doctype md:EntityDescriptor>' + okta_metadata().split("?>", 1)[1],
        "dtd",
        "DOCTYPE",
        id="doctype without entities",
    ),
    pytest.param(
        ('<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE x [<!ENTITY a "b">]><x>&a;</x>').encode(
            "utf-16"
        ),
        "dtd",
        "DOCTYPE",
        id="doctype in utf-16",
    ),
    pytest.param(
        "<EntityDescriptor entityID='x'/>",
        "not_saml_metadata",
        "not SAML 2.0 metadata: its root element is EntityDescriptor with no namespace",
        id="no namespace",
    ),
    pytest.param(
        '<feed xmlns="http://www.w3.org/2005/Atom"/>',
        "not_saml_metadata",
        "root element is feed in the http://www.w3.org/2005/Atom namespace",
        id="other xml",
    ),
    pytest.param(
        sp_metadata(), "service_provider_metadata", "service-provider metadata", id="sp metadata"
    ),
    pytest.param(
        entities(sp_metadata()),
        "service_provider_metadata",
        "upload your identity provider's metadata",
        id="aggregate of service providers",
    ),
    pytest.param(
        entities(),
        "no_identity_provider",
        "no identity provider",
        id="empty aggregate",
    ),
    pytest.param(
        entities(okta_metadata(), google_metadata().split("?>", 1)[1]),
        "several_identity_providers",
        "2 identity providers; upload the metadata of just one",
        id="aggregate of two identity providers",
    ),
    pytest.param(okta_metadata(entity_id=""), "no_entity_id", "no entityID", id="no entity id"),
    pytest.param(
        okta_metadata(protocols="urn:oasis:names:tc:SAML:1.1:protocol"),
        "no_saml2_support",
        'does not declare SAML 2.0 support (its protocolSupportEnumeration is "urn:oasis:names:'
        'tc:SAML:1.1:protocol")',
        id="saml 1.1 only",
    ),
    pytest.param(
        okta_metadata(services=""),
        "no_sso_service",
        "no SingleSignOnService with the HTTP-Redirect or HTTP-POST binding",
        id="no sso service",
    ),
    pytest.param(
        okta_metadata(
            services='<md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:SOAP"'
            ' Location="https://idp.example/soap"/>'
        ),
        "no_sso_service",
        "no SingleSignOnService",
        id="only a soap sso service",
    ),
    pytest.param(
        okta_metadata(
            services=f'<md:SingleSignOnService Binding="{REDIRECT}" Location="http://idp.example/sso"/>'
        ),
        "sso_url_not_https",
        "sign-in URL (SingleSignOnService) must use https, but it is http://idp.example/sso",
        id="http sso url",
    ),
    pytest.param(
        okta_metadata(services=f'<md:SingleSignOnService Binding="{REDIRECT}" Location=""/>'),
        "sso_url_invalid",
        "sign-in URL (SingleSignOnService) is not a valid https URL",
        id="empty sso url",
    ),
    pytest.param(
        okta_metadata(
            services=f'<md:SingleSignOnService Binding="{REDIRECT}" Location="{OKTA_SSO}"/>'
            f'<md:SingleLogoutService Binding="{REDIRECT}" Location="http://idp.example/slo"/>'
        ),
        "slo_url_not_https",
        "sign-out URL (SingleLogoutService) must use https",
        id="http slo url",
    ),
    pytest.param(
        okta_metadata(key_descriptors=""),
        "no_signing_certificate",
        "lists no signing certificate",
        id="no certificate",
    ),
    pytest.param(
        okta_metadata(key_descriptors=okta_key_descriptor(OKTA_CERT, use="encryption")),
        "no_signing_certificate",
        "lists no signing certificate",
        id="only an encryption certificate",
    ),
    pytest.param(
        okta_metadata(
            key_descriptors=okta_key_descriptor(OKTA_CERT).replace(
                b64(OKTA_CERT), "bm90IGEgY2VydA=="
            )
        ),
        "certificate_unreadable",
        "Signing certificate 1 in the metadata cannot be read",
        id="base64 that is not a certificate",
    ),
    pytest.param(
        okta_metadata(
            key_descriptors=okta_key_descriptor(OKTA_CERT)
            + okta_key_descriptor(OKTA_CERT).replace(b64(OKTA_CERT), "MIIC***")
        ),
        "certificate_unreadable",
        "Signing certificate 2 in the metadata cannot be read",
        id="not base64",
    ),
    pytest.param(
        entra_metadata(certificates=(EXPIRED_CERT,)),
        "certificates_expired",
        f"Every signing certificate in the metadata has expired (the newest on "
        f"{EXPIRED_CERT.not_valid_after_utc:%Y-%m-%d})",
        id="every certificate expired",
    ),
]


@pytest.mark.parametrize(("data", "code", "words"), BAD_METADATA)
def test_bad_metadata_is_refused_with_a_message_naming_the_problem(data, code, words):
    with pytest.raises(MetadataError) as caught:
        parse_metadata(data)

    assert caught.value.code == code
    assert words in caught.value.message
    assert str(caught.value) == caught.value.message
    assert caught.value.message.endswith(".")


def test_billion_laughs_is_refused_before_any_parser_sees_it(monkeypatch):
    def parser_must_not_run(xml):
        raise AssertionError("the parser was reached")

    monkeypatch.setattr("sso.metadata.OneLogin_Saml2_XML.to_etree", parser_must_not_run)
    started = time.monotonic()

    with pytest.raises(MetadataError) as caught:
        parse_metadata(billion_laughs())

    assert caught.value.code == "dtd"
    assert time.monotonic() - started < 1


def test_the_safe_parser_refuses_a_doctype_too_should_the_scan_miss_one():
    # The second line of defence: python3-saml's parser (forbid_dtd, forbid_entities).
    with pytest.raises(MetadataError) as caught:
        metadata._parse_xml(b'<!DOCTYPE x [<!ENTITY name "Okta">]><x>&name;</x>')

    assert caught.value.code == "dtd"


def test_metadata_just_under_the_size_cap_is_read():
    document = okta_metadata()
    padded = document.replace("</md:EntityDescriptor>", "")
    padding = MAX_METADATA_BYTES - len(padded.encode()) - len("</md:EntityDescriptor>")

    idp = parse_metadata(padded + " " * padding + "</md:EntityDescriptor>")

    assert idp.entity_id == OKTA_ENTITY_ID
