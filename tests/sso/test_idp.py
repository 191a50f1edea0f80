"""The test identity provider (tests/sso/idp.py) checked against python3-saml in strict mode:
what it signs is valid, its metadata parses, each attack is refused, and the loose spots
python3-saml leaves to our own checks are pinned down (the "accepted by python3-saml alone"
tests assert what it actually does, so a library upgrade that tightens one shows up here)."""

import base64
import re
from datetime import UTC, datetime, timedelta

import pytest
from lxml import etree  # type: ignore[import-untyped, unused-ignore]
from onelogin.saml2.auth import OneLogin_Saml2_Auth  # type: ignore[import-untyped, unused-ignore]
from onelogin.saml2.idp_metadata_parser import (  # type: ignore[import-untyped, unused-ignore]
    OneLogin_Saml2_IdPMetadataParser,
)
from onelogin.saml2.response import (  # type: ignore[import-untyped, unused-ignore]
    OneLogin_Saml2_Response,
)
from onelogin.saml2.settings import (  # type: ignore[import-untyped, unused-ignore]
    OneLogin_Saml2_Settings,
)
from onelogin.saml2.utils import OneLogin_Saml2_Utils  # type: ignore[import-untyped, unused-ignore]
from onelogin.saml2.xml_utils import OneLogin_Saml2_XML  # type: ignore[import-untyped, unused-ignore]
from onelogin.saml2.xmlparser import DTDForbidden  # type: ignore[import-untyped, unused-ignore]

from tests.sso.idp import (
    DS,
    IDP_FACTORIES,
    MD,
    SAML,
    SAMLP,
    Shape,
    comment_in_name_id,
    decode_authn_request,
    duplicate_assertion,
    entra_idp,
    generic_idp,
    make_key_pair,
    move_signed_assertion_into_extensions,
    move_signed_assertion_into_signature_object,
    okta_idp,
    saml_time,
    signature_is_intact,
    strip_signatures,
    tamper_attribute,
    tamper_text,
    unsigned,
    with_doctype,
    wrap_forged_assertion_beside,
    wrap_forged_assertion_inside,
)

SP_ENTITY_ID = "https://lms.example.com/sso/saml/abc/metadata/"
ACS_URL = "https://lms.example.com/sso/saml/abc/acs/"
REQUEST_DATA = {
    "https": "on",
    "http_host": "lms.example.com",
    "script_name": "/sso/saml/abc/acs/",
    # No server_port: python3-saml deprecates it (the port belongs in http_host), and
    # sso/saml_settings.py does not send it either.
    "get_data": {},
    "post_data": {},
}
NS = {"samlp": SAMLP, "saml": SAML, "ds": DS, "md": MD}

# python3-saml's messages, as our own checks will want to map them to reasons.
NOT_SIGNED = "The Assertion of the Response is not signed and the SP require it"
ONE_ASSERTION = "SAML Response must contain 1 assertion"
SIGNATURE_FAILED = "Signature validation failed. SAML Response rejected"
SCHEMA = "Invalid SAML Response. Not match the saml-schema-protocol-2.0.xsd"
NO_SUBJECT_CONFIRMATION = "A valid SubjectConfirmation was not found on this Response"


@pytest.fixture(params=list(Shape), ids=lambda shape: shape.value)
def idp(request):
    return IDP_FACTORIES[request.param]()


def settings_dict(idp, **security):
    return {
        "strict": True,
        "sp": {
            "entityId": SP_ENTITY_ID,
            "assertionConsumerService": {"url": ACS_URL},
        },
        "idp": {
            "entityId": idp.entity_id,
            "singleSignOnService": {"url": idp.sso_url},
            "x509certMulti": {"signing": [key.certificate_der_b64 for key in idp.keys]},
        },
        "security": {
            "wantAssertionsSigned": True,
            "rejectDeprecatedAlgorithm": True,
            "requestedAuthnContext": False,
            **security,
        },
    }


