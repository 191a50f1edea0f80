"""Whether an SP-initiated sign-in (our login, the Test sign-in) can work from here.

The cookie that binds an AuthnRequest to this browser must come back on the identity provider's
POST to our ACS. Over https it is ``SameSite=None; Secure`` and always does; over plain http it
can only be ``SameSite=Lax`` (browsers drop ``SameSite=None`` cookies that are not Secure), and a
Lax cookie rides on a POST only from the same site. So with a plain-http ``PUBLIC_BASE_URL`` an
SP-initiated sign-in works only with an identity provider on our own site, as the development
IdP at /dev-idp/ is (``sso.saml_views.with_pending_cookie``).

"Same site" is the scheme and the registrable domain (RFC 6265bis, schemeful same-site). Without
a copy of the Public Suffix List the registrable domain is taken as the last two labels, or the
last three under a two-letter country code whose second label is short (``example.co.uk``); an
IP address or a single-label host is only the same site as itself. The guess can only err
towards "cross-site" for hosts under a suffix it does not know, which costs a warning, never a
sign-in that fails at the IdP without one.
"""

import ipaddress
from urllib.parse import urlsplit


def cross_site_over_http(public_base_url: str, idp_url: str) -> bool:
    """True when an SP-initiated sign-in cannot come back: our site is plain http and the IdP's
    sign-in URL is on another site."""
    ours = urlsplit(public_base_url)
    if ours.scheme != "http":
        return False
    theirs = urlsplit(idp_url)
    return (theirs.scheme, _site(theirs.hostname or "")) != ("http", _site(ours.hostname or ""))


def _site(host: str) -> str:
    host = host.lower().rstrip(".")
    try:
        ipaddress.ip_address(host)
    except ValueError:
        pass
    else:
        return host
    labels = host.split(".")
    if len(labels) <= 2:
        return host
    if len(labels[-1]) == 2 and len(labels[-2]) <= 3:
        return ".".join(labels[-3:])
    return ".".join(labels[-2:])
