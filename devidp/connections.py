"""The development IdP and the SAML connections that trust it: its URLs and metadata, the
connection ``manage.py demo`` makes for it, and which connection a sign-in is for.

A connection trusts the development IdP when it names the IdP's entity ID and pins its
certificate. Only ``manage.py demo`` makes one: the metadata names a plain-http sign-in URL on
a local run, which the SAML tab's upload (sso.metadata) rightly refuses for a real identity
provider, and the key is this checkout's own (devidp.keys).
"""

from django.conf import settings

from accounts.audit import Actor
from accounts.models import Organisation, User, UserQuerySet
from devidp import keys, saml
from sso import services as sso_services
from sso.metadata import Certificate, IdpMetadata
from sso.models import ProviderKind, SamlConnection

# Where auzlearn/urls.py mounts devidp/urls.py.
PREFIX = "dev-idp/"
METADATA_PATH = PREFIX + "metadata/"
SSO_PATH = PREFIX + "sso/"
SIGN_IN_PATH = PREFIX + "sign-in/"


def entity_id() -> str:
    """The IdP's entity ID: its metadata URL, as Okta's and many IdPs' are."""
    return f"{settings.PUBLIC_BASE_URL}/{METADATA_PATH}"


def sso_url() -> str:
    """Where our service provider sends AuthnRequests (HTTP-Redirect)."""
    return f"{settings.PUBLIC_BASE_URL}/{SSO_PATH}"


def metadata_xml() -> bytes:
    return saml.metadata_xml(
        entity_id=entity_id(),
        sso_url=sso_url(),
        certificate_der_b64=keys.signing_key().certificate_der_b64,
    )


def idp_metadata() -> IdpMetadata:
    """What ``metadata_xml`` states, as sso.metadata reads an identity provider's metadata.

    Built from the facts rather than parsed: the parser refuses a plain-http sign-in URL, as it
    must for an identity provider on another site, and a local run serves this IdP over http on
    our own site. No flag in sso/ relaxes that rule; this is the one place it does not apply.
    """
    key = keys.signing_key()
    certificate = key.certificate
    return IdpMetadata(
        entity_id=entity_id(),
        sso_url=sso_url(),
        slo_url=None,
        certificates=(
            Certificate(
                pem=key.certificate_pem,
                der_b64=key.certificate_der_b64,
                fingerprint_sha256=key.fingerprint_sha256,
                not_before=certificate.not_valid_before_utc,
                not_after=certificate.not_valid_after_utc,
                subject=certificate.subject.rfc4514_string(),
            ),
        ),
        name_id_formats=(saml.UNSPECIFIED,),
    )


def connect(
    *, organisation: Organisation, actor: Actor, provider: str = ProviderKind.OKTA
) -> SamlConnection:
    """Configure the organisation's connection to ``provider`` with the development IdP's
    metadata, turn sign-in on and allow sign-ins started at the IdP, through the services the
    SAML tab uses (so it is audited as the admin's changes are). Running it again changes
    nothing unless the key or PUBLIC_BASE_URL did."""
    connection = sso_services.connection_for(organisation=organisation, provider=provider)
    connection = sso_services.connection_configure(
        connection=connection,
        actor=actor,
        metadata=idp_metadata(),
        metadata_xml=metadata_xml().decode(),
    )
    return sso_services.connection_switches(
        connection=connection,
        actor=actor,
        enabled=True,
        allow_idp_initiated=True,
        jit_provisioning=connection.jit_provisioning,
    )


def trusting() -> list[SamlConnection]:
    """The connections that would accept this IdP's responses: its entity ID, its certificate."""
    fingerprint = keys.signing_key().fingerprint_sha256
    candidates = SamlConnection.objects.select_related("organisation").filter(
        idp_entity_id=entity_id()
    )
    return [
        connection
        for connection in candidates.order_by("organisation__name", "provider")
        if any(cert.get("fingerprint_sha256") == fingerprint for cert in connection.certificates)
    ]


def trusting_connection(public_id: str) -> SamlConnection | None:
    return next((c for c in trusting() if c.public_id == public_id), None)


def for_request(request: saml.AuthnRequest) -> SamlConnection:
    """The connection an AuthnRequest comes from: its Issuer is the connection's Entity ID.
    A request naming an ACS URL that is not that connection's is refused: an IdP posts
    assertions only where it was configured to, never where a request says."""
    connection = next((c for c in trusting() if c.sp_entity_id == request.issuer), None)
    if connection is None:
        raise saml.RequestRefused(
            f"No connection that trusts this identity provider has the Entity ID "
            f"{request.issuer}. Run `manage.py demo` to connect the demo organisation."
        )
    if request.acs_url is not None and request.acs_url != connection.acs_url:
        raise saml.RequestRefused(
            f"The request asks for the response at {request.acs_url}, which is not the ACS URL "
            f"of {connection} ({connection.acs_url})."
        )
    return connection


def people(connection: SamlConnection) -> UserQuerySet:
    """Who can be chosen: the organisation's people, the deactivated too (their sign-in is
    refused, which is worth seeing); not the deleted, whom the directory no longer has."""
    return (
        User.objects.for_organisation(connection.organisation)
        .not_deleted()
        .order_by("given_name", "family_name", "username")
    )


def subject(person: User) -> saml.Subject:
    """NameID = userName and the attribute statements the SAML tab asks Okta for."""
    return saml.Subject(
        name_id=person.username,
        attributes={
            "FirstName": person.given_name,
            "LastName": person.family_name,
            "Email": person.email,
        },
    )


def response_fields(
    connection: SamlConnection,
    person: User,
    *,
    in_response_to: str | None,
    relay_state: str | None,
) -> dict[str, str]:
    """The signed response for ``person``, as the form fields posted to the connection's ACS."""
    xml = saml.response_xml(
        key=keys.signing_key(),
        issuer=entity_id(),
        acs_url=connection.acs_url,
        audience=connection.sp_entity_id,
        subject=subject(person),
        in_response_to=in_response_to,
    )
    return saml.post_fields(xml, relay_state)
