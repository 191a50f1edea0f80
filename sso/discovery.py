"""Finding someone's identity provider from their work email or their organisation's name."""

from django.db.models import Q, Value
from django.db.models.functions import Lower

from accounts.models import Organisation, User
from sso.models import SamlConnection


def connections_for(entry: str) -> list[SamlConnection]:
    """The enabled SAML connections that ``entry`` leads to: an email leads to the organisation
    of the one person who has it (as userName or email) where SSO is on; anything else is taken
    as an organisation's short name. Ambiguity leads nowhere, so an email shared across
    organisations never sends anyone to the wrong one."""
    entry = entry.strip()
    if not entry:
        return []
    if "@" in entry:
        organisations = _organisations_of_email(entry)
    else:
        organisations = list(Organisation.objects.filter(slug=entry.lower()))
    if len(organisations) != 1:
        return []
    return list(
        SamlConnection.objects.filter(organisation=organisations[0], enabled=True)
        .select_related("organisation")
        .order_by("provider")
    )


def _organisations_of_email(email: str) -> list[Organisation]:
    wanted = Lower(Value(email))
    people = (
        User.objects.get_queryset()
        .alias(username_lower=Lower("username"), email_lower=Lower("email"))
        .filter(Q(username_lower=wanted) | Q(email_lower=wanted))
        .filter(organisation__saml_connections__enabled=True, deleted_at__isnull=True)
    )
    organisation_ids = set(people.values_list("organisation_id", flat=True)[:10])
    return list(Organisation.objects.filter(pk__in=organisation_ids))
