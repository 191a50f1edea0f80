"""The development IdP's pages: a dashboard that starts sign-ins at the IdP (the Okta tile),
the answer to our AuthnRequests, and its metadata.

There is no sign-in at this IdP: whoever opens it chooses whom to sign in as, which is its
purpose. It exists only with DEBUG on (auzlearn/urls.py).
"""

import uuid

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from accounts.models import User
from devidp import connections, saml
from sso.models import SamlConnection

# Where people land after a sign-in started here: what the SAML tab tells admins to enter as
# Okta's Default RelayState.
DEFAULT_RELAY_STATE = "/"


@require_GET
def metadata(request: HttpRequest) -> HttpResponse:
    return HttpResponse(connections.metadata_xml(), content_type="application/samlmetadata+xml")


@require_GET
@never_cache
def dashboard(request: HttpRequest) -> HttpResponse:
    """Sign-ins started at the IdP, for every connection that trusts it, with the RelayState
    the admin configured (``?RelayState=`` overrides it, to try a deep link)."""
    relay_state = request.GET.get("RelayState", DEFAULT_RELAY_STATE)
    choices = [_choice(connection) for connection in connections.trusting()]
    return render(
        request,
        "devidp/choose.html",
        {"choices": choices, "relay_state": relay_state, "saml_request": ""},
    )


@require_GET
@never_cache
def single_sign_on(request: HttpRequest) -> HttpResponse:
    """Our AuthnRequest (HTTP-Redirect binding): whom to answer it for."""
    try:
        authn_request = saml.read_authn_request(request.GET.get("SAMLRequest", ""))
        connection = connections.for_request(authn_request)
    except saml.RequestRefused as refused:
        return render(request, "devidp/refused.html", {"reason": str(refused)}, status=400)
    context = {
        "choices": [_choice(connection)],
        "relay_state": request.GET.get("RelayState", ""),
        "saml_request": request.GET["SAMLRequest"],
        "authn_request": authn_request,
    }
    return render(request, "devidp/choose.html", context)


@require_POST
@never_cache
def sign_in(request: HttpRequest) -> HttpResponse:
    """The person chosen: a signed response, posted by the browser to the connection's ACS."""
    in_response_to: str | None = None
    try:
        if request.POST.get("SAMLRequest"):
            # Read again rather than trusted from a hidden field: the form is the browser's.
            authn_request = saml.read_authn_request(request.POST["SAMLRequest"])
            connection = connections.for_request(authn_request)
            in_response_to = authn_request.id
        else:
            connection = _trusting_connection(request.POST.get("connection", ""))
    except saml.RequestRefused as refused:
        return render(request, "devidp/refused.html", {"reason": str(refused)}, status=400)
    person = _person(connection, request.POST.get("person", ""))
    fields = connections.response_fields(
        connection,
        person,
        in_response_to=in_response_to,
        relay_state=request.POST.get("RelayState") or None,
    )
    context = {"connection": connection, "person": person, "fields": fields}
    return render(request, "devidp/post.html", context)


def _choice(connection: SamlConnection) -> dict[str, object]:
    return {"connection": connection, "people": list(connections.people(connection))}


def _trusting_connection(public_id: str) -> SamlConnection:
    connection = connections.trusting_connection(public_id)
    if connection is None:
        raise Http404("No connection that trusts this identity provider has this id.")
    return connection


def _person(connection: SamlConnection, public_id: str) -> User:
    try:
        wanted = uuid.UUID(public_id)
    except ValueError:
        raise Http404("Nobody of this organisation has this id.") from None
    person = connections.people(connection).filter(public_id=wanted).first()
    if person is None:
        raise Http404("Nobody of this organisation has this id.")
    return person
