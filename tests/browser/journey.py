"""Shared steps of the browser journeys (DESIGN §7): what the primary admin does on our pages,
what Okta and Entra do over SCIM, and the identity provider's own pages on the browser's network.

- Browser steps take the Playwright page and act as a person would: by labels, roles and the
  words on the page, never by CSS internals, so a page that loses a label breaks its journey.
- ``ScimHttpClient`` speaks to the live server over real HTTP, as Okta and Entra do, with the
  Tenant URL and Secret Key the admin copied from the SCIM tab.
- ``IdentityProvider`` answers the browser's requests to the IdP's host (there is no network):
  our AuthnRequests at its SSO URL, and its dashboard tile, with a page that posts a response
  signed for real by the test IdP (tests/sso/idp.py) to the ACS URL the admin pasted into it.
  It intercepts with the DevTools Fetch domain rather than ``page.route``: Playwright does not
  route the later hops of a redirect chain, and our login and Test sign-in reach the IdP by
  redirect.
- ``https_front_end`` puts a TLS-terminating proxy in front of the live server, as production
  runs (TRUST_X_FORWARDED_PROTO). An SP-initiated sign-in needs it: the cookie that binds the
  AuthnRequest to the browser must ride on the IdP's cross-site POST to the ACS, which browsers
  allow only for a ``SameSite=None; Secure`` cookie, and the app sets one only over https.
"""

import base64
import html
import http.client
import http.server
import ipaddress
import json
import re
import ssl
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.error import HTTPError
from urllib.parse import quote, urlsplit
from urllib.request import Request, urlopen

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from playwright.sync_api import FilePayload, Locator, Page, expect

from accounts import services
from accounts.models import AuditEvent, Organisation, Role, TeamMembership, User
from tests import factories
from tests.sso.idp import AuthnRequest, KeyPair, TestIdP, decode_authn_request

ADMIN_PASSWORD = factories.PASSWORD
CORE_USER = "urn:ietf:params:scim:schemas:core:2.0:User"
ENTERPRISE_USER = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
CORE_GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"
PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
SCIM_TYPE = "application/scim+json"


# --- people -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Person:
    """Someone in the identity provider's directory: their IdP username is what SCIM sends as
    userName and SAML as the NameID."""

    given_name: str
    family_name: str
    username: str
    external_id: str  # the IdP's own id for them (Okta 00u…, an Entra object id)

    @property
    def email(self) -> str:
        return self.username

    @property
    def full_name(self) -> str:
        return f"{self.given_name} {self.family_name}"


def organisation_with_admin(slug: str, name: str) -> tuple[Organisation, User]:
    """A new customer and its primary admin, who signs in with a password."""
    organisation = services.organisation_create(actor=factories.SYSTEM, slug=slug, name=name)
    admin = factories.user(
        organisation,
        f"it@{slug}.example",
        role=Role.PRIMARY_ADMIN,
        given_name="Iris",
        family_name="Admin",
    )
    return organisation, admin


def history_is_intact(
    organisation: Organisation, before: User, *, team_id: str, report_id: str
) -> None:
    """A person deactivated and then reactivated is the same account: same row, same team,
    their report still theirs, and the audit trail of their earlier life still there."""
    again = User.objects.get(public_id=before.public_id)
    assert again.pk == before.pk and again.is_active
    assert TeamMembership.objects.filter(user=again, team__public_id=team_id).exists()
    assert User.objects.get(public_id=report_id).manager_id == again.pk
    events = AuditEvent.objects.filter(organisation=organisation).order_by("created_at", "pk")
    actions = list(events.filter(target_id=str(again.public_id)).values_list("action", flat=True))
    assert actions[0] == "user.create"
    assert actions.index("user.deactivate") < actions.index("user.reactivate")
    added_to_team = [
        event.changes["members"]["added"]
        for event in events.filter(action="team.members", target_id=team_id)
    ]
    assert any(str(again.public_id) in added for added in added_to_team)


# --- pages: signing in and out --------------------------------------------------------------


def sign_in_with_password(
    page: Page, base_url: str, organisation: Organisation, login: str, password: str
) -> None:
    """Fill in the sign-in page; the caller checks where it leads."""
    page.goto(f"{base_url}/sign-in/")
    page.get_by_label("Organisation").fill(organisation.slug)
    page.get_by_label("Username or email").fill(login)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in", exact=True).click()


def sign_in_as_admin(page: Page, base_url: str, organisation: Organisation, admin: User) -> None:
    sign_in_with_password(page, base_url, organisation, admin.username, ADMIN_PASSWORD)
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Welcome, {admin.given_name}")