def python3_saml(idp, xml, *, request_id=None, **security):
    """The response object after strict validation; get_error() is None when it passed."""
    settings = OneLogin_Saml2_Settings(settings_dict(idp, **security), sp_validation_only=True)
    response = OneLogin_Saml2_Response(settings, base64.b64encode(xml))
    valid = response.is_valid(dict(REQUEST_DATA), request_id=request_id)
    assert valid is (response.get_error() is None)
    return response


def verdict(idp, xml, **kwargs):
    """None when python3-saml (strict) accepts the response, else its error message."""
    return python3_saml(idp, xml, **kwargs).get_error()


def sign_in(idp, **kwargs):
    """A response for Ada, with the vendor's usual attributes."""
    kwargs.setdefault("name_id", "ada@acme.test")
    kwargs.setdefault("attributes", idp.default_attributes("Ada", "Zoë", "ada@acme.test"))
    return idp.response(acs_url=ACS_URL, audience=SP_ENTITY_ID, **kwargs)


def parse(xml):
    return etree.fromstring(xml)


# ---------------------------------------------------------------------------------------------
# Responses python3-saml accepts


def test_python3_saml_accepts_each_vendors_response(idp):
    response = python3_saml(idp, sign_in(idp))

    assert response.get_error() is None
    assert response.get_nameid() == "ada@acme.test"
    assert response.get_attributes() == idp.default_attributes("Ada", "Zoë", "ada@acme.test")
    assert re.match(r"^[A-Za-z_]", response.get_assertion_id())


def test_python3_saml_accepts_a_response_signed_twice(idp):
    xml = sign_in(idp, sign_response=True)

    assert verdict(idp, xml) is None
    assert len(parse(xml).findall(".//ds:Signature", NS)) == 2


def test_python3_saml_accepts_the_answer_to_its_own_authn_request(idp):
    auth = OneLogin_Saml2_Auth(
        dict(REQUEST_DATA),
        old_settings={
            **settings_dict(idp),
            "idp": {
                "entityId": idp.entity_id,
                "singleSignOnService": {"url": idp.sso_url},
                "x509cert": idp.signing_key.certificate_der_b64,
            },
        },
    )
    redirect_url = auth.login(return_to="/courses/42/")

    request = decode_authn_request(redirect_url)
    xml = sign_in(idp, in_response_to=request["id"])

    assert request["id"] == auth.get_last_request_id()
    assert request["acs_url"] == ACS_URL
    assert request["issuer"] == SP_ENTITY_ID
    assert request["destination"] == idp.sso_url
    assert request["relay_state"] == "/courses/42/"
    assert request["xml"].startswith("<samlp:AuthnRequest")
    assert verdict(idp, xml, request_id=request["id"]) is None
    assert parse(xml).get("InResponseTo") == request["id"]


def test_response_with_no_attributes_has_no_attribute_statement(idp):
    xml = sign_in(idp, attributes=None)

    assert parse(xml).find(".//saml:AttributeStatement", NS) is None
    assert verdict(idp, xml, wantAttributeStatement=False) is None


def test_a_refused_sign_in_carries_a_status_and_no_assertion(idp):
    xml = sign_in(idp, status="urn:oasis:names:tc:SAML:2.0:status:AuthnFailed")

    root = parse(xml)
    assert root.find("saml:Assertion", NS) is None
    outer = root.find("samlp:Status/samlp:StatusCode", NS)
    assert outer.get("Value") == "urn:oasis:names:tc:SAML:2.0:status:Responder"
    assert outer.find("samlp:StatusCode", NS).get("Value").endswith(":AuthnFailed")
    assert verdict(idp, xml) == (
        "The status code of the Response was not Success, was Responder"
        " -> urn:oasis:names:tc:SAML:2.0:status:AuthnFailed"
    )


