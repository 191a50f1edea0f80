"""Settings → Single Sign-on → Okta / Microsoft Entra ID: the SCIM tab, and the SCIM request log
that the Activity tab (``sso.settings_views.activity``) shows.

Every view takes the organisation from the signed-in primary admin (``primary_admin_required``),
never from the URL. A new Secret Key is rendered once, in the response to the POST that made it;
it is never put in the session, a message or the database (only its keyed hash is stored).
Changes that stop provisioning (turning SCIM off, replacing or revoking the key) ask for
confirmation on a page of their own, so they work without JavaScript.
"""

import json
from dataclasses import dataclass
from urllib.parse import unquote

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Page, Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from accounts import services
from accounts.access import primary_admin_required
from accounts.audit import Actor
from accounts.models import Organisation
from scim import keys
from scim.models import Outcome, ScimKey, ScimRequest
from scim.tenant import tenant_url
from sso.pages import Confirmation, confirm, provider_named, signed_in_admin, tab_context

ACTIVITY_PAGE_SIZE = 50
OUTCOME_FILTERS = [("", "All"), (Outcome.SUCCEEDED, "Succeeded"), (Outcome.FAILED, "Failed")]


@dataclass(frozen=True)
class ActivityRow:
    entry: ScimRequest
    path: str  # relative to the Tenant URL
    summary: str  # pretty JSON of what was sent; "" when nothing was


# --- the views ----------------------------------------------------------------------------------


@require_GET
@never_cache
@primary_admin_required
def scim_tab(request: HttpRequest, provider: str, organisation: Organisation) -> HttpResponse:
    return _render_scim_tab(request, organisation, provider)


@require_POST
@never_cache
@primary_admin_required
def scim_enabled(request: HttpRequest, provider: str, organisation: Organisation) -> HttpResponse:
    """The Enable SCIM switch and its Update button."""
    enable = request.POST.get("scim_enabled") == "on"
    name = provider_named(provider).name
    if organisation.scim_enabled and not enable and not _confirmed(request):
        return confirm(request, organisation, provider, "scim", _disable_confirmation(provider))
    services.organisation_update(
        organisation=organisation, actor=Actor.admin(signed_in_admin(request)), scim_enabled=enable
    )
    if enable:
        messages.success(request, f"SCIM is on: {name} can provision people with the key.")
    else:
        messages.success(
            request,
            f"SCIM is off: {name}'s requests are refused from now on. Everyone and every team "
            "already provisioned stays as they are.",
        )
    return redirect("scim_settings:scim", provider=provider)


@require_POST
@never_cache
@primary_admin_required
def key_generate(request: HttpRequest, provider: str, organisation: Organisation) -> HttpResponse:
    """Generate Key: the answer is the only page that ever shows the new key."""
    current = _active_key(organisation)
    if current is not None and not _confirmed(request):
        return confirm(
            request, organisation, provider, "scim", _replace_confirmation(provider, current)
        )
    admin = signed_in_admin(request)
    issued = keys.issue(organisation=organisation, actor=Actor.admin(admin), created_by=admin)
    return _render_scim_tab(request, organisation, provider, new_key=issued.secret)


@require_POST
@never_cache
@primary_admin_required
def key_revoke(request: HttpRequest, provider: str, organisation: Organisation) -> HttpResponse:
    current = _active_key(organisation)
    if current is None:
        messages.info(request, "There is no key to revoke.")
        return redirect("scim_settings:scim", provider=provider)
    if not _confirmed(request):
        return confirm(
            request, organisation, provider, "scim", _revoke_confirmation(provider, current)
        )
    keys.revoke(organisation=organisation, actor=Actor.admin(signed_in_admin(request)))
    messages.success(request, f"Key {current.prefix}… is revoked and no longer works.")
    return redirect("scim_settings:scim", provider=provider)


# --- the SCIM request log of the Activity tab -------------------------------------------------


