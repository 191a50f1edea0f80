"""SAML connections of an organisation, sign-ins in flight, the replay store and the record of
every sign-in attempt (DESIGN §6)."""

import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils.timezone import now

from accounts.models import Organisation, User, new_public_id

PUBLIC_ID_LENGTH = 20


class ProviderKind(models.TextChoices):
    OKTA = "okta", "Okta"
    ENTRA = "entra", "Microsoft Entra ID"
    GOOGLE = "google", "Google Workspace"
    SAML = "saml", "Other SAML 2.0"


class SamlConnection(models.Model):
    """One identity provider of one organisation. Its URLs carry an opaque fixed-length id, so
    no tenant's ACS URL is a prefix of another's (DESIGN §3)."""

    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="saml_connections"
    )
    provider = models.CharField(max_length=10, choices=ProviderKind.choices)
    public_id = models.CharField(
        max_length=PUBLIC_ID_LENGTH, unique=True, default=new_public_id, editable=False
    )
    idp_entity_id = models.CharField(max_length=1024, blank=True)
    idp_sso_url = models.URLField(max_length=2048, blank=True)
    idp_slo_url = models.URLField(max_length=2048, blank=True)
    # Every signing certificate the metadata lists (rollover): [{"pem", "fingerprint_sha256",
    # "not_before", "not_after", "subject"}]. A response must be signed by one of these.
    certificates = models.JSONField(default=list, blank=True)
    metadata_xml = models.TextField(blank=True)
    metadata_url = models.URLField(max_length=2048, blank=True)
    metadata_refreshed_at = models.DateTimeField(null=True, blank=True)
    metadata_refresh_error = models.TextField(blank=True)
    enabled = models.BooleanField(default=False, help_text="People may sign in through it.")
    allow_idp_initiated = models.BooleanField(
        default=False, help_text="Accept sign-ins started at the identity provider (Okta tile)."
    )
    jit_provisioning = models.BooleanField(
        default=False,
        help_text="Create unknown people at their first sign-in (never while SCIM is on).",
    )
    # SAML attribute mapping (sso.mapping): [{"attribute": <Name as the IdP sends it>, "target":
    # "field:<profile field>" | "custom:<the organisation's attribute>"}]. On the connection's row,
    # so a sign-in reads it with the connection: no statement more for connections without one.
    attribute_mapping = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(default=now, editable=False)
    updated_at = models.DateTimeField(default=now)

    class Meta:
        verbose_name = "SAML connection"
        verbose_name_plural = "SAML connections"
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "provider"], name="saml_connection_one_per_provider"
            ),
            models.CheckConstraint(
                condition=Q(enabled=False) | ~Q(idp_entity_id=""),
                name="saml_connection_enabled_needs_metadata",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_provider_display()} for {self.organisation.slug}"

    @property
    def is_configured(self) -> bool:
        return bool(self.idp_entity_id and self.idp_sso_url and self.certificates)

    @property
    def base_url(self) -> str:
        return f"{settings.PUBLIC_BASE_URL}/sso/saml/{self.public_id}"

    @property
    def sp_entity_id(self) -> str:
        """Our Entity ID (Okta: Audience URI): the SP metadata URL, the usual convention."""
        return f"{self.base_url}/metadata/"

    @property
    def acs_url(self) -> str:
        return f"{self.base_url}/acs/"

    @property
    def login_url(self) -> str:
        return f"{self.base_url}/login/"

    @property
    def logout_url(self) -> str:
        return f"{self.base_url}/logout/"

    @property
    def jit_allowed(self) -> bool:
        """Just-in-time creation is off while SCIM provisions the organisation: SCIM decides
        who exists, and a sign-in must not create people behind its back."""
        return self.jit_provisioning and not self.organisation.scim_enabled


class PendingSignIn(models.Model):
    """An AuthnRequest we sent, waiting for its response. Bound to the browser that started
    it by a random nonce in a cookie of its own (the session cookie is SameSite=Lax, so the
    IdP's cross-site POST to the ACS does not carry it); used at most once."""

    connection = models.ForeignKey(
        SamlConnection, on_delete=models.CASCADE, related_name="pending_sign_ins"
    )
    request_id = models.CharField(max_length=100, unique=True)
    browser_digest = models.CharField(max_length=64)
    relay_state = models.CharField(max_length=500, blank=True)
    # Set for a Test sign-in: the admin who started it sees the result; nobody is signed in.
    tested_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    created_at = models.DateTimeField(default=now)
    used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return self.request_id