def test_post_form_is_what_the_browser_posts(idp):
    xml = sign_in(idp)

    assert idp.post_form(xml) == {"SAMLResponse": base64.b64encode(xml).decode()}
    form = idp.post_form(xml, relay_state="/courses/")
    assert base64.b64decode(form["SAMLResponse"]) == xml
    assert form["RelayState"] == "/courses/"


# ---------------------------------------------------------------------------------------------
# The shape of what it sends


@pytest.mark.parametrize(
    ("shape", "signed"),
    [
        (Shape.OKTA, {"Response", "Assertion"}),  # Okta: Response and Assertion Signed by default
        (Shape.ENTRA, {"Assertion"}),  # Entra: "Sign SAML assertion"
        (Shape.GOOGLE, {"Assertion"}),  # Google: "Signed response" off
        (Shape.GENERIC, {"Assertion"}),
    ],
    ids=lambda value: value.value if isinstance(value, Shape) else None,
)
def test_each_vendor_signs_what_it_signs_by_default(shape, signed):
    idp = IDP_FACTORIES[shape]()
    root = parse(sign_in(idp))

    signatures = root.findall(".//ds:Signature", NS)
    assert {etree.QName(signature.getparent()).localname for signature in signatures} == signed


def test_signature_sits_after_issuer_with_exclusive_c14n_enveloped_and_certificate(idp):
    assertion = parse(sign_in(idp)).find("saml:Assertion", NS)

    children = [etree.QName(child).localname for child in assertion]
    assert children[:3] == ["Issuer", "Signature", "Subject"]
    signature = assertion.find("ds:Signature", NS)
    assert signature.find("ds:SignedInfo/ds:CanonicalizationMethod", NS).get("Algorithm") == (
        "http://www.w3.org/2001/10/xml-exc-c14n#"
    )
    assert signature.find("ds:SignedInfo/ds:SignatureMethod", NS).get("Algorithm") == (
        "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
    )
    reference = signature.find("ds:SignedInfo/ds:Reference", NS)
    assert reference.get("URI") == "#" + assertion.get("ID")
    transforms = [t.get("Algorithm") for t in reference.findall("ds:Transforms/ds:Transform", NS)]
    assert transforms == [
        "http://www.w3.org/2000/09/xmldsig#enveloped-signature",
        "http://www.w3.org/2001/10/xml-exc-c14n#",
    ]
    assert reference.find("ds:DigestMethod", NS).get("Algorithm") == (
        "http://www.w3.org/2001/04/xmlenc#sha256"
    )
    certificate = signature.find("ds:KeyInfo/ds:X509Data/ds:X509Certificate", NS)
    assert certificate.text == idp.signing_key.certificate_der_b64


@pytest.mark.parametrize(
    ("shape", "response_prefix", "assertion_prefix", "id_pattern", "time_pattern"),
    [
        (Shape.OKTA, "saml2p", "saml2", r"id\d{25}", r"\.\d{3}Z"),
        (Shape.ENTRA, "samlp", None, r"_[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}", r"\.\d{3}Z"),
        (Shape.GOOGLE, "saml2p", "saml2", r"_[0-9a-f]{42}", r"\.\d{3}Z"),
        (Shape.GENERIC, "samlp", "saml", r"_[0-9a-f]{42}", r":\d\dZ"),
    ],
    ids=lambda value: value.value if isinstance(value, Shape) else None,
)
def test_response_is_written_the_way_the_vendor_writes_it(
    shape, response_prefix, assertion_prefix, id_pattern, time_pattern
):
    root = parse(sign_in(IDP_FACTORIES[shape]()))
    assertion = root.find("saml:Assertion", NS)

    assert root.prefix == response_prefix
    assert assertion.prefix == assertion_prefix
    assert re.fullmatch(id_pattern, root.get("ID"))
    assert re.fullmatch(id_pattern, assertion.get("ID"))
    for element in root.iter():
        for name in ("IssueInstant", "NotBefore", "NotOnOrAfter", "AuthnInstant"):
            if element.get(name) is not None:
                assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{3})?Z", element.get(name))
                assert re.search(time_pattern + "$", element.get(name))


