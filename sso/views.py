from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from accounts.access import primary_admin_required
from accounts.models import Organisation
from scim.models import ScimRequest
from sso.providers import PROVIDERS


@require_GET
@primary_admin_required
def overview(request: HttpRequest, organisation: Organisation) -> HttpResponse:
    """Settings → Single Sign-on: every provider and its state at a glance.

    SCIM is one setting of the organisation, shown on each provider that provisions over it;
    the last SCIM request is read once for the page, not once per card.
    """
    providers = [
        {"provider": provider, "configured": False, "scim": provider.scim} for provider in PROVIDERS
    ]
    last_scim_request = (
        ScimRequest.objects.filter(organisation=organisation)
        .only("created_at", "status", "outcome")
        .first()
    )
    return render(
        request,
        "sso/overview.html",
        {
            "organisation": organisation,
            "providers": providers,
            "last_scim_request": last_scim_request,
            "settings_section": "sso",
        },
    )
