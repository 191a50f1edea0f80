"""Fetching a metadata URL: https only, public addresses only, bounded in time, size and hops.

This machine reaches nothing but loopback, and the tests never try anything else: name
resolution is injected (or stubbed to numeric-only), and an autouse fixture fails any connection
to an address other than 127.0.0.1. Exchanges run against a local TLS server whose certificate,
issued by a test CA, names `idp.test`; the `_fetch` seam takes the resolver, the address check and
the trust store, so a test can let 127.0.0.1 through while every other address meets the real
check.
"""

import http.server
import ipaddress
import socket
import ssl
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from sso import fetch
from sso.fetch import FetchError, check_address, fetch_metadata

LOOPBACK = ipaddress.ip_address("127.0.0.1")
METADATA = (
    b'<?xml version="1.0" encoding="UTF-8"?>'
    b'<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" '
    b'entityID="http://www.okta.com/exk1fcia6d6EMsf331d8"/>'
)
# What the injected resolver answers; every other name is unknown.
DNS = {
    "idp.test": ["127.0.0.1"],
    "other.test": ["127.0.0.1"],  # the server's certificate does not name it
    "intranet.test": ["10.0.0.5"],
    "metadata.test": ["169.254.169.254"],
    "mixed.test": ["93.184.216.34", "10.0.0.5"],
}


# --- no network beyond loopback, ever ------------------------------------------------------------


@pytest.fixture(autouse=True)
def loopback_only(monkeypatch):
    """Only numeric name lookups, and connections to 127.0.0.1 only."""
    real_getaddrinfo = socket.getaddrinfo
    real_create_connection = socket.create_connection

    def numeric_getaddrinfo(host, port, family=0, type=0, proto=0, flags=0):
        return real_getaddrinfo(host, port, family, type, proto, flags | socket.AI_NUMERICHOST)

    def loopback_connection(address, *args, **kwargs):
        assert address[0] == "127.0.0.1", f"tried to connect to {address}"
        return real_create_connection(address, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", numeric_getaddrinfo)
    monkeypatch.setattr(socket, "create_connection", loopback_connection)


@pytest.fixture
def no_connection(monkeypatch):
    """For refusals that must happen before anything touches the network."""

    def refuse(*args, **kwargs):
        raise AssertionError("the network was touched")

    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


def resolve(host, port):
    if host not in DNS:
        raise FetchError("dns_failed", f"The metadata URL's host {host} could not be found.")
    return [ipaddress.ip_address(address) for address in DNS[host]]


def allow_loopback(address):
    """The real check, except for the test server's own address."""
    if address != LOOPBACK:
        check_address(address)


# --- a local TLS server ---------------------------------------------------------------------------


def _key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _certificate(subject, issuer, public_key, signing_key, *, ca, names=()):
    now = datetime.now(UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
        .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)]))
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if names:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.DNSName(name) for name in names]), critical=False
        )
    return builder.sign(signing_key, hashes.SHA256())


def _pem(certificate):
    return certificate.public_bytes(serialization.Encoding.PEM).decode()


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    """A test CA and a server certificate it issued for idp.test."""
    ca_key, server_key = _key(), _key()
    ca = _certificate("Test CA", "Test CA", ca_key.public_key(), ca_key, ca=True)
    server = _certificate(
        "idp.test", "Test CA", server_key.public_key(), ca_key, ca=False, names=["idp.test"]
    )
    directory = tmp_path_factory.mktemp("pki")
    (directory / "server.pem").write_text(_pem(server))
    (directory / "server.key").write_bytes(
        server_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        )
    )
    return {"ca": _pem(ca), "cert": directory / "server.pem", "key": directory / "server.key"}


@pytest.fixture
def trust(pki):
    """A client trust store holding only the test CA, with host name checking on."""
    return ssl.create_default_context(cadata=pki["ca"])


