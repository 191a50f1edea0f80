"""The Django admin for support staff: SAML connections and the sign-in attempts, to inspect and
repair an organisation's single sign-on, and the organisations' sign-in domains.

A connection's metadata and certificates are read-only here: they change only by uploading
metadata on the SAML tab (or ``manage.py saml_configure`` / ``refresh_saml_metadata``), which
parse and check it. Support can flip a connection's switches, through
``sso.services.connection_switches`` as everywhere, so the audit log names them. Connections are
created by opening the provider's settings and are never deleted (sign-in attempts refer to
them). Sign-in attempts are read-only for everyone.

Sign-in domains can be added, verified and removed here, through ``sso.services`` as on the SAML
tab. Support may verify a domain without its DNS record ("Mark as verified") once they have
checked by other means that it belongs to the organisation, e.g. for a customer who cannot
publish TXT records; the audit log names who did it and how.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, TypeVar

from django import forms
from django.contrib import admin, messages
from django.db.models import Model, QuerySet
from django.http import HttpRequest
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from accounts.audit import Actor
from accounts.models import User
from sso import services
from sso.dns_lookup import Lookup
from sso.domains import DomainInvalid, normalise_domain, record_name, record_value
from sso.models import DomainVerification, SamlConnection, SignInAttempt, SsoDomain

_M = TypeVar("_M", bound=Model)

SWITCHES = ("enabled", "allow_idp_initiated", "jit_provisioning")
_CONNECTION_READ_ONLY = (
    "organisation",
    "provider",
    "public_id",
    "sp_entity_id",
    "acs_url",
    "idp_entity_id",
    "idp_sso_url",
    "idp_slo_url",
    "certificates_table",
    "metadata_url",
    "metadata_refreshed_at",
    "metadata_refresh_error",
    "metadata_xml_text",
    "created_at",
    "updated_at",
)


def _pretty_json(value: object) -> SafeString:
    pretty = json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False)
    return format_html("<pre>{}</pre>", pretty)


class SamlConnectionForm(forms.ModelForm[SamlConnection]):
    def clean(self) -> dict[str, Any] | None:
        cleaned_data = super().clean()
        # The same rule as connection_switches, shown as a form error rather than a failure.
        if self.cleaned_data.get("enabled") and not self.instance.is_configured:
            self.add_error(
                "enabled", "Single sign-on cannot be turned on before the metadata is uploaded."
            )
        return cleaned_data


@admin.register(SamlConnection)
class SamlConnectionAdmin(admin.ModelAdmin[SamlConnection]):
    form = SamlConnectionForm
    list_display = [
        "organisation",
        "provider",
        "enabled",
        "idp_entity_id",
        "soonest_certificate_expiry",
        "metadata_url",
    ]
    list_select_related = ["organisation"]
    list_filter = ["organisation", "provider", "enabled"]
    search_fields = ["organisation__slug", "organisation__name", "idp_entity_id", "public_id"]
    ordering = ["organisation__name", "provider"]
    readonly_fields = _CONNECTION_READ_ONLY
    fieldsets = [
        (None, {"fields": ["organisation", "provider", "public_id", *SWITCHES]}),
        ("Our side (service provider)", {"fields": ["sp_entity_id", "acs_url"]}),
        (
            "Identity provider (from its metadata; change it on the SAML tab)",
            {"fields": ["idp_entity_id", "idp_sso_url", "idp_slo_url", "certificates_table"]},
        ),
        (
            "Metadata",
            {
                "fields": [
                    "metadata_url",
                    "metadata_refreshed_at",
                    "metadata_refresh_error",
                    "metadata_xml_text",
                ]
            },
        ),
        ("Record", {"fields": ["created_at", "updated_at"]}),
    ]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(
        self, request: HttpRequest, obj: SamlConnection | None = None
    ) -> bool:
        return False

    def save_model(
        self, request: HttpRequest, obj: SamlConnection, form: forms.BaseForm, change: bool
    ) -> None:
        user = request.user
        assert isinstance(user, User), "the admin site lets only signed-in staff in"
        # The form has refused what connection_switches would (SSO on without metadata), and
        # metadata is never removed, so the service does not refuse here.
        services.connection_switches(
            connection=SamlConnection.objects.select_related("organisation").get(pk=obj.pk),
            actor=Actor.admin(user),
            **{name: form.cleaned_data[name] for name in SWITCHES},
        )
        obj.refresh_from_db()

    @admin.display(description="Soonest certificate expiry")
    def soonest_certificate_expiry(self, connection: SamlConnection) -> datetime | None:
        ends = [datetime.fromisoformat(cert["not_after"]) for cert in connection.certificates]
        return min(ends, default=None)

    @admin.display(description="Signing certificates")
    def certificates_table(self, connection: SamlConnection) -> SafeString:
        if not connection.certificates:
            return format_html("{}", "none (no metadata uploaded)")
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td><code>{}</code></td><td>{}</td><td>{}</td></tr>",
            (
                (cert["subject"], cert["fingerprint_sha256"], cert["not_before"], cert["not_after"])
                for cert in connection.certificates
            ),
        )
        return format_html(
            "<table><thead><tr><th>Subject</th><th>Fingerprint (SHA-256)</th>"
            "<th>Valid from</th><th>Valid until</th></tr></thead><tbody>{}</tbody></table>",
            rows,
        )

    @admin.display(description="Metadata XML")
    def metadata_xml_text(self, connection: SamlConnection) -> SafeString:
        return format_html("<pre>{}</pre>", connection.metadata_xml or "(none)")


_ATTEMPT_FIELDS = (
    "created_at",
    "organisation",
    "connection",
    "outcome",
    "reason_code",
    "reason",
    "name_id",
    "user",
    "ip",
    "clock_difference_seconds",
    "checks_json",
    "attributes_json",
)


@admin.register(SignInAttempt)
class SignInAttemptAdmin(admin.ModelAdmin[SignInAttempt]):
    """Every SAML sign-in attempt, as the Activity tab shows it: read-only."""

    list_display = [
        "created_at",
        "organisation",
        "provider",
        "outcome",
        "reason_code",
        "name_id",
        "ip",
    ]
    list_select_related = ["organisation", "connection"]
    list_filter = ["organisation", "outcome", "reason_code"]
    search_fields = ["name_id"]
    date_hierarchy = "created_at"
    fields = _ATTEMPT_FIELDS
    readonly_fields = _ATTEMPT_FIELDS

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: SignInAttempt | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: SignInAttempt | None = None) -> bool:
        return False

    @admin.display(description="Provider", ordering="connection__provider")
    def provider(self, attempt: SignInAttempt) -> str:
        return attempt.connection.get_provider_display() if attempt.connection else "—"

    @admin.display(description="Checks")
    def checks_json(self, attempt: SignInAttempt) -> SafeString:
        return _pretty_json(attempt.checks)

    @admin.display(description="Attributes received")
    def attributes_json(self, attempt: SignInAttempt) -> SafeString:
        return _pretty_json(attempt.attributes)


# --- sign-in domains ----------------------------------------------------------------------------


class SsoDomainForm(forms.ModelForm[SsoDomain]):
    """Adding a domain: the same checks and words as ``services.domain_add``, as form errors."""

    class Meta:
        model = SsoDomain
        fields = ["organisation", "domain"]

    def clean_domain(self) -> str:
        # Normalised before the model's own validation, which checks the lowercase constraint.
        try:
            return normalise_domain(self.cleaned_data["domain"])
        except DomainInvalid as invalid:
            raise forms.ValidationError(invalid.message) from None

    def clean(self) -> dict[str, Any] | None:
        cleaned_data = super().clean()
        organisation, name = self.cleaned_data.get("organisation"), self.cleaned_data.get("domain")
        if (
            organisation is not None
            and name is not None
            and services.domain_verified_elsewhere(organisation, name)
        ):
            self.add_error("domain", services.DOMAIN_TAKEN)
        return cleaned_data


@admin.register(SsoDomain)
class SsoDomainAdmin(admin.ModelAdmin[SsoDomain]):
    form = SsoDomainForm
    list_display = [
        "domain",
        "organisation",
        "verified",
        "verified_by",
        "verified_at",
        "created_at",
    ]
    list_select_related = ["organisation"]
    list_filter = ["verified_by", "organisation"]
    search_fields = ["domain", "organisation__slug", "organisation__name"]
    ordering = ["domain", "organisation__name"]
    actions = ["mark_verified", "check_dns"]

    def get_fields(self, request: HttpRequest, obj: SsoDomain | None = None) -> Any:
        if obj is None:
            return ["organisation", "domain"]
        return [
            "organisation",
            "domain",
            "verified_by",
            "verified_at",
            "txt_record_name",
            "txt_record_value",
            "created_at",
        ]

    def get_readonly_fields(self, request: HttpRequest, obj: SsoDomain | None = None) -> Any:
        # Once added, a domain changes only by the actions (and removal), which are audited.
        return [] if obj is None else self.get_fields(request, obj)

    def save_model(
        self, request: HttpRequest, obj: SsoDomain, form: forms.BaseForm, change: bool
    ) -> None:
        if change:
            return  # nothing is editable
        try:
            added = services.domain_add(
                organisation=form.cleaned_data["organisation"],
                actor=_support(request),
                domain=form.cleaned_data["domain"],
            )
        except services.DomainRefused as refused:  # only when someone else was quicker
            self.message_user(request, refused.message, messages.ERROR)
            return
        obj.pk, obj.domain = added.pk, added.domain

    def delete_model(self, request: HttpRequest, obj: SsoDomain) -> None:
        services.domain_remove(domain=obj, actor=_support(request))

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[SsoDomain]) -> None:
        for domain in queryset.select_related("organisation"):
            services.domain_remove(domain=domain, actor=_support(request))

    @admin.display(description="Verified", boolean=True)
    def verified(self, domain: SsoDomain) -> bool:
        return domain.is_verified

    @admin.display(description="TXT record name")
    def txt_record_name(self, domain: SsoDomain) -> str:
        return record_name(domain.domain)

    @admin.display(description="TXT record value")
    def txt_record_value(self, domain: SsoDomain) -> str:
        return record_value(domain.verification_token)

    @admin.action(description="Mark as verified (support checked that it is theirs)")
    def mark_verified(self, request: HttpRequest, queryset: QuerySet[SsoDomain]) -> None:
        for domain in queryset.select_related("organisation"):
            try:
                services.domain_verify(
                    domain=domain, actor=_support(request), method=DomainVerification.SUPPORT
                )
            except services.DomainRefused as refused:
                self.message_user(
                    request, f"Not verified {domain}: {refused.message}", messages.ERROR
                )
            else:
                self.message_user(request, f"Verified {domain}.", messages.SUCCESS)

    @admin.action(description="Check the DNS record now")
    def check_dns(self, request: HttpRequest, queryset: QuerySet[SsoDomain]) -> None:
        for domain in queryset.select_related("organisation"):
            try:
                found = services.domain_verify_by_dns(domain=domain, actor=_support(request))
            except services.DomainRefused as refused:
                self.message_user(
                    request, f"Not verified {domain}: {refused.message}", messages.ERROR
                )
                continue
            if found is Lookup.FOUND:
                self.message_user(request, f"Verified {domain}.", messages.SUCCESS)
            elif found is Lookup.NOT_FOUND:
                self.message_user(
                    request,
                    f"Not verified {domain}: no TXT record "
                    f"{record_value(domain.verification_token)} at {record_name(domain.domain)}.",
                    messages.WARNING,
                )
            else:
                self.message_user(
                    request,
                    f"Could not check {domain}: DNS did not answer in time; try again.",
                    messages.WARNING,
                )


def _support(request: HttpRequest) -> Actor:
    user = request.user
    assert isinstance(user, User), "the admin site lets only signed-in staff in"
    return Actor.admin(user)
