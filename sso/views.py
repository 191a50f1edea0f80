from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from accounts.access import primary_admin_required
from accounts.models import Organisation
from sso.providers import PROVIDERS


@require_GET
@primary_admin_required
def overview(request: HttpRequest, organisation: Organisation) -> HttpResponse:
    """Settings → Single Sign-on: every provider and its state at a glance."""
    providers = [{"provider": provider, "configured": False} for provider in PROVIDERS]
    return render(
        request,
        "sso/overview.html",
        {"organisation": organisation, "providers": providers, "settings_section": "sso"},
    )
