"""Email domains for sign-in routing: how a domain is written down, and the DNS record that
proves an organisation controls it. Pure: no database, no network.

A domain is stored and compared in one form: IDNA A-labels (UTS #46 mapping, so ``Bücher.Example``
and ``xn--bcher-kva.example`` are the same domain), lowercase, without the trailing dot of a
fully qualified name. The verification record is a TXT record at ``_auzlearn.<domain>`` whose
value is ``auzlearn-verification=<token>``: a name of its own (as DMARC's ``_dmarc`` and ACME's
``_acme-challenge`` have) keeps it apart from the domain's SPF and other TXT records, and works
for a domain whose own name is a CNAME.
"""

import re

import idna

RECORD_LABEL = "_auzlearn"
RECORD_VALUE_PREFIX = "auzlearn-verification="
MAX_DOMAIN_LENGTH = 253  # RFC 1035, in its dotted text form
_LABEL = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")


class DomainInvalid(ValueError):
    """Not a domain we can route by; the message tells the admin what to enter instead."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def normalise_domain(value: str) -> str:
    """The domain in its stored form, or DomainInvalid saying what is wrong with it."""
    text = value.strip()
    if not text:
        raise DomainInvalid("Enter a domain, like acme.com.")
    if "@" in text:
        raise DomainInvalid("Enter the domain alone, like acme.com, without a name and @.")
    if any(character in text for character in "/:?#[] \t"):
        raise DomainInvalid("Enter a domain name, like acme.com, not a web address.")
    text = text.removesuffix(".")  # the root of a fully qualified name; the same domain
    try:
        ascii_form = idna.encode(text, uts46=True).decode("ascii")
    except (idna.IDNAError, UnicodeError):
        raise DomainInvalid(f"“{value.strip()}” is not a domain name.") from None
    labels = ascii_form.split(".")
    if len(ascii_form) > MAX_DOMAIN_LENGTH or not all(_LABEL.match(label) for label in labels):
        raise DomainInvalid(f"“{value.strip()}” is not a domain name.")
    if len(labels) < 2:
        raise DomainInvalid("Enter a whole domain, like acme.com, not only its last part.")
    if labels[-1].isdigit():
        raise DomainInvalid("Enter a domain name, like acme.com, not an IP address.")
    return ascii_form


def domain_of_email(entry: str) -> str | None:
    """The stored form of an email address's domain (or of a bare domain); None when it has
    none we could route by."""
    _, _, domain = entry.strip().rpartition("@")
    try:
        return normalise_domain(domain)
    except DomainInvalid:
        return None


def display_domain(domain: str) -> str:
    """A stored domain as people read it: Unicode for internationalised names."""
    try:
        return idna.decode(domain)
    except (idna.IDNAError, UnicodeError):
        return domain


def record_name(domain: str) -> str:
    return f"{RECORD_LABEL}.{domain}"


def record_value(token: str) -> str:
    return f"{RECORD_VALUE_PREFIX}{token}"
