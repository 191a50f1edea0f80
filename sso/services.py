"""Changes to SAML connections and sign-in domains, one function each, audited on the
organisation."""

from dataclasses import asdict
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts import audit
from accounts.audit import Actor
from accounts.models import CustomAttribute, Organisation
from sso import dns_lookup, mapping
from sso.domains import DomainInvalid, normalise_domain, record_name, record_value
from sso.metadata import IdpMetadata
from sso.models import DomainVerification, ProviderKind, SamlConnection, SsoDomain


class ConnectionRefused(Exception):
    """A change the connection's state does not allow; the message says why."""


class MappingRefused(Exception):
    """An attribute mapping that cannot be added; ``field`` names the input at fault."""

    def __init__(self, field: str | None, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


class DomainRefused(Exception):
    """A sign-in domain that cannot be added or verified; the message says why, in words for
    the admin."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


# Never which organisation: that would tell anyone who can add a domain who uses auzlearn.
DOMAIN_TAKEN = (
    "This domain is already verified by another organisation. If it belongs to yours, contact "
    "support."
)


@transaction.atomic
def connection_for(*, organisation: Organisation, provider: str) -> SamlConnection:
    """The organisation's connection to this provider, created empty on first use. Okta's
    starts with IdP-initiated sign-in allowed, since the Okta tile signs people in that way."""
    connection, _ = SamlConnection.objects.get_or_create(
        organisation=organisation,
        provider=provider,
        defaults={"allow_idp_initiated": provider == ProviderKind.OKTA},
    )
    return connection


@transaction.atomic
def connection_configure(
    *,
    connection: SamlConnection,
    actor: Actor,
    metadata: IdpMetadata,
    metadata_xml: str,
    metadata_url: str = "",
) -> SamlConnection:
    """Take the IdP's settings from parsed metadata (every signing certificate is kept). When
    nothing changed (a scheduled refresh, usually) only the refresh time is noted."""
    before = _fingerprints(connection)
    unchanged = (
        connection.idp_entity_id == metadata.entity_id
        and connection.idp_sso_url == metadata.sso_url
        and connection.idp_slo_url == (metadata.slo_url or "")
        and before == sorted(cert.fingerprint_sha256 for cert in metadata.certificates)
        and connection.metadata_url == metadata_url
    )
    if unchanged:
        connection.metadata_refreshed_at = timezone.now() if metadata_url else None
        connection.metadata_refresh_error = ""
        connection.save(update_fields=["metadata_refreshed_at", "metadata_refresh_error"])
        return connection
    connection.idp_entity_id = metadata.entity_id
    connection.idp_sso_url = metadata.sso_url
    connection.idp_slo_url = metadata.slo_url or ""
    connection.certificates = [_certificate(cert) for cert in metadata.certificates]
    connection.metadata_xml = metadata_xml
    connection.metadata_url = metadata_url
    connection.metadata_refreshed_at = timezone.now() if metadata_url else None
    connection.metadata_refresh_error = ""
    connection.updated_at = timezone.now()
    connection.save()
    changes: dict[str, Any] = {
        "provider": connection.provider,
        "idp_entity_id": metadata.entity_id,
        "idp_sso_url": metadata.sso_url,
        "metadata_url": metadata_url,
    }
    after = _fingerprints(connection)
    if after != before:
        changes["certificates"] = {"before": before, "after": after}
    audit.record(
        actor=actor, action="saml.configure", target=connection.organisation, changes=changes
    )
    return connection


@transaction.atomic
def connection_refresh_failed(*, connection: SamlConnection, error: str) -> SamlConnection:
    """A failed refresh keeps the last good configuration and says what went wrong."""
    connection.metadata_refresh_error = error
    connection.save(update_fields=["metadata_refresh_error"])
    return connection


@transaction.atomic
def connection_switches(
    *,
    connection: SamlConnection,
    actor: Actor,
    enabled: bool,
    allow_idp_initiated: bool,
    jit_provisioning: bool,
) -> SamlConnection:
    if enabled and not connection.is_configured:
        raise ConnectionRefused("Upload the identity provider's metadata before turning SSO on.")
    wanted = {
        "enabled": enabled,
        "allow_idp_initiated": allow_idp_initiated,
        "jit_provisioning": jit_provisioning,
    }
    changes = {
        name: [getattr(connection, name), value]
        for name, value in wanted.items()
        if getattr(connection, name) != value
    }
    if not changes:
        return connection
    for name, (_, value) in changes.items():
        setattr(connection, name, value)
    connection.updated_at = timezone.now()
    connection.save(update_fields=[*changes, "updated_at"])
    audit.record(
        actor=actor,
        action="saml.switches",
        target=connection.organisation,
        changes={"provider": connection.provider, **changes},
    )
    return connection


def _certificate(certificate: Any) -> dict[str, str]:
    data = asdict(certificate)
    return {
        "pem": data["pem"],
        "fingerprint_sha256": data["fingerprint_sha256"],
        "subject": data["subject"],
        "not_before": certificate.not_before.isoformat(),
        "not_after": certificate.not_after.isoformat(),
    }


def _fingerprints(connection: SamlConnection) -> list[str]:
    return sorted(cert["fingerprint_sha256"] for cert in connection.certificates)


# --- attribute mapping -------------------------------------------------------------------------


@transaction.atomic
def connection_map_attribute(
    *, connection: SamlConnection, actor: Actor, attribute: str, target: str
) -> mapping.AttributeMapping:
    """Set ``target`` (a profile field, or one of the organisation's own attributes) from the
    SAML attribute named ``attribute`` at each sign-in. A target is set from one attribute only."""
    attribute = attribute.strip()
    if not attribute:
        raise MappingRefused(
            "attribute", "Enter the attribute's name as the identity provider sends it."
        )
    if len(attribute) > mapping.MAX_ATTRIBUTE_NAME_LENGTH:
        raise MappingRefused(
            "attribute",
            f"An attribute name is at most {mapping.MAX_ATTRIBUTE_NAME_LENGTH} characters.",
        )
    target = _known_target(connection.organisation, target)
    # Read the mapping as committed, the row locked: two admins adding at once both keep theirs.
    connection.refresh_from_db(
        from_queryset=SamlConnection.objects.select_for_update(), fields=["attribute_mapping"]
    )
    current = mapping.mappings_of(connection.attribute_mapping)
    taken = next((line for line in current if line.target.lower() == target.lower()), None)
    if taken is not None:
        raise MappingRefused(
            "target",
            f"{mapping.target_label(taken)} is already set from “{taken.attribute}”: remove that "
            "mapping first.",
        )
    if len(current) >= mapping.MAX_MAPPINGS:
        raise MappingRefused(None, f"A connection maps at most {mapping.MAX_MAPPINGS} attributes.")
    added = mapping.AttributeMapping(attribute, target)
    connection.attribute_mapping = [line.as_json() for line in (*current, added)]
    connection.updated_at = timezone.now()
    connection.save(update_fields=["attribute_mapping", "updated_at"])
    audit.record(
        actor=actor,
        action="saml.attribute_map",
        target=connection.organisation,
        changes={"provider": connection.provider, "attribute": attribute, "target": target},
    )
    return added


@transaction.atomic
def connection_unmap_attribute(
    *, connection: SamlConnection, actor: Actor, target: str
) -> mapping.AttributeMapping | None:
    """Stop setting ``target`` at sign-in; None when nothing set it."""
    connection.refresh_from_db(
        from_queryset=SamlConnection.objects.select_for_update(), fields=["attribute_mapping"]
    )
    current = mapping.mappings_of(connection.attribute_mapping)
    removed = next((line for line in current if line.target == target), None)
    if removed is None:
        return None
    connection.attribute_mapping = [line.as_json() for line in current if line != removed]
    connection.updated_at = timezone.now()
    connection.save(update_fields=["attribute_mapping", "updated_at"])
    audit.record(
        actor=actor,
        action="saml.attribute_unmap",
        target=connection.organisation,
        changes={"provider": connection.provider, "attribute": removed.attribute, "target": target},
    )
    return removed


def mappings_of_custom_attribute(organisation: Organisation, name: str) -> list[str]:
    """The SAML mappings that set the organisation's attribute ``name``, in words ("“dept” on
    Okta"): what removing the attribute stops. A connection or two per organisation: read
    whole, filtered here (the same JSON on PostgreSQL and SQLite)."""
    found = []
    for connection in SamlConnection.objects.filter(organisation=organisation).only(
        "provider", "attribute_mapping"
    ):
        for line in mapping.mappings_of(connection.attribute_mapping):
            if line.is_custom and line.name.lower() == name.lower():
                found.append(f"“{line.attribute}” on {connection.get_provider_display()}")
    return found


def _known_target(organisation: Organisation, target: str) -> str:
    """The target as stored (an attribute under its own name), or MappingRefused."""
    if target.startswith(mapping.CUSTOM):
        name = target.removeprefix(mapping.CUSTOM)
        attribute = next(
            (
                a
                for a in CustomAttribute.objects.filter(organisation=organisation)
                if a.name.lower() == name.lower()
            ),
            None,
        )
        if attribute is not None:
            return mapping.CUSTOM + attribute.name
    elif target in {choice.key for choice in mapping.profile_targets()}:
        return target
    raise MappingRefused("target", "Choose a profile field or one of your own attributes.")


# --- sign-in domains ----------------------------------------------------------------------------


@transaction.atomic
def domain_add(*, organisation: Organisation, actor: Actor, domain: str) -> SsoDomain:
    """Claim a domain for sign-in routing; it routes nobody until it is verified."""
    try:
        name = normalise_domain(domain)
    except DomainInvalid as invalid:
        raise DomainRefused(invalid.message) from None
    if SsoDomain.objects.filter(organisation=organisation, domain=name).exists():
        raise DomainRefused(f"{name} is already on your list.")
    if domain_verified_elsewhere(organisation, name):
        raise DomainRefused(DOMAIN_TAKEN)
    try:
        with transaction.atomic():
            added = SsoDomain.objects.create(organisation=organisation, domain=name)
    except IntegrityError:  # the same admin twice at once
        raise DomainRefused(f"{name} is already on your list.") from None
    audit.record(
        actor=actor, action="sso.domain_add", target=organisation, changes={"domain": name}
    )
    return added


def domain_verify_by_dns(*, domain: SsoDomain, actor: Actor) -> dns_lookup.Lookup:
    """Look for the domain's TXT record and verify the domain when it is there. Not one
    transaction: the DNS lookup (seconds, at worst) holds no database connection busy."""
    if domain.is_verified:
        return dns_lookup.Lookup.FOUND
    found = dns_lookup.txt_record_present(
        record_name(domain.domain), record_value(domain.verification_token)
    )
    if found is dns_lookup.Lookup.FOUND:
        domain_verify(domain=domain, actor=actor, method=DomainVerification.DNS)
    return found


@transaction.atomic
def domain_verify(*, domain: SsoDomain, actor: Actor, method: DomainVerification) -> SsoDomain:
    """Mark the domain verified: from now on it routes sign-ins to its organisation. Refused
    while another organisation has it verified; the database constraint settles a race."""
    if domain.is_verified:
        return domain
    if domain_verified_elsewhere(domain.organisation, domain.domain):
        raise DomainRefused(DOMAIN_TAKEN)
    domain.verified_at = timezone.now()
    domain.verified_by = method
    try:
        with transaction.atomic():
            domain.save(update_fields=["verified_at", "verified_by"])
    except IntegrityError:
        domain.verified_at, domain.verified_by = None, ""
        raise DomainRefused(DOMAIN_TAKEN) from None
    audit.record(
        actor=actor,
        action="sso.domain_verify",
        target=domain.organisation,
        changes={"domain": domain.domain, "method": method.value},
    )
    return domain


@transaction.atomic
def domain_remove(*, domain: SsoDomain, actor: Actor) -> None:
    """Forget the domain: people who enter an address at it are no longer routed by it."""
    audit.record(
        actor=actor,
        action="sso.domain_remove",
        target=domain.organisation,
        changes={"domain": domain.domain, "was_verified": domain.is_verified},
    )
    domain.delete()


def domain_verified_elsewhere(organisation: Organisation, name: str) -> bool:
    """Whether another organisation has this (normalised) domain verified."""
    return (
        SsoDomain.objects.filter(domain=name, verified_at__isnull=False)
        .exclude(organisation=organisation)
        .exists()
    )