@pytest.mark.parametrize(
    ("shape", "name_format", "value_type"),
    [
        (Shape.OKTA, "urn:oasis:names:tc:SAML:2.0:attrname-format:basic", "xs:string"),
        (Shape.ENTRA, None, None),
        (Shape.GOOGLE, None, "xs:anyType"),
        (Shape.GENERIC, "urn:oasis:names:tc:SAML:2.0:attrname-format:uri", "xs:string"),
    ],
    ids=lambda value: value.value if isinstance(value, Shape) else None,
)
def test_attributes_carry_the_vendors_name_format(shape, name_format, value_type):
    root = parse(sign_in(IDP_FACTORIES[shape]()))

    for attribute in root.iterfind(".//saml:Attribute", NS):
        assert attribute.get("NameFormat") == name_format
        for value in attribute.iterfind("saml:AttributeValue", NS):
            assert value.get("{http://www.w3.org/2001/XMLSchema-instance}type") == value_type


def test_entra_sends_its_claim_uris_and_noise():
    attributes = entra_idp().default_attributes("Ada", "Admin", "ada@acme.test")

    claims = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims"
    assert attributes[f"{claims}/givenname"] == ["Ada"]
    assert attributes[f"{claims}/surname"] == ["Admin"]
    assert attributes[f"{claims}/emailaddress"] == ["ada@acme.test"]
    assert attributes[f"{claims}/name"] == ["ada@acme.test"]
    assert "http://schemas.microsoft.com/identity/claims/objectidentifier" in attributes
    assert okta_idp().default_attributes("Ada", "Admin", "ada@acme.test") == {
        "FirstName": ["Ada"],
        "LastName": ["Admin"],
        "Email": ["ada@acme.test"],
    }


def test_saml_time_is_utc_with_z():
    moment = datetime(2025, 1, 31, 9, 30, 0, 123456, tzinfo=UTC)

    assert saml_time(moment) == "2025-01-31T09:30:00Z"
    assert saml_time(moment, milliseconds=True) == "2025-01-31T09:30:00.123Z"
    assert saml_time(moment.replace(tzinfo=None)) == "2025-01-31T09:30:00Z"


# ---------------------------------------------------------------------------------------------
# Metadata and keys


def signing_certificates(parsed):
    """python3-saml's parser gives one certificate as x509cert, several as x509certMulti."""
    idp = parsed["idp"]
    if "x509certMulti" in idp:
        return idp["x509certMulti"]["signing"]
    return [idp["x509cert"]]


@pytest.mark.parametrize("key_count", [1, 2], ids=["one key", "rollover"])
def test_metadata_parses_and_lists_every_signing_key(idp, key_count):
    keys = [make_key_pair("Current IdP key"), make_key_pair("Next IdP key")][:key_count]
    idp = IDP_FACTORIES[idp.shape](keys=keys)

    parsed = OneLogin_Saml2_IdPMetadataParser.parse(idp.metadata_xml())

    assert parsed["idp"]["entityId"] == idp.entity_id
    assert parsed["idp"]["singleSignOnService"]["url"] == idp.sso_url
    assert signing_certificates(parsed) == [key.certificate_der_b64 for key in keys]
    post = OneLogin_Saml2_IdPMetadataParser.parse(
        idp.metadata_xml(), required_sso_binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"
    )
    assert post["idp"]["singleSignOnService"]["url"] == idp.sso_url


def test_metadata_lists_single_logout_only_when_the_idp_has_it(idp):
    parsed = OneLogin_Saml2_IdPMetadataParser.parse(idp.metadata_xml())

    if idp.slo_url:
        assert parsed["idp"]["singleLogoutService"]["url"] == idp.slo_url
    else:
        assert "singleLogoutService" not in parsed["idp"]
    assert (
        "singleLogoutService"
        not in OneLogin_Saml2_IdPMetadataParser.parse(
            IDP_FACTORIES[idp.shape](slo_url=None).metadata_xml()
        )["idp"]
    )


