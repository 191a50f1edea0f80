"""Fetch an identity provider's metadata URL without becoming a way into our own network.

An admin types a URL and our server fetches it: classic server-side request forgery. So:

- https only, for the first URL and every redirect target;
- every address the host name resolves to must be public (no private, loopback, link-local,
  multicast, reserved, unspecified or shared addresses, IPv4 or IPv6, unwrapping IPv4 embedded in
  IPv6), checked again after every redirect, which we follow ourselves (at most MAX_REDIRECTS);
- we connect to the very address we checked, so a DNS answer that changes between the check and
  the connection (DNS rebinding) cannot move us, while TLS is still verified for the host name
  (SNI and certificate host name check);
- one deadline for the whole fetch (a server dripping a byte a second does not get around it) and
  a size cap counted while reading, whatever Content-Length claims.

Name resolution itself (getaddrinfo) cannot be given a timeout; the system resolver's own limits
apply. No proxy is used (http.client ignores the proxy environment variables).

Only the standard library: http.client over a socket we open ourselves is the simplest way to
connect to a vetted address while verifying TLS for the name.

Error codes (`FetchError.code`): invalid_url, not_https, forbidden_address, dns_failed,
connection_failed, tls_failed, timeout, too_large, http_status, too_many_redirects, bad_response.
"""

from __future__ import annotations

import contextlib
import http.client
import ipaddress
import socket
import ssl
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from urllib.parse import quote, urljoin, urlsplit

from sso.metadata import MAX_METADATA_BYTES

MAX_FETCH_BYTES = MAX_METADATA_BYTES
FETCH_TIMEOUT_SECONDS = 10
MAX_REDIRECTS = 3

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], Sequence[IPAddress]]
AddressCheck = Callable[[IPAddress], None]

_REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
_READ_CHUNK_BYTES = 64 * 1024
_URL_SAFE = (
    "/%:@!$&'()*+,;=?~"  # RFC 3986 reserved characters and existing escapes stay as they are
)
_HEADERS = {
    "Accept": "application/samlmetadata+xml, application/xml;q=0.9, text/xml;q=0.9, */*;q=0.1",
    # Asked for plainly so the size cap counts the real document, not a compressed one.
    "Accept-Encoding": "identity",
    "User-Agent": "auzlearn-saml-metadata/1",
}
# RFC 6598 shared address space (carrier-grade NAT): not global, yet Python 3.11 does not count
# it as private, so it is named here.
_SHARED_ADDRESS_SPACE = ipaddress.IPv4Network("100.64.0.0/10")
# RFC 6052 NAT64: on an IPv6-only network with DNS64 every IPv4 site appears under this prefix,
# so the IPv4 address inside is what must be judged.
_NAT64_PREFIX = ipaddress.IPv6Network("64:ff9b::/96")


class FetchError(Exception):
    """A metadata URL we could not or would not fetch; `message` is a sentence for the admin."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def fetch_metadata(url: str) -> bytes:
    """The body of an https metadata URL, or FetchError saying why not."""
    return _fetch(url, resolve=_resolve, ssl_context=ssl.create_default_context())


def check_address(ip: IPAddress | str) -> None:
    """Refuse any address that is not on the public internet."""
    address = ipaddress.ip_address(ip) if isinstance(ip, str) else ip
    # An IPv6 address standing for an IPv4 one is judged, and named, by the IPv4 address too.
    embedded = _embedded_ipv4(address)
    kind = _forbidden_kind(embedded or address)
    if kind is not None:
        named = f"{address}, which is {embedded}" if embedded else f"{address}"
        raise FetchError(
            "forbidden_address",
            f"The metadata URL's host resolves to {kind} address ({named}), which is not allowed.",
        )


def _forbidden_kind(address: IPAddress) -> str | None:
    # Most specific first: 127.0.0.1, 169.254.169.254 and 240.0.0.1 are "private" to Python too.
    if address.is_unspecified:
        return "an unspecified"
    if address.is_loopback:
        return "a loopback"
    if address.is_link_local:  # 169.254.169.254 is the cloud metadata service
        return "a link-local"
    if address.is_multicast:
        return "a multicast"
    if address in _SHARED_ADDRESS_SPACE:
        return "a shared (carrier-grade NAT)"
    if address.is_reserved:
        return "a reserved"
    if address.is_private:
        return "a private"
    if not address.is_global:
        return "a non-public"
    return None


def _embedded_ipv4(address: IPAddress) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address stands for: mapped (::ffff:a.b.c.d), 6to4, NAT64."""
    if isinstance(address, ipaddress.IPv4Address):
        return None
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address in _NAT64_PREFIX:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def _resolve(host: str, port: int) -> list[IPAddress]:
    """Every address the system resolver gives for the host."""
    try:
        answers = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise FetchError(
            "dns_failed", f"The metadata URL's host {host} could not be found."
        ) from None
    return [ipaddress.ip_address(sockaddr[0]) for *_, sockaddr in answers]