class Handler(http.server.BaseHTTPRequestHandler):
    """Routes by path; each route is one behaviour of a real or hostile server."""

    server: "TLSServer"

    def do_GET(self):
        self.server.seen.append((self.path, self.headers["Host"]))
        route, _, argument = self.path.partition("?")[0].lstrip("/").partition("/")
        getattr(self, f"route_{route.replace('-', '_')}", self.route_missing)(argument)

    def route_metadata(self, _):
        self.send(200, METADATA, {"Content-Type": "application/samlmetadata+xml"})

    def route_hops(self, remaining):
        # /hops/3 redirects three times before the metadata.
        left = int(remaining)
        self.send(302, b"", {"Location": f"/hops/{left - 1}" if left > 1 else "/metadata"})

    def route_relative(self, _):
        self.send(301, b"", {"Location": "metadata"})

    def route_to_private(self, _):
        self.send(302, b"", {"Location": "https://intranet.test/metadata"})

    def route_to_http(self, _):
        self.send(307, b"", {"Location": f"http://idp.test:{self.server.server_port}/metadata"})

    def route_no_location(self, _):
        self.send(302, b"", {})

    def route_missing(self, _):
        self.send(404, b"<html>Not here</html>", {"Content-Type": "text/html"})

    def route_endless(self, _):
        # No Content-Length: the body runs until the connection closes (HTTP/1.0).
        self.send_response(200)
        self.end_headers()
        for _ in range(400):  # 25 MB at most, should the client not stop reading
            self.wfile.write(b"<x>" * 21_845)

    def route_declared_huge(self, _):
        self.send_response(200)
        self.send_header("Content-Length", "5000000")
        self.end_headers()
        self.wfile.write(METADATA)
        time.sleep(3)

    def route_slow(self, _):
        time.sleep(2)
        self.route_metadata(None)

    def route_drip(self, _):
        self.send_response(200)
        self.end_headers()
        for _ in range(50):
            self.wfile.write(b" ")
            self.wfile.flush()
            time.sleep(0.1)

    def send(self, status, body, headers):
        self.send_response(status)
        for name, value in {**headers, "Content-Length": str(len(body))}.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format, *args):
        pass


class TLSServer(http.server.ThreadingHTTPServer):
    daemon_threads = True
    seen: list[tuple[str, str]]  # (path, Host header) of every request
    server_names: list[str]  # the SNI name of every TLS handshake

    def server_bind(self):
        # HTTPServer.server_bind looks up the host's FQDN (a reverse DNS query); not needed.
        self.socket.bind(self.server_address)
        self.server_address = self.socket.getsockname()
        self.server_name, self.server_port = "idp.test", self.server_address[1]

    def handle_error(self, request, client_address):
        pass  # clients that give up early (timeouts, size cap) break the pipe; that is the point


@pytest.fixture(scope="module")
def server(pki):
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(pki["cert"], pki["key"])
    httpd = TLSServer(("127.0.0.1", 0), Handler)
    httpd.seen, httpd.server_names = [], []
    context.sni_callback = lambda sock, name, ctx: httpd.server_names.append(name)
    httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()


def get(server, trust, path, host="idp.test", **options):
    url = f"https://{host}:{server.server_port}{path}"
    return fetch._fetch(url, resolve=resolve, ssl_context=trust, check=allow_loopback, **options)


def refusal(call):
    with pytest.raises(FetchError) as caught:
        call()
    return caught.value


# --- the address check ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("address", "kind"),
    [
        ("10.0.0.5", "a private"),
        ("172.16.4.1", "a private"),
        ("192.168.1.20", "a private"),
        ("127.0.0.1", "a loopback"),
        ("127.8.9.10", "a loopback"),
        ("::1", "a loopback"),
        ("fe80::1", "a link-local"),
        ("169.254.169.254", "a link-local"),
        ("100.64.0.1", "a shared (carrier-grade NAT)"),
        ("0.0.0.0", "an unspecified"),  # noqa: S104 (an address to refuse, not to bind)
        ("::", "an unspecified"),
        ("224.0.0.1", "a multicast"),
        ("ff02::1", "a multicast"),
        ("fd12:3456:789a::1", "a private"),
        ("240.0.0.1", "a reserved"),
        ("255.255.255.255", "a reserved"),  # broadcast
        ("192.0.2.10", "a private"),  # documentation range
        ("2001:db8::1", "a private"),  # documentation range
    ],
)
def test_non_public_addresses_are_refused_and_named(address, kind):
    error = refusal(lambda: check_address(ipaddress.ip_address(address)))

    assert error.code == "forbidden_address"
    assert error.message == (
        f"The metadata URL's host resolves to {kind} address ({address}), which is not allowed."
    )


@pytest.mark.parametrize(
    ("address", "kind", "ipv4"),
    [
        ("::ffff:127.0.0.1", "a loopback", "127.0.0.1"),
        ("::ffff:10.0.0.5", "a private", "10.0.0.5"),
        ("::ffff:169.254.169.254", "a link-local", "169.254.169.254"),
        ("64:ff9b::10.0.0.5", "a private", "10.0.0.5"),  # NAT64
        ("2002:a00:5::1", "a private", "10.0.0.5"),  # 6to4
    ],
)
def test_ipv4_inside_ipv6_is_judged_by_the_ipv4_address(address, kind, ipv4):
    written = ipaddress.ip_address(address)

    error = refusal(lambda: check_address(address))

    assert error.code == "forbidden_address"
    assert error.message == (
        f"The metadata URL's host resolves to {kind} address ({written}, which is {ipv4}), "
        "which is not allowed."
    )


