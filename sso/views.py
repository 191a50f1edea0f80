from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from urllib.parse import urlencode

from django.shortcuts import redirect
from django.views.decorators.http import require_GET, require_http_methods

from accounts.access import primary_admin_required
from accounts.models import Organisation
from scim.models import ScimRequest
from sso import discovery
from sso.providers import PROVIDERS
from sso.relay import safe_relay_state


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


@require_GET
@primary_admin_required
def overview(request: HttpRequest, organisation: Organisation) -> HttpResponse:
    """Settings → Single Sign-on: every provider and its state at a glance.

    SCIM is one setting of the organisation, shown on each provider that provisions over it;
    the last SCIM request is read once for the page, not once per card.
    """
    providers = [
        {"provider": provider, "configured": False, "scim": provider.scim} for provider in PROVIDERS
    ]
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
            "providers": providers,
            "last_scim_request": last_scim_request,
            "settings_section": "sso",
        },
    )
