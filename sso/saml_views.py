"""The SAML endpoints of a connection: SP metadata, login (SP-initiated), ACS and logout."""

from django.conf import settings
from django.contrib.auth import login, logout
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render, resolve_url
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from onelogin.saml2.auth import OneLogin_Saml2_Auth

from sso import signin
from sso.models import PendingSignIn, SamlConnection, SignInAttempt
from sso.relay import safe_relay_state
from sso.saml_settings import path_of, request_data, saml_settings

# The cookie binding an AuthnRequest to this browser. The session cookie is SameSite=Lax, so
# the IdP's cross-site POST to the ACS does not carry it; this one is SameSite=None (over https)
# and is sent only to the ACS path.
PENDING_COOKIE = "auzlearn_saml"
BACKEND = "accounts.backends.OrganisationBackend"
SSO_OFF = "Single sign-on is turned off for this organisation."


def _connection(connection_id: str, *, configured: bool = True) -> SamlConnection:
    try:
        connection = SamlConnection.objects.select_related("organisation").get(
            public_id=connection_id
        )
    except SamlConnection.DoesNotExist:
        raise Http404("No such SAML connection.") from None
    if configured and not connection.is_configured:
        raise Http404("No such SAML connection.")
    return connection


@require_GET
def metadata(request: HttpRequest, connection_id: str) -> HttpResponse:
    """Our SP metadata; its URL is our Entity ID. Available before the IdP's metadata is
    uploaded, since some IdPs (Entra's "Upload metadata file") start from ours."""
    xml = saml_settings(_connection(connection_id, configured=False)).get_sp_metadata()
    response = HttpResponse(xml, content_type="application/samlmetadata+xml")
    if request.GET.get("download"):
        response["Content-Disposition"] = 'attachment; filename="auzlearn-sp-metadata.xml"'
    return response


@require_GET
def login_start(request: HttpRequest, connection_id: str) -> HttpResponse:
    """SP-initiated sign-in: to the IdP with an AuthnRequest; back at the ACS afterwards."""
    connection = _connection(connection_id)
    if not connection.enabled:
        return _refused_page(request, connection, SSO_OFF, code="sso_off")
    started = signin.start(connection, relay_state=safe_relay_state(request.GET.get("next")) or "")
    return with_pending_cookie(
        HttpResponseRedirect(started.redirect_url), connection, started.nonce
    )


@csrf_exempt  # the IdP posts here from its own site; the signed response is the protection
@require_POST
def acs(request: HttpRequest, connection_id: str) -> HttpResponse:
    connection = _connection(connection_id)
    pending = signin.claim_pending(connection, request.COOKIES.get(PENDING_COOKIE))
    testing = pending is not None and pending.tested_by is not None
    if not connection.enabled and not testing:
        response = _refused_page(request, connection, SSO_OFF, code="sso_off")
    else:
        # One transaction for the replay store, the attempt, the new session and last_login:
        # one commit instead of four on the path every sign-in takes.
        with transaction.atomic():
            result = signin.consume(
                connection,
                request.POST.get("SAMLResponse", ""),
                pending=pending,
                ip=request.META.get("REMOTE_ADDR"),
            )
            response = _answer(request, connection, result, pending)
    response.delete_cookie(PENDING_COOKIE, path=path_of(connection.acs_url))
    return response


def _answer(
    request: HttpRequest,
    connection: SamlConnection,
    result: signin.Result,
    pending: PendingSignIn | None,
) -> HttpResponse:
    if result.is_test:
        url = reverse(
            "sso_settings:saml-test-result", args=[connection.provider, result.attempt.pk]
        )
        return HttpResponseRedirect(url)
    if result.user is None:
        return _refused_page(request, connection, result.attempt.reason, attempt=result.attempt)
    login(request, result.user, backend=BACKEND)  # rotates the session key
    request.session["saml_connection"] = connection.public_id
    request.session["saml_name_id"] = result.attempt.name_id
    target = (
        safe_relay_state(request.POST.get("RelayState"))
        or (pending.relay_state if pending else "")
        or resolve_url(settings.LOGIN_REDIRECT_URL)
    )
    return HttpResponseRedirect(target)


@require_http_methods(["GET", "POST"])
def logout_view(request: HttpRequest, connection_id: str) -> HttpResponse:
    """POST (from our pages): sign out here, then at the IdP when it has single logout.
    GET: the IdP's LogoutRequest or LogoutResponse; either way we sign out here."""
    connection = _connection(connection_id)
    if request.method == "GET" and ("SAMLRequest" in request.GET or "SAMLResponse" in request.GET):
        auth = OneLogin_Saml2_Auth(
            request_data(path_of(connection.logout_url), get=request.GET.dict()),
            saml_settings(connection),
        )
        url = auth.process_slo(delete_session_cb=lambda: logout(request))
        logout(request)
        return HttpResponseRedirect(url or resolve_url(settings.LOGOUT_REDIRECT_URL))
    name_id = request.session.get("saml_name_id") if request.method == "POST" else None
    logout(request)
    if request.method == "POST" and connection.idp_slo_url and name_id:
        auth = OneLogin_Saml2_Auth(
            request_data(path_of(connection.logout_url)), saml_settings(connection)
        )
        return HttpResponseRedirect(auth.logout(name_id=name_id))
    return HttpResponseRedirect(resolve_url(settings.LOGOUT_REDIRECT_URL))


def _refused_page(
    request: HttpRequest,
    connection: SamlConnection,
    reason: str,
    *,
    attempt: SignInAttempt | None = None,
    code: str = "",
) -> HttpResponse:
    context = {
        "organisation": connection.organisation,
        "reason": reason,
        "reason_code": attempt.reason_code if attempt else code,
    }
    return render(request, "sso/refused.html", context, status=403)


def with_pending_cookie(
    response: HttpResponse, connection: SamlConnection, nonce: str
) -> HttpResponse:
    secure = settings.PUBLIC_BASE_URL.startswith("https://")
    response.set_cookie(
        PENDING_COOKIE,
        nonce,
        max_age=int(signin.PENDING_LIFETIME.total_seconds()),
        path=path_of(connection.acs_url),
        secure=secure,
        httponly=True,
        # Browsers drop SameSite=None cookies that are not Secure; over plain http (local use
        # only) Lax still works when the IdP is on the same site.
        samesite="None" if secure else "Lax",
    )
    return response