def sign_out(page: Page) -> None:
    page.get_by_role("navigation", name="Main").get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")


def expect_landing_page(page: Page, base_url: str, person: Person) -> None:
    """The home page after a sign-in, with who they are (names as the IdP sent them)."""
    expect(page).to_have_url(f"{base_url}/")
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Welcome, {person.given_name}")
    expect(fact(page, "Name")).to_have_text(person.full_name)
    expect(fact(page, "Username")).to_have_text(person.username)


def fact(within: Page | Locator, term: str) -> Locator:
    """The <dd> after the <dt> with this text, in the page's (or a part's) fact lists."""
    return within.locator(f"xpath=.//dt[normalize-space()='{term}']/following-sibling::dd[1]").first


@contextmanager
def refused_with_403(page: Page, problems: Any) -> Iterator[None]:
    """A navigation in the block must end on a 403 page (a refused sign-in says so in its
    status). Chromium logs any 4xx page as a console error; that one line, and only it, is
    expected rather than a problem."""
    with page.expect_console_message(
        lambda message: message.type == "error" and "status of 403" in message.text
    ) as logged:
        yield
    problems.items.remove(f"console error: {logged.value.text}")


def me(page: Page) -> dict[str, Any]:
    """/me.json fetched by the page we are on, with the browser's cookies: who this browser is
    signed in as."""
    document: dict[str, Any] = page.evaluate("fetch('/me.json').then(answer => answer.json())")
    return document


# --- pages: settings ----------------------------------------------------------------------------


def open_single_sign_on(page: Page) -> None:
    """Settings (in the header) → Single Sign-on, the providers overview."""
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Settings").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Single Sign-on")