class AcceptedAssertion(models.Model):
    """The replay store: every accepted assertion id, once, in the database so that every app
    server sees it. Rows may be pruned once the assertion has expired. The identity provider's
    LogoutRequests are kept here too, under their message ID prefixed with ``logout:`` (see
    ``sso.logout``), so that a captured one cannot sign anybody out twice."""

    connection = models.ForeignKey(
        SamlConnection, on_delete=models.CASCADE, related_name="accepted_assertions"
    )
    assertion_id = models.CharField(max_length=256)
    expires_at = models.DateTimeField()
    created_at = models.DateTimeField(default=now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["connection", "assertion_id"], name="accepted_assertion_once"
            ),
        ]

    def __str__(self) -> str:
        return self.assertion_id


class SignInOutcome(models.TextChoices):
    SIGNED_IN = "signed_in", "Signed in"
    REFUSED = "refused", "Refused"
    TEST_PASSED = "test_passed", "Test passed"
    TEST_FAILED = "test_failed", "Test failed"


class SignInAttempt(models.Model):
    """Every SAML sign-in attempt: what arrived, what we decided and why."""

    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="sign_in_attempts"
    )
    connection = models.ForeignKey(
        SamlConnection, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=now)
    outcome = models.CharField(max_length=12, choices=SignInOutcome.choices)
    reason_code = models.CharField(max_length=50, blank=True)
    reason = models.TextField(blank=True)
    name_id = models.CharField(max_length=255, blank=True)
    attributes = models.JSONField(default=dict, blank=True)
    user = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    ip = models.GenericIPAddressField(null=True, blank=True)
    # Every check and its result: [{"code", "name", "passed", "detail"}]
    checks = models.JSONField(default=list, blank=True)
    clock_difference_seconds = models.FloatField(null=True, blank=True)

    class Meta:
        verbose_name = "sign-in attempt"
        verbose_name_plural = "sign-in attempts"
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["organisation", "-created_at"], name="sign_in_org_time_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_outcome_display()} {self.name_id}"


def new_verification_token() -> str:
    return secrets.token_urlsafe(24)


class DomainVerification(models.TextChoices):
    DNS = "dns", "DNS TXT record"
    SUPPORT = "support", "Support staff"


class SsoDomain(models.Model):
    """An email domain an organisation signs in with: once verified, people who enter an address
    at it on the single sign-on page are sent to the organisation's identity provider.

    Stored normalised (``sso.domains.normalise_domain``: lowercase, IDNA A-labels, no trailing
    dot). Any organisation may claim a domain, but only one may have it verified: an unverified
    claim must not let anyone block the domain's real owner."""

    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="sso_domains"
    )
    domain = models.CharField(max_length=253)
    # Published by the organisation in DNS to prove it controls the domain; not a secret.
    verification_token = models.CharField(
        max_length=64, default=new_verification_token, editable=False
    )
    verified_at = models.DateTimeField(null=True, blank=True)
    verified_by = models.CharField(max_length=10, choices=DomainVerification.choices, blank=True)
    created_at = models.DateTimeField(default=now, editable=False)

    class Meta:
        verbose_name = "SSO domain"
        verbose_name_plural = "SSO domains"
        ordering = ["domain"]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "domain"], name="sso_domain_once_per_organisation"
            ),
            # One domain belongs to one organisation. Also the index of sign-in routing.
            models.UniqueConstraint(
                fields=["domain"],
                condition=Q(verified_at__isnull=False),
                name="sso_domain_verified_once",
            ),
            models.CheckConstraint(
                condition=Q(domain=Lower("domain")), name="sso_domain_lowercase"
            ),
            models.CheckConstraint(
                condition=Q(verified_at__isnull=True, verified_by="")
                | (Q(verified_at__isnull=False) & ~Q(verified_by="")),
                name="sso_domain_verified_says_how",
            ),
        ]

    def __str__(self) -> str:
        return self.domain

    @property
    def is_verified(self) -> bool:
        return self.verified_at is not None