def test_metadata_matches_the_saml_metadata_schema(idp):
    document = OneLogin_Saml2_XML.to_etree(idp.metadata_xml())

    # Entra's RoleDescriptors have WS-Federation xsi:types the SAML schema alone cannot resolve.
    if idp.shape is Shape.ENTRA:
        for role in document.findall("md:RoleDescriptor", NS):
            document.remove(role)
    assert OneLogin_Saml2_XML.validate_xml(document, "saml-schema-metadata-2.0.xsd") is document


def test_entra_metadata_is_signed_and_repeats_its_certificates_outside_the_idp_descriptor():
    idp = entra_idp(keys=[make_key_pair("Current IdP key"), make_key_pair("Next IdP key")])
    xml = idp.metadata_xml()

    assert OneLogin_Saml2_Utils.validate_metadata_sign(xml, idp.signing_key.certificate_pem)
    root = parse(xml)
    assert [etree.QName(child).localname for child in root] == [
        "Signature",
        "RoleDescriptor",
        "RoleDescriptor",
        "IDPSSODescriptor",
    ]
    # Two RoleDescriptors and the IDPSSODescriptor list both keys; the Signature adds one more.
    assert len(root.findall(".//ds:X509Certificate", NS)) == 3 * 2 + 1
    assert root.find("md:IDPSSODescriptor/md:NameIDFormat", NS) is None


def test_generic_metadata_has_a_key_without_use_and_wrapped_certificates():
    idp = generic_idp(keys=[make_key_pair("Current IdP key"), make_key_pair("Next IdP key")])
    root = parse(idp.metadata_xml())

    descriptors = root.findall("md:IDPSSODescriptor/md:KeyDescriptor", NS)
    assert [descriptor.get("use") for descriptor in descriptors] == [None, "signing"]
    text = descriptors[0].find("ds:KeyInfo/ds:X509Data/ds:X509Certificate", NS).text
    assert "\n" in text.strip()
    assert "".join(text.split()) == idp.keys[0].certificate_der_b64


def test_google_metadata_is_valid_until_its_certificate_expires():
    idp = IDP_FACTORIES[Shape.GOOGLE]()
    root = parse(idp.metadata_xml())

    assert root.get("validUntil") == saml_time(idp.signing_key.not_valid_after, milliseconds=True)


def test_response_signed_with_the_next_key_validates_during_rollover(idp):
    current, following = make_key_pair("Current IdP key"), make_key_pair("Next IdP key")
    idp = IDP_FACTORIES[idp.shape](keys=[current, following], signing_key=following)
    parsed = OneLogin_Saml2_IdPMetadataParser.parse(idp.metadata_xml())
    settings = settings_dict(idp)
    settings["idp"] = parsed["idp"]  # trust exactly what the metadata lists

    response = OneLogin_Saml2_Response(
        OneLogin_Saml2_Settings(settings, sp_validation_only=True),
        base64.b64encode(sign_in(idp)),
    )

    assert response.is_valid(dict(REQUEST_DATA)), response.get_error()


def test_response_signed_with_a_key_metadata_does_not_list_is_refused(idp):
    xml = sign_in(idp, signing_key=make_key_pair("Attacker"))

    assert verdict(idp, xml) == SIGNATURE_FAILED
    assert signature_is_intact(xml, make_key_pair("Attacker"))


def test_make_key_pair_is_cached_self_signed_and_dated():
    key = make_key_pair("Cache check", days_valid=30, not_before_days_ago=2)

    assert make_key_pair("Cache check", days_valid=30, not_before_days_ago=2) is key
    assert make_key_pair("Cache check", days_valid=31, not_before_days_ago=2) is not key
    certificate = key.certificate
    assert certificate.subject == certificate.issuer
    assert certificate.subject.rfc4514_string() == "CN=Cache check"
    body = "".join(line for line in key.certificate_pem.splitlines() if "-----" not in line)
    assert body == key.certificate_der_b64
    now = datetime.now(UTC)
    assert certificate.not_valid_before_utc < now - timedelta(days=1)
    assert now + timedelta(days=27) < key.not_valid_after < now + timedelta(days=29)
    assert "PRIVATE KEY" in key.private_key_pem


