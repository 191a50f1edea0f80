"""Finding someone's identity provider from their work email or their organisation's name
(home realm discovery).

Nobody is looked up: an email leads by its domain alone, to the organisation that has verified
that domain (``SsoDomain``), so the answer says nothing about whether an address has an account
anywhere. An unknown domain and a domain claimed but not verified lead to the same nothing. An
entry without an @ is taken as a domain when it has a dot (``acme.com``), else as an
organisation's short name, as organisations' slugs have no dots.
"""

from django.db.models import Q

from sso.domains import domain_of_email
from sso.models import SamlConnection


def connections_for(entry: str) -> list[SamlConnection]:
    """The enabled SAML connections that ``entry`` leads to, in one query."""
    entry = entry.strip()
    if not entry:
        return []
    if "@" in entry or "." in entry:
        domain = domain_of_email(entry)
        if domain is None:
            return []
        leads_to = Q(
            organisation__sso_domains__domain=domain,
            organisation__sso_domains__verified_at__isnull=False,
        )
    else:
        leads_to = Q(organisation__slug=entry.lower())
    return list(
        SamlConnection.objects.filter(leads_to, enabled=True)
        .select_related("organisation")
        .order_by("provider")
    )