@dataclass(frozen=True)
class _Target:
    url: str
    host: str  # as sent in SNI and the Host header
    port: int
    path: str  # path and query


@dataclass(frozen=True)
class _Redirect:
    location: str


def _fetch(
    url: str,
    *,
    resolve: Resolver,
    ssl_context: ssl.SSLContext,
    check: AddressCheck = check_address,
    timeout: float = FETCH_TIMEOUT_SECONDS,
    max_bytes: int = MAX_FETCH_BYTES,
    max_redirects: int = MAX_REDIRECTS,
) -> bytes:
    """Fetch with the resolver, address check and trust store given (tests pass their own)."""
    deadline = time.monotonic() + timeout
    target = _target(url, redirected=False)
    for redirects in range(max_redirects + 1):
        addresses = _vetted_addresses(target, resolve, check)
        with _translated_errors(target.host, timeout):
            outcome = _get(target, addresses, ssl_context, deadline, max_bytes)
        if isinstance(outcome, bytes):
            return outcome
        if redirects == max_redirects:
            break
        target = _target(urljoin(target.url, outcome.location), redirected=True)
    raise FetchError(
        "too_many_redirects",
        f"The metadata URL redirected too many times (more than {max_redirects}).",
    )


def _target(url: str, *, redirected: bool) -> _Target:
    """Check a URL's form before anything touches the network."""
    where = f"The metadata URL redirected to {url}, which" if redirected else "The metadata URL"
    try:
        parts = urlsplit(url.strip())
        port = parts.port or 443
    except ValueError:
        raise FetchError("invalid_url", f"{where} is not a valid URL.") from None
    if parts.scheme.lower() != "https":
        if redirected:
            raise FetchError("not_https", f"{where} does not use https; it must use https.")
        raise FetchError("not_https", "The metadata URL must use https.")
    if parts.username is not None or parts.password is not None:
        raise FetchError("invalid_url", f"{where} must not contain a user name or password.")
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise FetchError("invalid_url", f"{where} has no host name.")
    # RFC 6761: localhost names are this machine whatever DNS says; refused without asking it.
    if host == "localhost" or host.endswith(".localhost"):
        raise FetchError(
            "forbidden_address",
            f"{where} points at this server ({host}), which is not allowed.",
        )
    try:
        host = host.encode("idna").decode("ascii")
    except UnicodeError:
        raise FetchError("invalid_url", f"{where} has an invalid host name.") from None
    # Spaces or non-ASCII pasted into a URL are escaped, as a browser would, not sent raw.
    path = quote(parts.path or "/", safe=_URL_SAFE)
    query = quote(parts.query, safe=_URL_SAFE)
    return _Target(url=url, host=host, port=port, path=f"{path}?{query}" if query else path)


def _vetted_addresses(target: _Target, resolve: Resolver, check: AddressCheck) -> list[IPAddress]:
    """Every address of the host, each checked: one bad answer refuses the lot."""
    try:
        addresses: list[IPAddress] = [ipaddress.ip_address(target.host)]
    except ValueError:
        addresses = list(resolve(target.host, target.port))
    if not addresses:
        raise FetchError("dns_failed", f"The metadata URL's host {target.host} could not be found.")
    for address in addresses:
        check(address)
    return addresses


class _VettedHTTPSConnection(http.client.HTTPSConnection):
    """An https connection to an address we chose, with TLS verified for the host name."""

    def __init__(
        self, target: _Target, address: IPAddress, context: ssl.SSLContext, timeout: float
    ) -> None:
        super().__init__(target.host, target.port, timeout=timeout, context=context)
        self._address = address
        self._tls_context = context

    def connect(self) -> None:
        self.connect_tls()

    def connect_tls(self) -> ssl.SSLSocket:
        raw = socket.create_connection((str(self._address), self.port), self.timeout)
        try:
            # server_hostname gives SNI and, with check_hostname, the certificate name check.
            tls_socket = self._tls_context.wrap_socket(raw, server_hostname=self.host)
        except BaseException:
            raw.close()
            raise
        self.sock = tls_socket
        return tls_socket