@pytest.mark.parametrize(
    "address", ["93.184.216.34", "2606:2800:220:1::", "20.190.128.1", "64:ff9b::5db8:d822"]
)
def test_public_addresses_are_allowed(address):
    check_address(address)  # the last is NAT64 for 93.184.216.34


# --- refused before any network use -------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "code", "message"),
    [
        ("http://acme.okta.com/app/exk1/sso/saml/metadata", "not_https", "must use https"),
        ("ftp://acme.okta.com/metadata", "not_https", "must use https"),
        ("acme.okta.com/app/exk1/sso/saml/metadata", "not_https", "must use https"),
        ("https://localhost/metadata", "forbidden_address", "points at this server (localhost)"),
        ("https://LocalHost./metadata", "forbidden_address", "points at this server (localhost)"),
        ("https://idp.localhost/metadata", "forbidden_address", "points at this server"),
        ("https://127.0.0.1/metadata", "forbidden_address", "a loopback address (127.0.0.1)"),
        ("https://[::1]:8443/metadata", "forbidden_address", "a loopback address (::1)"),
        ("https://[::ffff:7f00:1]/metadata", "forbidden_address", "a loopback address"),
        ("https://169.254.169.254/latest/meta-data/", "forbidden_address", "a link-local"),
        ("https://admin:secret@acme.okta.com/metadata", "invalid_url", "user name or password"),
        ("https:///metadata", "invalid_url", "has no host name"),
        ("https://acme.okta.com:99999/metadata", "invalid_url", "not a valid URL"),
    ],
)
def test_urls_are_refused_before_the_network_is_touched(no_connection, url, code, message):
    error = refusal(lambda: fetch_metadata(url))

    assert error.code == code
    assert message in error.message


def test_http_is_refused_with_the_documented_sentence(no_connection):
    error = refusal(lambda: fetch_metadata("http://acme.okta.com/app/exk1/sso/saml/metadata"))

    assert error.message == "The metadata URL must use https."


@pytest.mark.parametrize("host", ["2130706433", "0x7f000001", "127.1"])
def test_loopback_spelled_as_a_number_is_refused_after_a_numeric_lookup(host):
    # The system resolver reads these old inet_aton spellings as 127.0.0.1, and so do we.
    error = refusal(lambda: fetch_metadata(f"https://{host}/metadata"))

    assert error.code == "forbidden_address"
    assert "(127.0.0.1)" in error.message


def test_an_unknown_host_is_reported_as_not_found(monkeypatch):
    def not_found(*args, **kwargs):
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", not_found)

    error = refusal(lambda: fetch_metadata("https://acme.okta.invalid/metadata"))

    assert (error.code, error.message) == (
        "dns_failed",
        "The metadata URL's host acme.okta.invalid could not be found.",
    )


@pytest.mark.parametrize(
    ("host", "address"), [("intranet.test", "10.0.0.5"), ("metadata.test", "169.254.169.254")]
)
def test_a_host_resolving_to_a_forbidden_address_is_refused_without_connecting(
    trust, host, address
):
    error = refusal(
        lambda: fetch._fetch(f"https://{host}/metadata", resolve=resolve, ssl_context=trust)
    )

    assert error.code == "forbidden_address"
    assert f"({address}), which is not allowed." in error.message


def test_every_address_a_name_resolves_to_is_checked(trust):
    # One public and one private answer: a rebinding attacker's favourite. The whole name is
    # refused, and the public address is never connected to (the fixture would fail the test).
    error = refusal(
        lambda: fetch._fetch("https://mixed.test/metadata", resolve=resolve, ssl_context=trust)
    )

    assert error.code == "forbidden_address"
    assert "(10.0.0.5)" in error.message


# --- exchanges with a local TLS server ----------------------------------------------------------


def test_metadata_is_fetched_from_the_vetted_address_with_tls_for_the_host_name(server, trust):
    calls = []

    def counting_resolve(host, port):
        calls.append((host, port))
        return resolve(host, port)

    body = fetch._fetch(
        f"https://idp.test:{server.server_port}/metadata",
        resolve=counting_resolve,
        ssl_context=trust,
        check=allow_loopback,
    )

    assert body == METADATA
    # Resolved once, then connected to that address (the fixture allows no other) while
    # presenting the name for SNI, the certificate check and the Host header.
    assert calls == [("idp.test", server.server_port)]
    assert server.server_names[-1] == "idp.test"
    assert server.seen[-1] == ("/metadata", f"idp.test:{server.server_port}")


