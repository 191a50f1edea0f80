"""Settings → Single Sign-on → Okta / Microsoft Entra ID: the SCIM tab. The SCIM request log that
the Activity tab shows is ``scim.activity_page``; the tab itself is composed in ``console``.

Every view takes the organisation from the signed-in primary admin (``primary_admin_required``),
never from the URL. Generate Key answers with a redirect (Post/Redirect/Get), so that a reload
of the page that shows the key neither posts again nor lands on "Generate a new Secret Key?".
The new key waits for that one GET in the admin's session (``NEW_KEY_SESSION_KEY``), which takes
it out as it shows it: a second GET never shows it again, nor does another admin's session.
It is never put in a URL, a message or a log; the key table keeps only its keyed hash, and the
admin's session row holds it only between the POST and the GET that follows it.

Generate Key rotates: the key in use keeps working until the identity provider first uses the
new one, or for SCIM_KEY_OVERLAP_HOURS at most (``scim.keys.rotate``). Changes that stop
provisioning or a key (turning SCIM off, generating while a key exists, stopping the old key,
revoking, removing one of the organisation's own attributes) ask for confirmation on a page of
their own, so they work without JavaScript.

The tab also lists the organisation's own attributes (``accounts.models.CustomAttribute``), with
the exact strings to type into Okta's profile editor or Entra's attribute list for each.
"""

from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import dateformat, timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from accounts import services
from accounts.access import primary_admin_required
from accounts.audit import Actor
from accounts.errors import CustomAttributeRefused
from accounts.models import AttributeType, CustomAttribute, Organisation, Role, User
from scim import keys
from scim.forms import CustomAttributeForm
from scim.models import ScimKey
from scim.schema import CUSTOM_USER
from scim.tenant import tenant_url
from sso.pages import Confirmation, confirm, provider_named, signed_in_admin, tab_context
from sso.services import mappings_of_custom_attribute

# Where the new Secret Key waits, between the POST that made it and the one GET that shows it.
NEW_KEY_SESSION_KEY = "scim_new_key"
# The deactivated primary admins the SCIM tab names, at most.
MAX_LISTED_ADMINS = 10


@dataclass(frozen=True)
class VendorType:
    """How an identity provider's screens name one of our attribute types."""

    name: str
    note: str = ""  # how to send values when the vendor has no such type


# Okta's profile editor ("Data type"): string, boolean, number, integer and arrays of them; no
# date type, so dates travel as ISO 8601 text (Okta support, "Create a Custom App Attribute in
# Okta for an Application that Does Not Support Schema Discovery for SCIM Provisioning"; an
# attribute made before provisioning was on has no External namespace and is never sent: "Custom
# SCIM Attribute Is Not Available to Map and Is Not Sent to SCIM").
OKTA_TYPES = {
    AttributeType.STRING: VendorType("string"),
    AttributeType.BOOLEAN: VendorType("boolean"),
    AttributeType.INTEGER: VendorType("integer"),
    AttributeType.DECIMAL: VendorType("number"),
    AttributeType.DATETIME: VendorType(
        "string", "Okta has no date type: keep the value as ISO 8601 text, like 2026-01-31."
    ),
}
# Entra's "Edit attribute list" (Type): Binary, Boolean, DateTime, Integer, Reference, String; no
# decimal type, so decimals travel as text. The Name of a custom attribute of a SCIM app is
# urn:ietf:params:scim:schemas:extension:<extension>:2.0:User:<attribute>, single-valued and not
# complex (Microsoft Learn, "Customize user provisioning attribute-mappings").
ENTRA_TYPES = {
    AttributeType.STRING: VendorType("String"),
    AttributeType.BOOLEAN: VendorType("Boolean"),
    AttributeType.INTEGER: VendorType("Integer"),
    AttributeType.DECIMAL: VendorType(
        "String", "Entra has no decimal type: send the number as text, like 12.5."
    ),
    AttributeType.DATETIME: VendorType("DateTime"),
}


@dataclass(frozen=True)
class AttributeRow:
    """One of the organisation's own attributes, and how the provider of the tab names it."""

    attribute: CustomAttribute
    type_label: str  # as people read it ("Whole number")
    entra_name: str  # Entra's attribute Name and mapping Target attribute: the URN and the name
    vendor_type: VendorType  # Okta's Data type or Entra's Type