def request_log(request: HttpRequest, organisation: Organisation) -> dict[str, object]:
    """The SCIM part of the Activity tab (``sso.settings_views.activity``): the organisation's
    SCIM requests, newest first, filtered by outcome; a COUNT and one page of rows."""
    outcome = request.GET.get("outcome", "")
    entries = ScimRequest.objects.filter(organisation=organisation)
    if outcome in Outcome.values:
        entries = entries.filter(outcome=outcome)
    else:
        outcome = ""
    page = Paginator(entries, ACTIVITY_PAGE_SIZE).get_page(request.GET.get("page"))
    return {
        "page": page,
        "rows": _activity_rows(page, organisation),
        "outcome": outcome,
        "outcome_filters": OUTCOME_FILTERS,
        "retention_days": settings.SCIM_REQUEST_RETENTION_DAYS,
    }


# --- helpers ------------------------------------------------------------------------------------


def _render_scim_tab(
    request: HttpRequest, organisation: Organisation, provider: str, *, new_key: str = ""
) -> HttpResponse:
    context = {
        "key": _active_key(organisation),
        "new_key": new_key,
        "tenant_url": tenant_url(organisation),
    }
    return render(
        request, "scim/scim_tab.html", tab_context(organisation, provider, "scim", context)
    )


def _active_key(organisation: Organisation) -> ScimKey | None:
    return (
        ScimKey.objects.select_related("created_by")
        .filter(organisation=organisation, revoked_at__isnull=True)
        .first()
    )


def _confirmed(request: HttpRequest) -> bool:
    return request.POST.get("confirm") == "yes"


def _activity_rows(page: Page[ScimRequest], organisation: Organisation) -> list[ActivityRow]:
    tenant_path = f"/scim/v2/{organisation.public_id}"
    return [
        ActivityRow(
            entry=entry,
            path=unquote(entry.path.removeprefix(tenant_path)) or "/",
            summary=(
                json.dumps(entry.summary, indent=2, sort_keys=True, ensure_ascii=False)
                if entry.summary
                else ""
            ),
        )
        for entry in page
    ]


# --- what the confirmation pages say ------------------------------------------------------------


def _disable_confirmation(provider: str) -> Confirmation:
    name = provider_named(provider).name
    return Confirmation(
        title="Turn SCIM off?",
        paragraphs=[
            f"{name} will stop provisioning: from the moment SCIM is off, every request it "
            "sends with the Secret Key is refused, so new people, profile changes and "
            "deactivations no longer reach auzlearn.",
            "Nothing already provisioned is lost: people, their learning history and teams stay "
            "as they are. Turning SCIM on again makes the same key work again.",
        ],
        button=f"I understand {name} will stop provisioning: turn SCIM off",
        action=reverse("scim_settings:scim-enabled", kwargs={"provider": provider}),
        cancel_url=reverse("scim_settings:scim", kwargs={"provider": provider}),
    )


def _replace_confirmation(provider: str, current: ScimKey) -> Confirmation:
    name = provider_named(provider).name
    return Confirmation(
        title="Replace the Secret Key?",
        paragraphs=[
            f"The current key {current.prefix}… stops working as soon as the new one is "
            f"generated: {name} cannot provision until you paste the new key into it.",
            "The new key is shown once, on the next page. Have the provisioning settings in "
            f"{name} open, ready to paste it.",
        ],
        button="Generate a new key",
        action=reverse("scim_settings:key-generate", kwargs={"provider": provider}),
        cancel_url=reverse("scim_settings:scim", kwargs={"provider": provider}),
    )


def _revoke_confirmation(provider: str, current: ScimKey) -> Confirmation:
    name = provider_named(provider).name
    return Confirmation(
        title="Revoke the Secret Key?",
        paragraphs=[
            f"Key {current.prefix}… stops working at once: {name} cannot provision until you "
            "generate a new key and paste it into it.",
            "Nothing already provisioned is lost.",
        ],
        button="Revoke key",
        action=reverse("scim_settings:key-revoke", kwargs={"provider": provider}),
        cancel_url=reverse("scim_settings:scim", kwargs={"provider": provider}),
    )