# ---------------------------------------------------------------------------------------------
# Attacks python3-saml refuses


def xsw_base(idp):
    # XSW targets responses whose Response element is unsigned (Okta can be set up that way).
    return sign_in(idp, name_id="eve@acme.test", sign_response=False)


REFUSED = [
    ("strip_signatures", lambda idp: strip_signatures(sign_in(idp)), NOT_SIGNED),
    (
        "unsigned",
        lambda idp: unsigned(
            idp,
            acs_url=ACS_URL,
            audience=SP_ENTITY_ID,
            name_id="a@acme.test",
            attributes={"Email": ["a@acme.test"]},
        ),
        NOT_SIGNED,
    ),
    (
        "only the Response signed",
        lambda idp: sign_in(idp, sign_assertion=False, sign_response=True),
        NOT_SIGNED,
    ),
    (
        "wrap_forged_assertion_beside",
        lambda idp: wrap_forged_assertion_beside(xsw_base(idp), forged_name_id="admin@acme.test"),
        ONE_ASSERTION,
    ),
    (
        "wrap_forged_assertion_inside",
        lambda idp: wrap_forged_assertion_inside(xsw_base(idp), forged_name_id="admin@acme.test"),
        ONE_ASSERTION,
    ),
    (
        "move_signed_assertion_into_extensions",
        lambda idp: move_signed_assertion_into_extensions(
            xsw_base(idp), forged_name_id="admin@acme.test"
        ),
        ONE_ASSERTION,
    ),
    (
        "move_signed_assertion_into_signature_object",
        lambda idp: move_signed_assertion_into_signature_object(
            xsw_base(idp), forged_name_id="admin@acme.test"
        ),
        ONE_ASSERTION,
    ),
    ("duplicate_assertion", lambda idp: duplicate_assertion(sign_in(idp)), ONE_ASSERTION),
    (
        "tamper_text NameID",
        lambda idp: tamper_text(sign_in(idp), "NameID", "admin@acme.test"),
        SIGNATURE_FAILED,
    ),
    (
        "tamper_text AttributeValue",
        lambda idp: tamper_text(sign_in(idp), "AttributeValue", "admin@acme.test"),
        SIGNATURE_FAILED,
    ),
    (
        "rsa-sha1 signature",
        lambda idp: sign_in(idp, signature="rsa-sha1"),
        "Deprecated signature algorithm found: http://www.w3.org/2000/09/xmldsig#rsa-sha1",
    ),
    (
        "sha1 digest",
        lambda idp: sign_in(idp, digest="sha1"),
        "Deprecated digest algorithm found: http://www.w3.org/2000/09/xmldsig#sha1",
    ),
    (
        "another audience",
        lambda idp: idp.response(
            acs_url=ACS_URL,
            audience="https://other.example/",
            name_id="a@acme.test",
            attributes={"Email": ["a@acme.test"]},
        ),
        f"{SP_ENTITY_ID} is not a valid audience for this Response",
    ),
    (
        "another Destination",
        lambda idp: sign_in(idp, destination="https://evil.example/acs/"),
        f"The response was received at {ACS_URL} instead of https://evil.example/acs/",
    ),
    (
        "empty Destination",
        lambda idp: sign_in(idp, destination=""),
        "The response has an empty Destination value",
    ),
    (
        "another Recipient",
        lambda idp: sign_in(idp, recipient="https://evil.example/acs/"),
        NO_SUBJECT_CONFIRMATION,
    ),
    (
        "another issuer",
        lambda idp: sign_in(idp, issuer="https://evil.example/"),
        "Invalid issuer in the Assertion/Response (expected {entity_id}, got https://evil.example/)",
    ),
    ("no issuer", lambda idp: sign_in(idp, issuer=None), SCHEMA),
    (
        "not yet valid (beyond python3-saml's 300 s drift)",
        lambda idp: sign_in(idp, not_before=datetime.now(UTC) + timedelta(minutes=6)),
        "Could not validate timestamp: not yet valid. Check system clock.",
    ),
    (
        "expired (beyond python3-saml's 300 s drift)",
        lambda idp: sign_in(idp, not_on_or_after=datetime.now(UTC) - timedelta(minutes=6)),
        "Could not validate timestamp: expired. Check system clock.",
    ),
    (
        "subject confirmation expired (no drift allowed)",
        lambda idp: sign_in(idp, subject_not_on_or_after=datetime.now(UTC) - timedelta(seconds=5)),
        NO_SUBJECT_CONFIRMATION,
    ),
]


