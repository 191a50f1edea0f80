"""The SAML endpoints of a connection: SP metadata, login (SP-initiated), ACS and logout."""

from django.conf import settings
from django.contrib.auth import login, logout
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render, resolve_url
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from sso import logout as saml_logout
from sso import signin
from sso.models import PendingSignIn, SamlConnection, SignInAttempt
from sso.relay import safe_relay_state
from sso.saml_settings import path_of, saml_settings

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
    """The IdP's SAML response. When the database fails (unreachable, read-only, a lock past
    the timeout), nothing here catches it: the transaction below rolls back, so the assertion
    is not in the replay store and nobody is signed in, and auzlearn.unavailable answers with
    the static "Sign-in not completed: please try again" page (503). Accepting the assertion
    without recording it would let it be replayed."""
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
@never_cache
def logout_view(request: HttpRequest, connection_id: str) -> HttpResponse:
    """Signing out, which only these do (sso.logout says how each is checked):
    - a POST from our pages, with its CSRF token: signs out here, then at the IdP when it has
      single logout and the session began with a sign-in through this connection;
    - the IdP's signed LogoutRequest (GET, HTTP-Redirect binding): signs out the session that
      began with a sign-in of that NameID through this connection, and answers the IdP;
    - the IdP's signed LogoutResponse to the LogoutRequest this browser sent.
    A plain GET (a link, another site's image) only shows a Sign out button; a message that
    fails a check changes nothing and is answered 400."""
    if request.method == "POST":
        return _sign_out(request, _connection(connection_id, configured=False))
    if "SAMLRequest" in request.GET:
        return _idp_logout_request(request, _connection(connection_id))
    if "SAMLResponse" in request.GET:
        return _idp_logout_response(request, _connection(connection_id))
    connection = _connection(connection_id, configured=False)
    return render(request, "sso/sign_out.html", _logout_context(connection))


def _sign_out(request: HttpRequest, connection: SamlConnection) -> HttpResponse:
    name_id = request.session.get("saml_name_id")
    signed_in_through_it = request.session.get("saml_connection") == connection.public_id
    logout(request)
    if not (
        isinstance(name_id, str)
        and name_id
        and signed_in_through_it
        and connection.is_configured
        and connection.idp_slo_url
    ):
        return HttpResponseRedirect(resolve_url(settings.LOGOUT_REDIRECT_URL))
    started = saml_logout.start(connection, name_id=name_id)
    saml_logout.remember_pending(request.session, connection, started.request_id, timezone.now())
    # A page that moves on to the IdP, not a redirect: the form that posted here may sit on any
    # of our pages, whose Content-Security-Policy form-action lets a form's redirects lead only
    # to us; a Refresh is a navigation of its own.
    response = render(
        request,
        "sso/signing_out.html",
        {**_logout_context(connection), "idp_logout_url": started.redirect_url},
    )
    response["Refresh"] = f"0; url={started.redirect_url}"
    return response


def _idp_logout_request(request: HttpRequest, connection: SamlConnection) -> HttpResponse:
    try:
        with transaction.atomic():
            accepted = saml_logout.accept_idp_request(
                connection, request.GET, request.META.get("QUERY_STRING", ""), now=timezone.now()
            )
    except saml_logout.LogoutRefused as refused:
        return _logout_refused_page(request, connection, refused)
    # Only the session of the person the IdP signed out: a valid request for someone else,
    # brought to this browser, changes nothing here.
    if saml_logout.is_session_of(request.session, connection, accepted.name_id):
        logout(request)
    return HttpResponseRedirect(accepted.answer_url)


def _idp_logout_response(request: HttpRequest, connection: SamlConnection) -> HttpResponse:
    now = timezone.now()
    try:
        signed_out_at_idp = saml_logout.accept_idp_response(
            connection,
            request.GET,
            request.META.get("QUERY_STRING", ""),
            pending_id=saml_logout.pending_request_id(request.session, connection, now),
            now=now,
        )
    except saml_logout.LogoutRefused as refused:
        return _logout_refused_page(request, connection, refused)
    logout(request)  # also forgets the pending request: the answer is used once
    if signed_out_at_idp:
        return HttpResponseRedirect(resolve_url(settings.LOGOUT_REDIRECT_URL))
    return render(request, "sso/signed_out_here_only.html", _logout_context(connection))


def _logout_context(connection: SamlConnection) -> dict[str, object]:
    return {
        "connection": connection,
        "organisation": connection.organisation,
        "provider_name": connection.get_provider_display(),
    }


def _logout_refused_page(
    request: HttpRequest, connection: SamlConnection, refused: saml_logout.LogoutRefused
) -> HttpResponse:
    context = {**_logout_context(connection), "reason": refused.reason}
    return render(request, "sso/logout_refused.html", context, status=400)


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