@dataclass(frozen=True)
class PrimaryAdminNotice:
    """The signed-in admin is the organisation's only active primary admin. SCIM may deactivate
    them like anyone else (the identity provider knows who left), and then the organisation has
    no active primary admin at all: only support staff can promote someone. (The tab cannot be
    shown to nobody, so this is said while it can still be acted on.)"""

    inactive: list[User]  # the other primary admins, all deactivated or deleted (a few)
    more: bool  # there are more of them than are listed


# --- the views ----------------------------------------------------------------------------------


@require_GET
@never_cache
@primary_admin_required
def scim_tab(request: HttpRequest, provider: str, organisation: Organisation) -> HttpResponse:
    new_key = _take_new_key(request, organisation)
    return _render_scim_tab(request, organisation, provider, new_key=new_key)


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
    """Generate Key: the answer is the only page that ever shows the new key. With a key in
    place, the admin is told first which key goes on working and until when."""
    current, previous = keys.live_keys(organisation)
    if current is not None and not _confirmed(request):
        plan = keys.plan_rotation(current, previous)
        return confirm(
            request, organisation, provider, "scim", _generate_confirmation(provider, plan)
        )
    admin = signed_in_admin(request)
    issued = keys.rotate(organisation=organisation, actor=Actor.admin(admin), created_by=admin)
    request.session[NEW_KEY_SESSION_KEY] = {
        "organisation": organisation.pk,
        "key": issued.record.pk,
        "secret": issued.secret,
    }
    return HttpResponseRedirect(reverse("scim_settings:scim", args=[provider]) + "#new-key")


@require_POST
@never_cache
@primary_admin_required
def key_stop_previous(
    request: HttpRequest, provider: str, organisation: Organisation
) -> HttpResponse:
    """Stop the old key now: for a leaked key, before the overlap would end it."""
    current, previous = keys.live_keys(organisation)
    if previous is None:
        messages.info(request, "There is no old key that still works.")
        return redirect("scim_settings:scim", provider=provider)
    if not _confirmed(request):
        confirmation = _stop_previous_confirmation(provider, previous, current)
        return confirm(request, organisation, provider, "scim", confirmation)
    stopped = keys.stop_previous(
        organisation=organisation, actor=Actor.admin(signed_in_admin(request))
    )
    if stopped:
        messages.success(request, f"The old key {stopped}… is stopped and no longer works.")
    return redirect("scim_settings:scim", provider=provider)


@require_POST
@never_cache
@primary_admin_required
def key_revoke(request: HttpRequest, provider: str, organisation: Organisation) -> HttpResponse:
    """Revoke key: every key of the organisation stops, the old one in its overlap too."""
    working = [key for key in keys.live_keys(organisation) if key is not None]
    if not working:
        messages.info(request, "There is no key to revoke.")
        return redirect("scim_settings:scim", provider=provider)
    if not _confirmed(request):
        return confirm(
            request, organisation, provider, "scim", _revoke_confirmation(provider, working)
        )
    revoked = keys.revoke(organisation=organisation, actor=Actor.admin(signed_in_admin(request)))
    if len(revoked) == 1:
        messages.success(request, f"Key {revoked[0]}… is revoked and no longer works.")
    elif revoked:
        listed = ", ".join(f"{prefix}…" for prefix in revoked)
        messages.success(request, f"Keys {listed} are revoked and no longer work.")
    return redirect("scim_settings:scim", provider=provider)


@require_POST
@never_cache
@primary_admin_required
def attribute_add(request: HttpRequest, provider: str, organisation: Organisation) -> HttpResponse:
    """Add one of the organisation's own attributes: SCIM publishes and accepts it from now on."""
    form = CustomAttributeForm(request.POST)
    if form.is_valid():
        try:
            added = services.custom_attribute_add(
                organisation=organisation,
                actor=Actor.admin(signed_in_admin(request)),
                name=form.cleaned_data["name"],
                type=form.cleaned_data["type"],
                description=form.cleaned_data["description"],
            )
        except CustomAttributeRefused as refused:
            form.add_error(refused.field, refused.message)
        else:
            messages.success(
                request,
                f"{added.name} added. Add it to {provider_named(provider).name} with the values "
                "shown under Your own attributes.",
            )
            return HttpResponseRedirect(reverse("scim_settings:scim", args=[provider]) + "#main")
    return _render_scim_tab(request, organisation, provider, attribute_form=form)