def open_provider(page: Page, provider: str) -> None:
    """From the overview to a provider's page, which opens on its SAML tab."""
    page.get_by_role("link", name=re.compile(rf"^(Set up|Manage) {re.escape(provider)}$")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(provider)
    expect(current_tab(page, provider)).to_have_text("SAML")


def open_tab(page: Page, provider: str, tab: str) -> None:
    tabs = page.get_by_role("navigation", name=f"{provider} settings")
    tabs.get_by_role("link", name=tab, exact=True).click()
    expect(current_tab(page, provider)).to_have_text(tab)


def current_tab(page: Page, provider: str) -> Locator:
    return page.get_by_role("navigation", name=f"{provider} settings").locator(
        "[aria-current=page]"
    )


def copy(page: Page, what: str) -> str:
    """Click the Copy button of a value ("Copy the Tenant URL"), check that it announces the
    copy to screen readers, and return what is now on the clipboard."""
    page.evaluate("navigator.clipboard.writeText('')")  # so a stale value cannot pass
    page.get_by_role("button", name=f"Copy the {what}", exact=True).click()
    expect(page.locator("#copy-status")).to_have_text(f"Copied the {what}")
    copied: str = page.evaluate("navigator.clipboard.readText()")
    return copied


def expect_message(page: Page, text: str | re.Pattern[str]) -> None:
    expect(page.get_by_role("status").filter(has_text=text)).to_be_visible()


def upload_metadata_file(page: Page, xml: bytes, filename: str) -> None:
    upload = FilePayload(name=filename, mimeType="application/xml", buffer=xml)
    page.get_by_label("Metadata XML file").set_input_files(files=[upload])
    page.get_by_role("button", name="Upload metadata").click()
    expect_message(page, "Metadata saved")


def paste_metadata(page: Page, xml: bytes) -> None:
    page.get_by_label("Or paste the metadata XML").fill(xml.decode())
    page.get_by_role("button", name="Upload metadata").click()
    expect_message(page, "Metadata saved")


def expect_metadata_shown(page: Page, idp: TestIdP) -> None:
    """The IdP the metadata names, and when its signing certificate expires."""
    expect(fact(page, "Identity provider (entity ID)")).to_have_text(idp.entity_id)
    expires = idp.signing_key.not_valid_after
    expect(fact(page, "Expires")).to_contain_text(f"{expires.day} {expires:%b %Y}")


UNTESTED_TITLE = re.compile(r"^Turn on sign-in with .+ without a passed Test sign-in\?$")


def set_switches(page: Page, *, confirm_untested: bool = True, **wanted: bool) -> None:
    """Tick or untick the SAML tab's switches by their labels, then Save. Turning SSO on before
    a Test sign-in has passed asks first (issue 14); the journeys that test sign-in on their own
    afterwards confirm, unless ``confirm_untested`` is False."""
    for label, on in wanted.items():
        page.get_by_role("switch", name=label).set_checked(on)
    page.get_by_role("button", name="Save").click()
    page.wait_for_load_state()
    asked = page.get_by_role("heading", name=UNTESTED_TITLE)
    if confirm_untested and asked.count():
        page.get_by_role("button", name="Yes, turn it on without a test").click()


def turn_sso_on(page: Page, provider: str) -> None:
    set_switches(
        page,
        **{f"Sign in with {provider}": True, f"Allow sign-in started at {provider}": True},
    )
    expect_message(page, "Saved.")
    expect(page.get_by_role("heading", name=re.compile("^Single sign-on"))).to_contain_text("On")


def enable_scim(page: Page) -> None:
    page.get_by_role("switch", name="Enable SCIM").check()
    page.get_by_role("button", name="Update").click()
    expect_message(page, "SCIM is on:")


def generate_key(page: Page) -> str:
    """Generate Key: the page it redirects to is the only one that shows the key; returns it as
    shown."""
    page.get_by_role("button", name="Generate Key").click()
    expect(page.get_by_role("heading", name="Your new Secret Key")).to_be_visible()
    key_field = page.get_by_role("textbox", name="Secret Key")
    expect(key_field).to_be_visible()
    expect(page.get_by_text("this is the only time it is shown")).to_be_visible()
    return key_field.input_value()


def expect_readable_at_360px(page: Page) -> None:
    """Nothing wider than a 360 px phone screen: no sideways scrolling."""
    overflow = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, f"{page.url} scrolls sideways by {overflow} px at 360 px wide"


@contextmanager
def phone_width(page: Page) -> Iterator[None]:
    size = page.viewport_size
    page.set_viewport_size({"width": 360, "height": 800})
    try:
        yield
    finally:
        if size is not None:
            page.set_viewport_size(size)


def scim_log_rows(page: Page) -> Locator:
    """The rows of the SCIM request log on the Activity tab, newest first."""
    return page.get_by_role("table").locator("tbody tr")


# --- the identity provider's pages ------------------------------------------------------------


@dataclass
class IdentityProvider:
    """The IdP's web pages, served to this browser only (DevTools Fetch interception of the
    IdP's host). Configure it as the admin configures the real one: ``acs_url``, ``audience``
    and ``default_relay_state`` with the values copied from our SAML tab; ``signed_in`` is
    whoever is signed in at the IdP."""

    page: Page
    idp: TestIdP
    tile_path: str = ""  # where the app's tile on the IdP's dashboard leads
    acs_url: str = ""
    audience: str = ""
    default_relay_state: str | None = None
    signed_in: Person | None = None
    signing_key: KeyPair | None = None  # None: the key its metadata lists
    # Attribute statements sent besides names and email (a department, a cost centre...).
    extra_attributes: dict[str, list[str]] = field(default_factory=dict)
    authn_requests: list[AuthnRequest] = field(default_factory=list)  # as received, in order

    def __post_init__(self) -> None:
        self.origin = "https://" + urlsplit(self.idp.sso_url).netloc
        self._devtools = self.page.context.new_cdp_session(self.page)
        self._devtools.on("Fetch.requestPaused", self._answer)
        self._devtools.send("Fetch.enable", {"patterns": [{"urlPattern": f"{self.origin}/*"}]})

    @property
    def tile_url(self) -> str:
        return self.origin + self.tile_path

    def open_tile(self, person: Person) -> None:
        """The person clicks our tile on the IdP's dashboard: an IdP-initiated sign-in that
        carries the Default RelayState."""
        assert self.tile_path, "this identity provider has no tile for the app"
        self.signed_in = person
        self.page.goto(self.tile_url)

    def _answer(self, event: dict[str, Any]) -> None:
        url = event["request"]["url"]
        path = urlsplit(url).path
        if path == urlsplit(self.idp.sso_url).path and "SAMLRequest=" in url:
            status, body = self._answer_authn_request(url)
        elif self.tile_path and path == self.tile_path:
            status, body = 200, self._post_response(in_response_to=None, relay_state=None)
        else:
            status, body = 404, _page("Not found", "<p>Nothing here.</p>")
        self._devtools.send(
            "Fetch.fulfillRequest",
            {
                "requestId": event["requestId"],
                "responseCode": status,
                "responseHeaders": [{"name": "Content-Type", "value": "text/html; charset=utf-8"}],
                "body": base64.b64encode(body.encode()).decode(),
            },
        )

    def _answer_authn_request(self, url: str) -> tuple[int, str]:
        request = decode_authn_request(url)
        self.authn_requests.append(request)
        if request["acs_url"] and request["acs_url"] != self.acs_url:
            # Entra refuses such a request (AADSTS50011) and Okta ignores it; either way the
            # admin pasted a wrong value, which a test must hear about.
            message = f"The request's ACS URL {request['acs_url']} is not {self.acs_url}."
            return 400, _page("Sign-in error", f"<p>{html.escape(message)}</p>")
        return 200, self._post_response(
            in_response_to=request["id"], relay_state=request["relay_state"]
        )

    def _post_response(self, *, in_response_to: str | None, relay_state: str | None) -> str:
        """The IdP's page that posts a signed response to the ACS (HTTP-POST binding)."""
        person = self.signed_in
        if person is None:
            return _page("Sign in", "<p>Nobody is signed in at the identity provider.</p>")
        xml = self.idp.response(
            acs_url=self.acs_url,
            audience=self.audience,
            name_id=person.username,
            attributes={
                **self.idp.default_attributes(person.given_name, person.family_name, person.email),
                **self.extra_attributes,
            },
            in_response_to=in_response_to,
            signing_key=self.signing_key,
        )
        if in_response_to is None:
            relay_state = self.default_relay_state
        fields = self.idp.post_form(xml, relay_state)
        inputs = "".join(
            f'<input type="hidden" name="{name}" value="{html.escape(value)}">'
            for name, value in fields.items()
        )
        form = (
            f'<form method="post" action="{html.escape(self.acs_url)}">{inputs}'
            "<noscript><button>Continue</button></noscript></form>"
            "<script>document.forms[0].submit()</script>"
        )
        return _page("Signing you in", form)


def _page(title: str, body: str) -> str:
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f'<title>{html.escape(title)}</title><link rel="icon" href="data:,"></head>'
        f"<body>{body}</body></html>"
    )