@pytest.mark.parametrize(("attack", "build", "error"), REFUSED, ids=[case[0] for case in REFUSED])
def test_python3_saml_refuses(idp, attack, build, error):
    assert verdict(idp, build(idp)) == error.format(entity_id=idp.entity_id)


def test_python3_saml_refuses_an_answer_to_another_request(idp):
    xml = sign_in(idp, in_response_to="ONELOGIN_other")

    assert verdict(idp, xml, request_id="ONELOGIN_mine") == (
        "The InResponseTo of the Response: ONELOGIN_other,"
        " does not match the ID of the AuthNRequest sent by the SP: ONELOGIN_mine"
    )


@pytest.mark.parametrize("entity", [True, False], ids=["with entity", "bare"])
def test_python3_saml_refuses_a_doctype_before_validating(idp, entity):
    xml = with_doctype(sign_in(idp), entity=entity)

    assert b"<!DOCTYPE " in xml
    with pytest.raises(DTDForbidden):
        # Raised by the constructor (its parser), not reported by is_valid().
        OneLogin_Saml2_Response(
            OneLogin_Saml2_Settings(settings_dict(idp), sp_validation_only=True),
            base64.b64encode(xml),
        )


@pytest.mark.parametrize(
    "wrap",
    [
        wrap_forged_assertion_beside,
        wrap_forged_assertion_inside,
        move_signed_assertion_into_extensions,
    ],
    ids=lambda wrap: wrap.__name__,
)
def test_xsw_mutations_keep_the_original_signature_valid(idp, wrap):
    """So the refusal above comes from the structural check, not from a broken signature."""
    xml = wrap(xsw_base(idp), forged_name_id="admin@acme.test")

    assert signature_is_intact(xml, idp.signing_key)
    assert b"admin@acme.test" in xml


def test_signature_object_mutation_breaks_the_signature_for_xmlsec(idp):
    # The enveloped-signature transform drops the Signature subtree, the moved assertion with it.
    xml = move_signed_assertion_into_signature_object(
        xsw_base(idp), forged_name_id="admin@acme.test"
    )

    assert not signature_is_intact(xml, idp.signing_key)
    assertion = parse(xml).find("saml:Assertion", NS)
    assert assertion.find("saml:Subject/saml:NameID", NS).text == "admin@acme.test"
    assert assertion.find("ds:Signature/ds:Object/saml:Assertion", NS) is not None


def test_tampering_breaks_the_signature(idp):
    xml = tamper_text(sign_in(idp), "NameID", "admin@acme.test")

    assert not signature_is_intact(xml, idp.signing_key)


# ---------------------------------------------------------------------------------------------
# What python3-saml alone accepts: our own checks (sso/validation.py) must refuse these.


def in_minutes(minutes):
    return datetime.now(UTC) + timedelta(minutes=minutes)