@require_POST
@never_cache
@primary_admin_required
def attribute_remove(
    request: HttpRequest, provider: str, attribute_id: int, organisation: Organisation
) -> HttpResponse:
    """Remove an attribute and every person's value of it, once the admin has confirmed."""
    attribute = get_object_or_404(
        CustomAttribute.objects.select_related("organisation"),
        pk=attribute_id,
        organisation=organisation,
    )
    if not _confirmed(request):
        return confirm(
            request, organisation, provider, "scim", _remove_confirmation(provider, attribute)
        )
    deleted = services.custom_attribute_remove(
        attribute=attribute, actor=Actor.admin(signed_in_admin(request))
    )
    values = "nobody had a value of it" if not deleted else _people(deleted, "value") + " deleted"
    messages.success(request, f"{attribute.name} removed; {values}.")
    return redirect("scim_settings:scim", provider=provider)


# --- helpers ------------------------------------------------------------------------------------


def _take_new_key(request: HttpRequest, organisation: Organisation) -> str:
    """The key Generate Key just made, once: taken out of the session as it is read. Shown only
    while it is still the organisation's current key (not revoked or replaced since, say from
    another tab), and only to an admin of the organisation that made it."""
    waiting = request.session.pop(NEW_KEY_SESSION_KEY, None)
    if not isinstance(waiting, dict):
        return ""
    if waiting.get("organisation") != organisation.pk:
        return ""
    current, _ = keys.live_keys(organisation)
    if current is None or current.pk != waiting.get("key"):
        return ""
    return str(waiting.get("secret", ""))


def _render_scim_tab(
    request: HttpRequest,
    organisation: Organisation,
    provider: str,
    *,
    new_key: str = "",
    attribute_form: CustomAttributeForm | None = None,
) -> HttpResponse:
    current, previous = keys.live_keys(organisation)
    context = {
        "key": current,
        "previous_key": previous,
        "new_key": new_key,
        "tenant_url": tenant_url(organisation),
        "primary_admin_notice": _primary_admin_notice(organisation, signed_in_admin(request)),
        "attribute_rows": _attribute_rows(organisation, provider),
        "attribute_form": attribute_form or CustomAttributeForm(),
        "extension_urn": CUSTOM_USER,
    }
    return render(
        request, "scim/scim_tab.html", tab_context(organisation, provider, "scim", context)
    )


def _primary_admin_notice(organisation: Organisation, admin: User) -> PrimaryAdminNotice | None:
    """Whether ``admin`` is the only active primary admin: one query for the others, active
    ones first (a deleted person is never active)."""
    others = list(
        User.objects.for_organisation(organisation)
        .filter(role=Role.PRIMARY_ADMIN)
        .exclude(pk=admin.pk)
        .order_by("-is_active", "username")[: MAX_LISTED_ADMINS + 1]
    )
    if not admin.is_active or (others and others[0].is_active):
        return None
    return PrimaryAdminNotice(
        inactive=others[:MAX_LISTED_ADMINS], more=len(others) > MAX_LISTED_ADMINS
    )


def _attribute_rows(organisation: Organisation, provider: str) -> list[AttributeRow]:
    vendor_types = ENTRA_TYPES if provider == "entra" else OKTA_TYPES
    return [
        AttributeRow(
            attribute=attribute,
            type_label=AttributeType(attribute.type).label,
            entra_name=f"{CUSTOM_USER}:{attribute.name}",
            vendor_type=vendor_types[AttributeType(attribute.type)],
        )
        for attribute in CustomAttribute.objects.filter(organisation=organisation)
    ]


def _confirmed(request: HttpRequest) -> bool:
    return request.POST.get("confirm") == "yes"


def _people(count: int, what: str) -> str:
    return f"{count} {'person' if count == 1 else 'people'}'s {what}{'' if count == 1 else 's'}"


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