def _get(
    target: _Target,
    addresses: Sequence[IPAddress],
    ssl_context: ssl.SSLContext,
    deadline: float,
    max_bytes: int,
) -> bytes | _Redirect:
    """One GET: the body of a 200, where a redirect points, or FetchError."""
    connection, tls_socket = _connect(target, addresses, ssl_context, deadline)
    try:
        connection.request("GET", target.path, headers=_HEADERS)
        # The response owns the socket from here on, so it is closed as well as the connection.
        with connection.getresponse() as response:
            return _outcome(response, tls_socket, deadline, max_bytes)
    finally:
        connection.close()


def _outcome(
    response: http.client.HTTPResponse, tls_socket: ssl.SSLSocket, deadline: float, max_bytes: int
) -> bytes | _Redirect:
    if response.status in _REDIRECT_STATUSES:
        location = response.getheader("Location")
        if not location:
            raise FetchError(
                "bad_response",
                f"The metadata URL answered {response.status} (a redirect) without saying "
                "where to.",
            )
        return _Redirect(location)
    if response.status != 200:
        raise FetchError(
            "http_status", f"The metadata URL answered {response.status} ({response.reason})."
        )
    return _read_capped(response, tls_socket, deadline, max_bytes)


def _connect(
    target: _Target, addresses: Sequence[IPAddress], ssl_context: ssl.SSLContext, deadline: float
) -> tuple[_VettedHTTPSConnection, ssl.SSLSocket]:
    """Connect to the first vetted address that answers, as a browser would."""
    unreachable: OSError | None = None
    for address in addresses:
        connection = _VettedHTTPSConnection(target, address, ssl_context, _remaining(deadline))
        try:
            tls_socket = connection.connect_tls()
        except (TimeoutError, ssl.SSLError):
            connection.close()
            raise  # the next address will not be faster, nor hold another certificate
        except OSError as error:
            connection.close()
            unreachable = error
            continue
        return connection, tls_socket
    assert unreachable is not None  # _vetted_addresses never returns an empty list
    raise unreachable


def _read_capped(
    response: http.client.HTTPResponse, tls_socket: ssl.SSLSocket, deadline: float, max_bytes: int
) -> bytes:
    declared = response.getheader("Content-Length") or ""
    if declared.isdigit() and int(declared) > max_bytes:
        raise _too_large(max_bytes)
    # Content-Length may be missing (chunked, or read until close) or wrong, so count as we go.
    chunks: list[bytes] = []
    received = 0
    while True:
        # The socket stays usable after http.client hands it to the response, and giving each
        # read only what is left of the deadline makes the deadline hold for slow drips too.
        tls_socket.settimeout(_remaining(deadline))
        chunk = response.read1(_READ_CHUNK_BYTES)
        if not chunk:
            return b"".join(chunks)
        received += len(chunk)
        if received > max_bytes:
            raise _too_large(max_bytes)
        chunks.append(chunk)


def _remaining(deadline: float) -> float:
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise TimeoutError
    return remaining


@contextlib.contextmanager
def _translated_errors(host: str, timeout: float) -> Iterator[None]:
    """Turn network and protocol failures into a FetchError the admin can read."""
    try:
        yield
    except TimeoutError:
        raise FetchError(
            "timeout", f"The metadata URL took longer than {timeout:g} seconds to answer."
        ) from None
    except ssl.SSLCertVerificationError as error:
        raise FetchError(
            "tls_failed",
            f"The metadata URL's https certificate is not valid for {host} "
            f"({error.verify_message}).",
        ) from None
    except ssl.SSLError as error:
        raise FetchError(
            "tls_failed", f"The secure connection to {host} failed ({error.reason or error})."
        ) from None
    except OSError as error:
        raise FetchError(
            "connection_failed",
            f"The metadata URL's server {host} could not be reached ({error.strerror or error}).",
        ) from None
    except http.client.HTTPException:
        raise FetchError(
            "bad_response", f"The metadata URL's server {host} sent a broken HTTP response."
        ) from None


def _too_large(max_bytes: int) -> FetchError:
    size = f"{max_bytes / 1_000_000:g} MB" if max_bytes >= 1_000_000 else f"{max_bytes:,} bytes"
    return FetchError("too_large", f"The metadata at the URL is larger than {size}.")
