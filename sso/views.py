from dataclasses import dataclass
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from accounts.access import primary_admin_required
from accounts.models import Organisation
from scim.models import ScimRequest
from sso import discovery
from sso.models import SamlConnection
from sso.providers import PROVIDERS, Provider
from sso.relay import safe_relay_state
from sso.settings_views import EXPIRY_WARNING_DAYS, certificate_states


@require_http_methods(["GET", "POST"])
def sign_in(request: HttpRequest) -> HttpResponse:
    """Sign in with single sign-on: a work email or an organisation leads to its IdP."""
    entry = request.POST.get("entry", "") if request.method == "POST" else ""
    connections = discovery.connections_for(entry) if entry else []
    if len(connections) == 1:
        return redirect(connections[0].login_url + _next_query(request))
    return render(
        request,
        "sso/sign_in.html",
        {
            "entry": entry,
            "connections": connections,
            "not_found": bool(entry) and not connections,
            "next": request.POST.get("next") or request.GET.get("next", ""),
        },
    )


def _next_query(request: HttpRequest) -> str:
    next_path = safe_relay_state(request.POST.get("next"))
    return f"?{urlencode({'next': next_path})}" if next_path else ""


@dataclass(frozen=True)
class ProviderCard:
    provider: Provider
    connection: SamlConnection | None  # None until the provider's settings are first opened
    expired: int  # certificates that have expired
    expiring: int  # certificates expiring within EXPIRY_WARNING_DAYS

    @property
    def configured(self) -> bool:
        return self.connection is not None and self.connection.is_configured

    @property
    def enabled(self) -> bool:
        return self.connection is not None and self.connection.enabled


@require_GET
@primary_admin_required
def overview(request: HttpRequest, organisation: Organisation) -> HttpResponse:
    """Settings → Single Sign-on: every provider and its state at a glance.

    The organisation's connections are read in one query and the last SCIM request once (SCIM
    is one setting of the organisation, shown on each provider that provisions over it), not
    once per card.
    """
    rows = SamlConnection.objects.filter(organisation=organisation).defer("metadata_xml")
    connections = {connection.provider: connection for connection in rows}
    last_scim_request = (
        ScimRequest.objects.filter(organisation=organisation)
        .only("created_at", "status", "outcome")
        .first()
    )
    return render(
        request,
        "sso/overview.html",
        {
            "organisation": organisation,
            "cards": [_card(provider, connections.get(provider.slug)) for provider in PROVIDERS],
            "last_scim_request": last_scim_request,
            "settings_section": "sso",
            "expiry_warning_days": EXPIRY_WARNING_DAYS,
        },
    )


def _card(provider: Provider, connection: SamlConnection | None) -> ProviderCard:
    states = certificate_states(connection) if connection is not None else []
    return ProviderCard(
        provider=provider,
        connection=connection,
        expired=sum(state.expired for state in states),
        expiring=sum(state.expiring for state in states),
    )