def _generate_confirmation(provider: str, plan: keys.RotationPlan) -> Confirmation:
    name = provider_named(provider).name
    paragraphs = []
    if plan.keep is not None:
        paragraphs.append(
            f"Key {plan.keep.prefix}… keeps working until {name} first uses the new key, or "
            f"until {_moment(plan.keep_until)} at the latest "
            f"({settings.SCIM_KEY_OVERLAP_HOURS} hours), so provisioning goes on while you "
            f"paste the new key into {name}."
        )
    if plan.drop is not None:
        why = " (it was never used)" if plan.drop.last_used_at is None else ""
        paragraphs.append(f"Key {plan.drop.prefix}…{why} stops working at once.")
    paragraphs.append(
        "The new key is shown once, on the next page. Have the provisioning settings in "
        f"{name} open, ready to paste it. If the old key leaked, stop it on the next page as "
        "soon as the new key is in place."
    )
    return Confirmation(
        title="Generate a new Secret Key?",
        paragraphs=paragraphs,
        button="Generate a new key",
        action=reverse("scim_settings:key-generate", kwargs={"provider": provider}),
        cancel_url=reverse("scim_settings:scim", kwargs={"provider": provider}),
    )


def _stop_previous_confirmation(
    provider: str, previous: ScimKey, current: ScimKey | None
) -> Confirmation:
    name = provider_named(provider).name
    new = f" {current.prefix}…" if current is not None else ""
    return Confirmation(
        title="Stop the old key now?",
        paragraphs=[
            f"The old key {previous.prefix}… stops working at once, before its overlap ends: "
            f"requests {name} still sends with it are refused from now on.",
            f"Do this if the old key leaked, once the new key{new} is in {name}'s "
            "provisioning settings. Nothing already provisioned is lost.",
        ],
        button="Stop the old key now",
        action=reverse("scim_settings:key-stop-previous", kwargs={"provider": provider}),
        cancel_url=reverse("scim_settings:scim", kwargs={"provider": provider}),
    )


def _revoke_confirmation(provider: str, working: list[ScimKey]) -> Confirmation:
    name = provider_named(provider).name
    if len(working) == 1:
        stopping = f"Key {working[0].prefix}… stops"
    else:
        stopping = "Both keys, " + " and ".join(f"{key.prefix}…" for key in working) + ", stop"
    return Confirmation(
        title="Revoke the Secret Key?",
        paragraphs=[
            f"{stopping} working at once: {name} cannot provision until you generate a new "
            "key and paste it into it.",
            "Nothing already provisioned is lost.",
        ],
        button="Revoke key",
        action=reverse("scim_settings:key-revoke", kwargs={"provider": provider}),
        cancel_url=reverse("scim_settings:scim", kwargs={"provider": provider}),
    )


def _remove_confirmation(provider: str, attribute: CustomAttribute) -> Confirmation:
    name = provider_named(provider).name
    having = User.objects.for_organisation(attribute.organisation).filter(
        custom_attributes__has_key=attribute.name
    )
    count = having.count()
    paragraphs = [
        f"SCIM stops publishing and accepting {attribute.name} at once: remove its mapping in "
        f"{name} too.",
        (
            f"{_people(count, 'value')} of it will be deleted. This cannot be undone: adding an "
            "attribute of the same name later starts without values."
            if count
            else "Nobody has a value of it yet."
        ),
    ]
    mapped = mappings_of_custom_attribute(attribute.organisation, attribute.name)
    if mapped:
        paragraphs.append(
            "Sign-ins stop setting it: the SAML attribute mapping of "
            + ", ".join(mapped)
            + " will do nothing until an attribute of this name exists again."
        )
    return Confirmation(
        title=f"Remove {attribute.name}?",
        paragraphs=paragraphs,
        button=f"Remove {attribute.name} and its values",
        action=reverse(
            "scim_settings:attribute-remove",
            kwargs={"provider": provider, "attribute_id": attribute.pk},
        ),
        cancel_url=reverse("scim_settings:scim", kwargs={"provider": provider}),
    )


def _moment(value: datetime) -> str:
    """A moment as the tab shows times ("6 Dec 2026, 14:00 UTC"), in the site's time zone."""
    return dateformat.format(timezone.localtime(value), "j M Y, H:i T")
