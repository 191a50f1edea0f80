"""The Django admin for support staff: SAML connections and the sign-in attempts, to inspect and
repair an organisation's single sign-on.

A connection's metadata and certificates are read-only here: they change only by uploading
metadata on the SAML tab (or ``manage.py saml_configure`` / ``refresh_saml_metadata``), which
parse and check it. Support can flip a connection's switches, through
``sso.services.connection_switches`` as everywhere, so the audit log names them. Connections are
created by opening the provider's settings and are never deleted (sign-in attempts refer to
them). Sign-in attempts are read-only for everyone.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, TypeVar

from django import forms
from django.contrib import admin
from django.db.models import Model
from django.http import HttpRequest
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from accounts.audit import Actor
from accounts.models import User
from sso import services
from sso.models import SamlConnection, SignInAttempt

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