# --- SCIM over HTTP -----------------------------------------------------------------------------


@dataclass(frozen=True)
class ScimAnswer:
    status: int
    document: dict[str, Any]

    @property
    def resources(self) -> list[dict[str, Any]]:
        resources: list[dict[str, Any]] = self.document.get("Resources", [])
        return resources


@dataclass
class ScimHttpClient:
    """A SCIM client as Okta or Entra runs it: the Tenant URL and Secret Key the admin pasted,
    ``Authorization: Bearer <key>``, its own User-Agent, JSON over HTTP(S)."""

    tenant_url: str
    key: str
    user_agent: str
    cafile: str | None = None  # to trust our https front end's certificate
    sent: list[str] = field(default_factory=list)  # "METHOD path status", in order

    def get(self, path: str) -> ScimAnswer:
        return self.send("GET", path)

    def post(self, path: str, body: dict[str, Any]) -> ScimAnswer:
        return self.send("POST", path, body)

    def put(self, path: str, body: dict[str, Any]) -> ScimAnswer:
        return self.send("PUT", path, body)

    def patch(self, path: str, body: dict[str, Any]) -> ScimAnswer:
        return self.send("PATCH", path, body)

    def delete(self, path: str) -> ScimAnswer:
        return self.send("DELETE", path)

    def send(self, method: str, path: str, body: dict[str, Any] | None = None) -> ScimAnswer:
        data = json.dumps(body).encode() if body is not None else None
        request = Request(  # noqa: S310 (the URL is the live server's, built by the test)
            f"{self.tenant_url}/{path}",
            data=data,
            method=method,
            headers={
                "Authorization": f"Bearer {self.key}",
                "User-Agent": self.user_agent,
                "Accept": "application/scim+json, application/json",
                **({"Content-Type": SCIM_TYPE} if data is not None else {}),
            },
        )
        context = ssl.create_default_context(cafile=self.cafile) if self.cafile else None
        try:
            with urlopen(request, timeout=30, context=context) as response:  # noqa: S310
                status, raw = response.status, response.read()
        except HTTPError as error:
            status, raw = error.code, error.read()
        self.sent.append(f"{method} {path} {status}")
        return ScimAnswer(status, json.loads(raw) if raw else {})


def where(expression: str) -> str:
    """A filter as a query parameter: `Users?` + where('userName eq "x"')."""
    return "filter=" + quote(expression, safe="")


