"""Looking up a domain's verification TXT record with dnspython.

The resolver is the system's (/etc/resolv.conf) unless ``SSO_DNS_NAMESERVERS`` names servers
(``host`` or ``host:port``, IP addresses only, ``[v6]:port`` for IPv6 with a port). It is asked
fresh each time, without a cache, and gives up after a few seconds: an admin is waiting for the
answer, and a DNS server that does not answer must end in "try again", never in a hung page or
a 500.
"""

import enum
import ipaddress

import dns.exception
import dns.nameserver
import dns.resolver
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

# Seconds for the whole lookup, retries included (dnspython's "lifetime").
LIFETIME_SECONDS = 3.0
DNS_PORT = 53
SETTING = "SSO_DNS_NAMESERVERS"


class Lookup(enum.Enum):
    FOUND = "found"
    NOT_FOUND = "not_found"  # the name has no such TXT record (or does not exist)
    UNAVAILABLE = "unavailable"  # no answer: timeout, SERVFAIL, no resolver; worth trying again


def txt_record_present(name: str, value: str) -> Lookup:
    """Whether ``name`` has a TXT record whose text is exactly ``value``."""
    try:
        answer = _resolver().resolve(name, "TXT", search=False)
    except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
        return Lookup.NOT_FOUND
    except dns.exception.DNSException:
        # Timeouts, SERVFAIL and REFUSED (NoNameservers), no resolver configuration, a reply
        # that cannot be parsed: none says the record is missing, so none says "not found".
        return Lookup.UNAVAILABLE
    for record in answer:
        # A TXT record longer than 255 bytes arrives as several strings, to be joined.
        text = b"".join(record.strings).decode("utf-8", errors="replace").strip()
        if text == value:
            return Lookup.FOUND
    return Lookup.NOT_FOUND


def nameservers() -> list[tuple[str, int]]:
    """``SSO_DNS_NAMESERVERS`` as (address, port) pairs; ImproperlyConfigured for a bad entry.
    Checked at start (``SsoConfig.ready``) so that a typo stops the process, not the page."""
    servers = []
    for entry in getattr(settings, SETTING, []):
        servers.append(_server(entry))
    return servers


def _server(entry: str) -> tuple[str, int]:
    host, port = entry.strip(), DNS_PORT
    if host.startswith("["):
        host, _, rest = host[1:].partition("]")
        if rest:
            if not rest.startswith(":"):
                raise _bad(entry)
            port = _port(entry, rest[1:])
    elif host.count(":") == 1:
        host, _, port_text = host.partition(":")
        port = _port(entry, port_text)
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        raise _bad(entry) from None
    return str(address), port


def _port(entry: str, text: str) -> int:
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise _bad(entry)
    return int(text)


def _bad(entry: str) -> ImproperlyConfigured:
    return ImproperlyConfigured(
        f"{SETTING}: {entry!r} is not a DNS server address; use an IP address, optionally with "
        "a port (192.0.2.53, 192.0.2.53:5353, [2001:db8::53]:53)."
    )


def _resolver() -> dns.resolver.Resolver:
    servers = nameservers()
    if servers:
        resolver = dns.resolver.Resolver(configure=False)
        resolver.nameservers = [
            dns.nameserver.Do53Nameserver(address, port) for address, port in servers
        ]
    else:
        resolver = dns.resolver.Resolver()  # NoResolverConfiguration is a DNSException
    resolver.timeout = LIFETIME_SECONDS
    resolver.lifetime = LIFETIME_SECONDS
    return resolver
