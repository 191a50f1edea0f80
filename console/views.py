"""Settings → Single Sign-on, where sso and scim meet: the providers overview, a provider's home
and the Activity tab (sign-ins from sso, SCIM requests from scim, and their CSV export).

SCIM is one setting of the organisation, whichever provider provisions over it, so the overview
shows it once, with the client that sent the last request, rather than on every provider that
could provision. The tabs' own pages stay in their apps: the SAML tab in ``sso.settings_views``,
the SCIM tab in ``scim.settings_views``; all of them share the page scaffolding of ``sso.pages``.
"""

from dataclasses import dataclass
from typing import cast
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from accounts.access import primary_admin_required
from accounts.models import Organisation
from scim import request_log
from scim.models import ScimRequest
from sso.models import SamlConnection
from sso.pages import provider_named, tab_context
from sso.providers import PROVIDERS, Provider
from sso.settings_views import EXPIRY_WARNING_DAYS, certificate_states, sign_in_log

# The provider whose SCIM tab the overview links to, by the client name the request log keeps
# (scim.activity.client_name); any other client is sent to Okta's, the first.
PROVIDER_OF_CLIENT = {"Okta": "okta", "Microsoft Entra ID": "entra"}


@dataclass(frozen=True)
class ProviderCard:
    provider: Provider
    connection: SamlConnection | None  # None until the provider's settings are first opened
    expired: int  # certificates that have expired
    expiring: int  # certificates expiring within EXPIRY_WARNING_DAYS
    provisions: bool  # sent the organisation's last SCIM request

    @property
    def configured(self) -> bool:
        return self.connection is not None and self.connection.is_configured

    @property
    def enabled(self) -> bool:
        return self.connection is not None and self.connection.enabled


@require_GET
@primary_admin_required
def overview(request: HttpRequest, organisation: Organisation) -> HttpResponse:
    """Every provider's sign-in at a glance, then SCIM once for the organisation: on or off, and
    its last request, by which client. Two queries whatever the log holds: the connections, and
    the newest log entry (an index scan of one row)."""
    rows = SamlConnection.objects.filter(organisation=organisation).defer("metadata_xml")
    connections = {connection.provider: connection for connection in rows}
    last = (
        ScimRequest.objects.filter(organisation=organisation)
        .only("created_at", "status", "outcome", "client")
        .first()
    )
    last_provider = PROVIDER_OF_CLIENT.get(last.client, "") if last is not None else ""
    cards = [
        _card(provider, connections.get(provider.slug), provisions=provider.slug == last_provider)
        for provider in PROVIDERS
    ]
    return render(
        request,
        "settings/overview.html",
        {
            "organisation": organisation,
            "cards": cards,
            "last_scim_request": last,
            "scim_provider": provider_named(last_provider or "okta"),
            "settings_section": "sso",
            "expiry_warning_days": EXPIRY_WARNING_DAYS,
        },
    )


@require_GET
@primary_admin_required
def provider_home(request: HttpRequest, provider: str, organisation: Organisation) -> HttpResponse:
    return redirect("sso_settings:saml", provider=provider)


@require_GET
@never_cache
@primary_admin_required
def activity(request: HttpRequest, provider: str, organisation: Organisation) -> HttpResponse:
    """Sign-ins through this provider, or (``?log=scim``, Okta and Entra) the organisation's
    SCIM requests, searchable: a COUNT and one page of rows either way."""
    if request.GET.get("log") == "scim" and provider_named(provider).scim:
        query = request_log.parse_query(request.GET)
        log = "scim"
        extra = request_log.page_context(organisation, query, request.GET.get("page"))
    else:
        log, extra = "sign-ins", sign_in_log(request, organisation, provider)
    context = {"log": log, "log_query": _log_query(request) if log == "scim" else "", **extra}
    return render(
        request, "settings/activity.html", tab_context(organisation, provider, "activity", context)
    )


@require_GET
@never_cache
@primary_admin_required
def activity_csv(request: HttpRequest, provider: str, organisation: Organisation) -> HttpResponse:
    """The SCIM requests the Activity tab shows (same outcome and search), every page of them,
    as CSV. Streamed: a large log is never held in memory."""
    query = request_log.parse_query(request.GET)
    lines = request_log.csv_lines(request_log.csv_rows(organisation, query))
    response = StreamingHttpResponse(lines, content_type="text/csv; charset=utf-8")
    stamp = timezone.now().strftime("%Y-%m-%d-%H%M")
    # The slug is [a-z0-9-] (accounts.models.Organisation): nothing to quote in the filename.
    filename = f"scim-requests-{organisation.slug}-{stamp}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["X-Content-Type-Options"] = "nosniff"
    # primary_admin_required is typed for HttpResponse; Django serves any HttpResponseBase.
    return cast(HttpResponse, response)


def _card(
    provider: Provider, connection: SamlConnection | None, *, provisions: bool
) -> ProviderCard:
    states = certificate_states(connection) if connection is not None else []
    return ProviderCard(
        provider=provider,
        connection=connection,
        expired=sum(state.expired for state in states),
        expiring=sum(state.expiring for state in states),
        provisions=provisions,
    )


def _log_query(request: HttpRequest) -> str:
    """The query the SCIM log's links keep (``log=scim&`` and the search), URL-encoded."""
    search = request_log.parse_query(request.GET).search
    return urlencode({"log": "scim", **({"q": search} if search else {})}) + "&"