def okta_user(person: Person, *, manager: dict[str, str] | None = None) -> dict[str, Any]:
    """What Okta sends to create a user (Okta SCIM 2.0 guide), its random password included; the
    manager as Okta's Manager value / Manager display name mapping sends it."""
    body: dict[str, Any] = {
        "schemas": [CORE_USER],
        "userName": person.username,
        "name": {"givenName": person.given_name, "familyName": person.family_name},
        "emails": [{"primary": True, "value": person.email, "type": "work"}],
        "displayName": person.full_name,
        "locale": "en-US",
        "externalId": person.external_id,
        "groups": [],
        "password": "1mz050nq",
        "active": True,
    }
    if manager is not None:
        body["schemas"] = [CORE_USER, ENTERPRISE_USER]
        body[ENTERPRISE_USER] = {"manager": manager}
    return body


def entra_user(person: Person) -> dict[str, Any]:
    """What Entra sends to create a user (Microsoft's SCIM guide): its meta block, an empty
    roles list, a string boolean."""
    return {
        "schemas": [CORE_USER, ENTERPRISE_USER],
        "externalId": person.external_id,
        "userName": person.username,
        "active": "True",
        "displayName": person.full_name,
        "emails": [{"primary": True, "type": "work", "value": person.email}],
        "meta": {"resourceType": "User"},
        "name": {
            "formatted": person.full_name,
            "familyName": person.family_name,
            "givenName": person.given_name,
        },
        "roles": [],
    }


def patch(*operations: dict[str, Any]) -> dict[str, Any]:
    return {"schemas": [PATCH_OP], "Operations": list(operations)}


def members(*ids: str) -> list[dict[str, str]]:
    return [{"value": member_id} for member_id in ids]


# --- https in front of the live server ------------------------------------------------------


@dataclass(frozen=True)
class SecureSite:
    url: str  # https://localhost:<port>, what PUBLIC_BASE_URL says
    cafile: str  # its certificate, for SCIM clients that verify it


@contextmanager
def https_front_end(page: Page, live_server_url: str, settings: Any) -> Iterator[SecureSite]:
    """Serve the live server over https, as production does behind its proxy, for this test's
    browser: a TLS-terminating proxy that adds X-Forwarded-Proto, the settings production has
    with an https PUBLIC_BASE_URL, the browser told to accept the proxy's self-signed
    certificate and to let this origin use the clipboard."""
    workdir = Path(tempfile.mkdtemp(prefix="auzlearn-tls-"))
    certificate, key = workdir / "localhost.pem", workdir / "localhost.key"
    _write_localhost_certificate(certificate, key)
    server = _tls_proxy(live_server_url, certificate, key)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"https://localhost:{server.server_address[1]}"
    settings.PUBLIC_BASE_URL = url
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.SESSION_COOKIE_SECURE = settings.CSRF_COOKIE_SECURE = True
    settings.CSRF_TRUSTED_ORIGINS = [url]
    devtools = page.context.new_cdp_session(page)
    devtools.send("Security.setIgnoreCertificateErrors", {"ignore": True})
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=url)
    try:
        yield SecureSite(url=url, cafile=str(certificate))
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


# Headers that belong to one hop; the proxy sets its own Content-Length.
_HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "proxy-connection",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "content-length",
}


def _tls_proxy(upstream_url: str, certificate: Path, key: Path) -> http.server.HTTPServer:
    upstream = urlsplit(upstream_url)

    class Relay(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def relay(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else None
            headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP_BY_HOP}
            headers["X-Forwarded-Proto"] = "https"
            connection = http.client.HTTPConnection(
                upstream.hostname or "localhost", upstream.port, timeout=60
            )
            try:
                connection.request(self.command, self.path, body=body, headers=headers)
                answer = connection.getresponse()
                content = answer.read()
            finally:
                connection.close()
            self.send_response(answer.status, answer.reason)
            for name, value in answer.getheaders():
                if name.lower() not in _HOP_BY_HOP:
                    self.send_header(name, value)
            self.send_header("Content-Length", str(len(content)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(content)

        do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = relay

    server = http.server.ThreadingHTTPServer(("localhost", 0), Relay)
    server.daemon_threads = True
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(certificate, key)
    # The handshake happens in each connection's own thread, so a browser's idle preconnect
    # cannot hold up the others.
    server.socket = context.wrap_socket(
        server.socket, server_side=True, do_handshake_on_connect=False
    )
    return server


def _write_localhost_certificate(certificate: Path, key_path: Path) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.now(UTC)
    names = [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
    built = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    certificate.write_bytes(built.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
