"""What every provider's settings tabs share: the provider in the URL, the page context, the
signed-in admin and the confirmation step before changes that stop sign-in or provisioning.
Used by the SAML and Activity tabs here and by the SCIM tab in scim."""

from collections.abc import Mapping
from dataclasses import dataclass, field

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from accounts.models import Organisation, User
from sso.providers import PROVIDERS, Provider


@dataclass(frozen=True)
class Confirmation:
    """A page that asks before a change that stops people signing in or being provisioned.
    Works without JavaScript: its button posts the same form again with confirm=yes."""

    title: str
    paragraphs: list[str]
    button: str
    action: str  # the URL the confirming form posts to
    cancel_url: str
    values: Mapping[str, str] = field(default_factory=dict)  # the form's fields, posted again


def provider_converter(slugs: tuple[str, ...]) -> type:
    """A URL converter that lets only these providers' slugs through (others are a 404)."""

    class ProviderConverter:
        regex = "|".join(slugs)

        def to_python(self, value: str) -> str:
            return value

        def to_url(self, value: str) -> str:
            return value

    return ProviderConverter


def provider_named(slug: str) -> Provider:
    # The URL converters let only known providers through, so the slug is always found.
    return next(provider for provider in PROVIDERS if provider.slug == slug)


def tab_context(
    organisation: Organisation, provider: str, tab: str, extra: Mapping[str, object]
) -> dict[str, object]:
    return {
        "organisation": organisation,
        "provider": provider_named(provider),
        "tab": tab,
        "settings_section": "sso",
        **extra,
    }


def confirm(
    request: HttpRequest,
    organisation: Organisation,
    provider: str,
    tab: str,
    confirmation: Confirmation,
) -> HttpResponse:
    context = tab_context(organisation, provider, tab, {"confirmation": confirmation})
    return render(request, "settings/confirm.html", context)


def signed_in_admin(request: HttpRequest) -> User:
    assert isinstance(request.user, User), "primary_admin_required lets only admins in"
    return request.user