ACCEPTED_BY_PYTHON3_SAML = [
    ("no Audience", lambda idp: sign_in(idp, include_audience=False), {}),
    (
        "no expiry anywhere",
        lambda idp: sign_in(idp, include_conditions_expiry=False, subject_not_on_or_after=None),
        {},
    ),
    ("no Destination", lambda idp: sign_in(idp, destination=None), {}),
    (
        "Destination extending our ACS URL",
        lambda idp: sign_in(idp, destination=ACS_URL + "evil"),
        {},
    ),
    (
        "Destination changed after signing (unsigned Response)",
        lambda idp: tamper_attribute(
            sign_in(idp, sign_response=False), "Response", "Destination", ACS_URL + "../other/"
        ),
        {},
    ),
    ("no Recipient", lambda idp: sign_in(idp, recipient=None), {}),
    (
        "Recipient merely containing our ACS URL",
        lambda idp: sign_in(idp, recipient="https://evil.example/?next=" + ACS_URL),
        {},
    ),
    (
        "no InResponseTo while a request is pending",
        lambda idp: sign_in(idp),
        {"request_id": "ONELOGIN_mine"},
    ),
    (
        "InResponseTo while no request is pending",
        lambda idp: sign_in(idp, in_response_to="ONELOGIN_someone_elses"),
        {},
    ),
    (
        "IssueInstant 300 days old",
        lambda idp: sign_in(idp, issue_instant=datetime.now(UTC) - timedelta(days=300)),
        {},
    ),
    ("NotBefore 4 minutes ahead", lambda idp: sign_in(idp, not_before=in_minutes(4)), {}),
    (
        "Conditions expired 4 minutes ago",
        lambda idp: sign_in(idp, not_on_or_after=in_minutes(-4)),
        {},
    ),
    (
        "SHA-1 when rejectDeprecatedAlgorithm is off",
        lambda idp: sign_in(idp, signature="rsa-sha1", digest="sha1"),
        {"rejectDeprecatedAlgorithm": False},
    ),
]


@pytest.mark.parametrize(
    ("case", "build", "kwargs"),
    ACCEPTED_BY_PYTHON3_SAML,
    ids=[case[0] for case in ACCEPTED_BY_PYTHON3_SAML],
)
def test_python3_saml_alone_accepts(idp, case, build, kwargs):
    assert verdict(idp, build(idp), **kwargs) is None


def test_python3_saml_alone_accepts_a_certificate_past_its_expiry(idp):
    expired = make_key_pair("Expired IdP key", days_valid=1, not_before_days_ago=30)
    idp = IDP_FACTORIES[idp.shape](keys=[expired])

    assert expired.not_valid_after < datetime.now(UTC)
    assert verdict(idp, sign_in(idp)) is None


def test_python3_saml_alone_accepts_the_same_response_twice(idp):
    xml = sign_in(idp)

    assert verdict(idp, xml) is None
    assert verdict(idp, xml) is None  # no replay store: that is ours to keep


def test_comment_in_name_id_keeps_the_signature_and_python3_saml_reads_the_whole_name(idp):
    signed = sign_in(idp, name_id="admin@acme.test.evil.com")
    xml = comment_in_name_id(signed, before="admin@acme.test", after=".evil.com")

    assert b">admin@acme.test<!---->.evil.com<" in xml
    assert signature_is_intact(xml, idp.signing_key)
    response = python3_saml(idp, xml)
    assert response.get_error() is None
    # python3-saml's parser drops comments, so it sees the name that was signed...
    assert response.get_nameid() == "admin@acme.test.evil.com"
    # ...while a parser that keeps comments and reads .text sees the truncated one.
    name_id = parse(xml).find(".//saml:NameID", NS)
    assert name_id.text == "admin@acme.test"


def test_comment_in_name_id_needs_the_attackers_own_name():
    idp = okta_idp()

    with pytest.raises(ValueError, match="NameID"):
        comment_in_name_id(sign_in(idp), before="admin@acme.test", after=".evil.com")
