from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from sso import discovery
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