def test_a_certificate_not_naming_the_host_is_refused(server, trust):
    error = refusal(lambda: get(server, trust, "/metadata", host="other.test"))

    assert error.code == "tls_failed"
    assert "https certificate is not valid for other.test" in error.message


def test_a_certificate_from_an_untrusted_issuer_is_refused(server):
    error = refusal(lambda: get(server, ssl.create_default_context(), "/metadata"))

    assert error.code == "tls_failed"
    assert "https certificate is not valid for idp.test" in error.message


def test_a_query_string_is_sent_and_unsafe_characters_are_escaped(server, trust):
    get(server, trust, "/metadata?appid=6f1c2a3b&name=a b")

    assert server.seen[-1][0] == "/metadata?appid=6f1c2a3b&name=a%20b"


@pytest.mark.parametrize("path", ["/hops/1", "/hops/3", "/relative"])
def test_redirects_are_followed_up_to_the_limit(server, trust, path):
    assert get(server, trust, path) == METADATA


def test_too_many_redirects_are_refused(server, trust):
    error = refusal(lambda: get(server, trust, "/hops/4"))

    assert (error.code, error.message) == (
        "too_many_redirects",
        "The metadata URL redirected too many times (more than 3).",
    )


def test_a_redirect_to_a_private_address_is_refused(server, trust):
    error = refusal(lambda: get(server, trust, "/to-private"))

    assert error.code == "forbidden_address"
    assert "a private address (10.0.0.5), which is not allowed" in error.message


def test_a_redirect_to_http_is_refused(server, trust):
    error = refusal(lambda: get(server, trust, "/to-http"))

    assert error.code == "not_https"
    assert error.message == (
        f"The metadata URL redirected to http://idp.test:{server.server_port}/metadata, which "
        "does not use https; it must use https."
    )


def test_a_redirect_without_a_location_is_a_bad_response(server, trust):
    error = refusal(lambda: get(server, trust, "/no-location"))

    assert error.code == "bad_response"


def test_an_error_status_is_reported(server, trust):
    error = refusal(lambda: get(server, trust, "/nothing-here"))

    assert (error.code, error.message) == (
        "http_status",
        "The metadata URL answered 404 (Not Found).",
    )


def test_a_body_without_length_is_cut_off_at_the_size_cap(server, trust):
    started = time.monotonic()

    error = refusal(lambda: get(server, trust, "/endless"))

    assert (error.code, error.message) == (
        "too_large",
        "The metadata at the URL is larger than 1 MB.",
    )
    assert time.monotonic() - started < 5  # stopped reading, did not wait for the 25 MB


def test_a_smaller_size_cap_is_enforced_while_streaming(server, trust):
    error = refusal(lambda: get(server, trust, "/endless", max_bytes=100_000))

    assert (error.code, error.message) == (
        "too_large",
        "The metadata at the URL is larger than 100,000 bytes.",
    )


def test_a_declared_length_over_the_cap_is_refused_without_reading(server, trust):
    started = time.monotonic()

    error = refusal(lambda: get(server, trust, "/declared-huge"))

    assert error.code == "too_large"
    assert time.monotonic() - started < 2  # the server would hold the body back for 3 s


def test_a_server_slow_to_answer_times_out(server, trust):
    started = time.monotonic()

    error = refusal(lambda: get(server, trust, "/slow", timeout=0.5))

    assert (error.code, error.message) == (
        "timeout",
        "The metadata URL took longer than 0.5 seconds to answer.",
    )
    assert time.monotonic() - started < 1.5


def test_a_server_dripping_bytes_cannot_outlast_the_deadline(server, trust):
    # Each byte arrives well within a per-read timeout: only a deadline for the whole fetch helps.
    started = time.monotonic()

    error = refusal(lambda: get(server, trust, "/drip", timeout=0.6))

    assert error.code == "timeout"
    assert time.monotonic() - started < 1.5


def test_a_server_that_refuses_the_connection_is_reported(trust):
    with socket.socket() as placeholder:  # a port nobody listens on once it is closed
        placeholder.bind(("127.0.0.1", 0))
        port = placeholder.getsockname()[1]

    error = refusal(
        lambda: fetch._fetch(
            f"https://idp.test:{port}/metadata",
            resolve=resolve,
            ssl_context=trust,
            check=allow_loopback,
        )
    )

    assert (error.code, error.message) == (
        "connection_failed",
        "The metadata URL's server idp.test could not be reached (Connection refused).",
    )


def test_the_default_limits_are_the_documented_ones():
    assert fetch.FETCH_TIMEOUT_SECONDS == 10
    assert fetch.MAX_REDIRECTS == 3
    assert fetch.MAX_FETCH_BYTES == 1_000_000
