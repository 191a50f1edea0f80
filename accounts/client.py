"""Who is asking: the client's address, for throttles and records.

Behind a load balancer the address Django sees is the balancer's. Each trusted proxy appends
the address it received the request from to X-Forwarded-For, so with N trusted proxies in front
of us the client is the Nth entry from the right; anything further left was written by the
client itself and proves nothing. With no trusted proxy (the default) X-Forwarded-For is
ignored altogether, since anyone can send it.
"""

import ipaddress

from django.conf import settings
from django.http import HttpRequest

UNKNOWN = "unknown"


def client_address(request: HttpRequest) -> str:
    """The client's IP address as text, normalised ("::ffff:10.0.0.1" and "10.0.0.1" alike),
    or "unknown" when what we were given is not an address."""
    proxies: int = settings.TRUSTED_PROXY_COUNT
    address = request.META.get("REMOTE_ADDR", "")
    if proxies > 0:
        hops = [hop.strip() for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        hops = [hop for hop in hops if hop]
        # The last proxy's own peer is REMOTE_ADDR; the hops it and the others recorded are
        # the rightmost ones, so the client is at position -proxies.
        if len(hops) >= proxies:
            address = hops[-proxies]
    return _normalised(address)


def _normalised(address: str) -> str:
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return UNKNOWN
    if isinstance(parsed, ipaddress.IPv6Address) and parsed.ipv4_mapped is not None:
        parsed = parsed.ipv4_mapped
    return str(parsed)


def address_block(address: str) -> str:
    """What a throttle counts an address under: the address, or for IPv6 its /64. A network
    is given a whole /64, and a client that has one must not get a fresh counter with each
    of its addresses. Anything that is not an address ("unknown") is kept as it is."""
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(parsed, ipaddress.IPv6Address):
        return str(ipaddress.ip_network(f"{parsed}/64", strict=False))
    return str(parsed)
