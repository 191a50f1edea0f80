"""Settings → Single Sign-on → <provider>: the SAML tab, its forms, the Test sign-in result and
the sign-in log that the Activity tab shows (DESIGN §3, §6). The providers overview, the
provider's home and the Activity tab itself are composed in ``console``, which sees both sso and
scim; nothing here imports from scim.

Every view takes the organisation from the signed-in primary admin (``primary_admin_required``),
never from the URL, and works on that organisation's connection to the provider in the URL
(``connection_for``). Each form has a view of its own that changes things through
``sso.services`` or ``accounts.services`` and sends the browser back to the tab. Changes that
stop people signing in some way (turning SSO off, requiring SSO, removing a verified sign-in
domain) ask for confirmation on a page of their own, so they work without JavaScript, as does
turning SSO on before a Test sign-in has passed. The
attribute mapping (``sso.mapping``) is edited here too: which attribute statements set which
profile fields and which of the organisation's own attributes at each sign-in.
"""

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from accounts import services as accounts_services
from accounts.access import primary_admin_required
from accounts.audit import Actor
from accounts.models import CustomAttribute, Organisation
from sso import mapping, services, signin
from sso.attributes import ALIASES, EXPECTED
from sso.dns_lookup import Lookup
from sso.domains import display_domain, record_name, record_value
from sso.forms import AttributeMappingForm, DomainForm, MetadataForm, SwitchesForm
from sso.models import SamlConnection, SignInAttempt, SignInOutcome, SsoDomain
from sso.pages import Confirmation, confirm, provider_named, signed_in_admin, tab_context
from sso.same_site import cross_site_over_http
from sso.saml_views import with_pending_cookie

# Certificates expiring sooner than this are flagged on the SAML tab and the overview.
EXPIRY_WARNING_DAYS = 60
# Where IdP-initiated sign-ins land (the Okta tile): the home page, a same-site relative path,
# which is the only kind of RelayState we follow (sso.relay).
RELAY_STATE = "/"
SIGN_IN_PAGE_SIZE = 50
SIGN_IN_FILTERS = [
    ("", "All"),
    (SignInOutcome.SIGNED_IN, "Signed in"),
    (SignInOutcome.REFUSED, "Refused"),
    ("test", "Test sign-ins"),
]
ATTRIBUTE_LABELS = {"given_name": "First name", "family_name": "Last name", "email": "Email"}
# What each IdP's admin maps to the attributes we ask for (given name, family name, email).
ATTRIBUTE_SOURCES = {
    "okta": ("user.firstName", "user.lastName", "user.email"),
    "entra": ("user.givenname", "user.surname", "user.mail"),
    "google": ("First name", "Last name", "Primary email"),
    "saml": ("the person's first name", "the person's last name", "the person's email address"),
}


# Where each identity provider's admin adds an attribute statement, for the mapping's help.
MAPPING_HINTS = {
    "okta": (
        "In Okta, on the app's SAML settings, add an Attribute Statement: its Name is the "
        "attribute name to enter here (like department), its Value the Okta attribute "
        "(like user.department)."
    ),
    "entra": (
        "In Entra ID, under Single sign-on → Attributes & Claims, click Add new claim: the "
        "claim arrives under its Namespace and Name together (like "
        "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/department), or its Name alone "
        "when the namespace is empty."
    ),
    "google": (
        "In the Google Admin console, on the app's SAML attribute mapping, click Add mapping: "
        "choose the Google Directory attribute (like Employee details → Department) and type an "
        "App attribute name (like Department); enter that name here."
    ),
    "saml": (
        "Your identity provider's attribute statements (or claims) each have a Name; enter it "
        "exactly as it is sent (a Test sign-in lists every attribute that arrives)."
    ),
}


@dataclass(frozen=True)
class MappingRow:
    mapping: mapping.AttributeMapping
    label: str  # what it sets, as people read it
    gone: bool  # it names an attribute or field that no longer exists: it sets nothing


@dataclass(frozen=True)
class FieldNames:
    """What each identity provider's admin screens call the values we give them."""

    acs_url: str
    entity_id: str
    relay_state: str


FIELD_NAMES = {
    "okta": FieldNames("Single sign-on URL", "Audience URI (SP Entity ID)", "Default RelayState"),
    "entra": FieldNames(
        "Reply URL (Assertion Consumer Service URL)",
        "Identifier (Entity ID)",
        "Relay State (Optional)",
    ),
    "google": FieldNames("ACS URL", "Entity ID", "Start URL (optional)"),
    "saml": FieldNames(
        "Assertion Consumer Service (ACS) URL", "Entity ID (Audience)", "RelayState"
    ),
}


@dataclass(frozen=True)
class CertificateState:
    subject: str
    fingerprint: str
    not_after: datetime
    expired: bool
    expiring: bool  # within EXPIRY_WARNING_DAYS, and not expired yet


@dataclass(frozen=True)
class AttributeName:
    label: str
    name: str  # as the IdP must send it
    source: str  # what to map to it in the IdP


@dataclass(frozen=True)
class AttributeRow:
    label: str
    expected: str  # the name we asked the IdP to use
    received_as: str  # the name it arrived under ("" when it did not arrive)
    values: list[str]


@dataclass(frozen=True)
class DomainRow:
    domain: SsoDomain
    name: str  # as people read it (Unicode for internationalised names)
    record_name: str  # where its TXT record goes
    record_value: str


@dataclass(frozen=True)
class SignInRow:
    attempt: SignInAttempt
    attributes: str  # pretty JSON of the attributes received; "" when there were none


# --- the views ----------------------------------------------------------------------------------


@require_GET
@never_cache
@primary_admin_required
def saml_tab(request: HttpRequest, provider: str, organisation: Organisation) -> HttpResponse:
    connection = services.connection_for(organisation=organisation, provider=provider)
    return _render_saml_tab(request, organisation, connection, MetadataForm(provider=provider))


@require_POST
@never_cache
@primary_admin_required
def saml_metadata(request: HttpRequest, provider: str, organisation: Organisation) -> HttpResponse:
    """Upload Metadata XML: nothing is saved unless the metadata is read and parsed in full."""
    connection = services.connection_for(organisation=organisation, provider=provider)
    form = MetadataForm(request.POST, request.FILES, provider=provider)
    if not form.is_valid() or form.loaded is None:
        return _render_saml_tab(request, organisation, connection, form)
    loaded = form.loaded
    services.connection_configure(
        connection=connection,
        actor=Actor.admin(signed_in_admin(request)),
        metadata=loaded.metadata,
        metadata_xml=loaded.xml,
        metadata_url=loaded.url,
    )
    count = len(loaded.metadata.certificates)
    messages.success(
        request,
        f"Metadata saved: sign-ins from {loaded.metadata.entity_id} signed with "
        f"{'its certificate' if count == 1 else f'one of its {count} certificates'} are trusted.",
    )
    # To the top of the page, where the message is: without a fragment of its own the browser
    # would keep the form's (#upload-heading, which brings a refused upload's errors into view).
    return HttpResponseRedirect(reverse("sso_settings:saml", args=[provider]) + "#main")


@require_POST
@never_cache
@primary_admin_required
def saml_switches(request: HttpRequest, provider: str, organisation: Organisation) -> HttpResponse:
    connection = services.connection_for(organisation=organisation, provider=provider)
    form = SwitchesForm(request.POST)
    form.is_valid()  # unticked boxes are simply False: the form is always valid
    wanted = _wanted_switches(form.cleaned_data, connection, organisation)
    confirmation = _confirmation(
        provider, connection, organisation, wanted, tested=_last_test_passed(connection)
    )
    try:
        _check_not_locked_out(connection, organisation, wanted)
        if confirmation is not None and request.POST.get("confirm") != "yes":
            return confirm(request, organisation, provider, "saml", confirmation)
        _save_switches(connection, organisation, wanted, Actor.admin(signed_in_admin(request)))
    except services.ConnectionRefused as refused:
        messages.error(request, str(refused))
    else:
        messages.success(request, "Saved.")
    return redirect("sso_settings:saml", provider=provider)


@require_POST
@never_cache
@primary_admin_required
def saml_test(request: HttpRequest, provider: str, organisation: Organisation) -> HttpResponse:
    """Test sign-in: to the IdP with an AuthnRequest marked as a test. The ACS then shows the
    admin the checks (saml-test-result) and signs nobody in, so it works while SSO is off."""
    connection = services.connection_for(organisation=organisation, provider=provider)
    if not connection.is_configured:
        messages.error(request, "Upload the identity provider's metadata before testing a sign-in.")
        return redirect("sso_settings:saml", provider=provider)
    if sign_in_cannot_come_back(connection):
        # Said here rather than after a round trip: the IdP would sign the admin in and post
        # back a response that our ACS must refuse, for want of a cookie the browser withheld.
        messages.error(request, cannot_come_back_message(provider))
        return HttpResponseRedirect(reverse("sso_settings:saml", args=[provider]) + "#test-heading")
    started = signin.start(connection, tested_by=signed_in_admin(request))
    response = HttpResponseRedirect(started.redirect_url)
    return with_pending_cookie(response, connection, started.nonce)


@require_POST
@never_cache
@primary_admin_required
def saml_domain_add(
    request: HttpRequest, provider: str, organisation: Organisation
) -> HttpResponse:
    form = DomainForm(request.POST)
    if form.is_valid():
        try:
            added = services.domain_add(
                organisation=organisation,
                actor=Actor.admin(signed_in_admin(request)),
                domain=form.cleaned_data["domain"],
            )
        except services.DomainRefused as refused:
            form.add_error("domain", refused.message)
        else:
            messages.success(
                request,
                f"{display_domain(added.domain)} added. Publish its TXT record, then click "
                "Verify: until then it sends nobody to your identity provider.",
            )
            return HttpResponseRedirect(reverse("sso_settings:saml", args=[provider]) + "#main")
    connection = services.connection_for(organisation=organisation, provider=provider)
    return _render_saml_tab(
        request, organisation, connection, MetadataForm(provider=provider), domain_form=form
    )


@require_POST
@never_cache
@primary_admin_required
def saml_domain_verify(
    request: HttpRequest, provider: str, domain_id: int, organisation: Organisation
) -> HttpResponse:
    """Verify: look for the domain's TXT record now."""
    domain = _domain(organisation, domain_id)
    try:
        found = services.domain_verify_by_dns(
            domain=domain, actor=Actor.admin(signed_in_admin(request))
        )
    except services.DomainRefused as refused:
        messages.error(request, refused.message)
    else:
        messages.add_message(request, *_verify_message(domain, found))
    return HttpResponseRedirect(reverse("sso_settings:saml", args=[provider]) + "#main")


@require_POST
@never_cache
@primary_admin_required
def saml_domain_remove(
    request: HttpRequest, provider: str, domain_id: int, organisation: Organisation
) -> HttpResponse:
    """Removing a verified domain stops it routing people, so it asks first."""
    domain = _domain(organisation, domain_id)
    if domain.is_verified and request.POST.get("confirm") != "yes":
        return confirm(request, organisation, provider, "saml", _removal(provider, domain))
    services.domain_remove(domain=domain, actor=Actor.admin(signed_in_admin(request)))
    messages.success(request, f"{display_domain(domain.domain)} removed.")
    return HttpResponseRedirect(reverse("sso_settings:saml", args=[provider]) + "#main")


@require_POST
@never_cache
@primary_admin_required
def saml_attribute_map(
    request: HttpRequest, provider: str, organisation: Organisation
) -> HttpResponse:
    connection = services.connection_for(organisation=organisation, provider=provider)
    form = AttributeMappingForm(request.POST, custom=_custom_targets(organisation))
    if form.is_valid():
        try:
            added = services.connection_map_attribute(
                connection=connection,
                actor=Actor.admin(signed_in_admin(request)),
                attribute=form.cleaned_data["attribute"],
                target=form.cleaned_data["target"],
            )
        except services.MappingRefused as refused:
            form.add_error(refused.field, refused.message)
        else:
            messages.success(
                request,
                f"“{added.attribute}” now sets {mapping.target_label(added)} at each sign-in.",
            )
            return HttpResponseRedirect(reverse("sso_settings:saml", args=[provider]) + "#main")
    return _render_saml_tab(
        request, organisation, connection, MetadataForm(provider=provider), mapping_form=form
    )


@require_POST
@never_cache
@primary_admin_required
def saml_attribute_unmap(
    request: HttpRequest, provider: str, organisation: Organisation
) -> HttpResponse:
    """Stop setting a field from an attribute; what people have keeps its value."""
    connection = services.connection_for(organisation=organisation, provider=provider)
    removed = services.connection_unmap_attribute(
        connection=connection,
        actor=Actor.admin(signed_in_admin(request)),
        target=request.POST.get("target", ""),
    )
    if removed is not None:
        messages.success(
            request,
            f"“{removed.attribute}” no longer sets {mapping.target_label(removed)}; the values "
            "people have stay.",
        )
    return HttpResponseRedirect(reverse("sso_settings:saml", args=[provider]) + "#main")


@require_GET
@never_cache
@primary_admin_required
def saml_test_result(
    request: HttpRequest, provider: str, attempt_id: int, organisation: Organisation
) -> HttpResponse:
    """What a (test) sign-in brought and how each check went; any attempt of the organisation
    through this provider, so the Activity tab links here too."""
    attempt = get_object_or_404(
        SignInAttempt.objects.select_related("connection"),
        pk=attempt_id,
        organisation=organisation,
        connection__provider=provider,
    )
    context = _result_context(attempt, provider)
    return render(
        request,
        "sso/settings/test_result.html",
        tab_context(organisation, provider, "saml", context),
    )


# --- certificates -------------------------------------------------------------------------------


def certificate_states(
    connection: SamlConnection, now: datetime | None = None
) -> list[CertificateState]:
    """Each pinned certificate with its expiry, soonest first."""
    now = now or timezone.now()
    warn_until = now + timedelta(days=EXPIRY_WARNING_DAYS)
    states = []
    for certificate in connection.certificates:
        not_after = datetime.fromisoformat(certificate["not_after"])
        states.append(
            CertificateState(
                subject=certificate["subject"],
                fingerprint=certificate["fingerprint_sha256"],
                not_after=not_after,
                expired=not_after <= now,
                expiring=now < not_after <= warn_until,
            )
        )
    return sorted(states, key=lambda state: state.not_after)


# --- Test sign-in ------------------------------------------------------------------------------


def sign_in_cannot_come_back(connection: SamlConnection) -> bool:
    """A Test sign-in (or any SP-initiated one) cannot work from here: the site is plain http and
    the IdP on another site, so the browser withholds our cookie on its POST (sso.same_site)."""
    return connection.is_configured and cross_site_over_http(
        settings.PUBLIC_BASE_URL, connection.idp_sso_url
    )


def cannot_come_back_message(provider: str) -> str:
    name = provider_named(provider).name
    return (
        f"A Test sign-in cannot work here: this site runs on plain http "
        f"({settings.PUBLIC_BASE_URL}) and {name} is on another site, so your browser will not "
        f"send auzlearn's sign-in cookie back with {name}'s answer (browsers send cross-site "
        "cookies only over https), and the sign-in would be refused. Serve auzlearn over https "
        "and set PUBLIC_BASE_URL to its https address, then test again. Sign-ins started from "
        f"the {name} dashboard still work over http."
    )


def _last_test_passed(connection: SamlConnection) -> bool:
    """Whether the connection's latest Test sign-in passed: one indexed read, only when a
    change of the switches is posted."""
    latest = (
        SignInAttempt.objects.filter(
            connection=connection,
            outcome__in=[SignInOutcome.TEST_PASSED, SignInOutcome.TEST_FAILED],
        )
        .values_list("outcome", flat=True)
        .first()
    )
    return latest == SignInOutcome.TEST_PASSED


# --- helpers ------------------------------------------------------------------------------------


def _render_saml_tab(
    request: HttpRequest,
    organisation: Organisation,
    connection: SamlConnection,
    metadata_form: MetadataForm,
    *,
    domain_form: DomainForm | None = None,
    mapping_form: AttributeMappingForm | None = None,
) -> HttpResponse:
    provider = connection.provider
    own = list(CustomAttribute.objects.filter(organisation=organisation))
    last_test = (
        SignInAttempt.objects.filter(
            connection=connection,
            outcome__in=[SignInOutcome.TEST_PASSED, SignInOutcome.TEST_FAILED],
        )
        .only("id", "created_at", "outcome", "reason")
        .first()
    )
    context = {
        "connection": connection,
        "names": FIELD_NAMES[provider],
        "relay_state": RELAY_STATE,
        "attribute_names": [
            AttributeName(label, getattr(EXPECTED[provider], field), source)
            for (field, label), source in zip(
                ATTRIBUTE_LABELS.items(), ATTRIBUTE_SOURCES[provider], strict=True
            )
        ],
        "certificates": certificate_states(connection),
        "expiry_warning_days": EXPIRY_WARNING_DAYS,
        "metadata_form": metadata_form,
        "last_test": last_test,
        "test_blocked": sign_in_cannot_come_back(connection),
        "test_blocked_message": cannot_come_back_message(provider),
        "domains": [
            DomainRow(
                domain=domain,
                name=display_domain(domain.domain),
                record_name=record_name(domain.domain),
                record_value=record_value(domain.verification_token),
            )
            for domain in SsoDomain.objects.filter(organisation=organisation)
        ],
        "domain_form": domain_form or DomainForm(),
        "mapping_rows": _mapping_rows(connection, own),
        "mapping_form": mapping_form or AttributeMappingForm(custom=mapping.custom_targets(own)),
        "mapping_hint": MAPPING_HINTS[provider],
    }
    return render(
        request, "sso/settings/saml_tab.html", tab_context(organisation, provider, "saml", context)
    )


def _custom_targets(organisation: Organisation) -> list[mapping.Target]:
    return mapping.custom_targets(CustomAttribute.objects.filter(organisation=organisation))


def _mapping_rows(connection: SamlConnection, own: list[CustomAttribute]) -> list[MappingRow]:
    fields = {target.key for target in mapping.profile_targets()}
    names = {attribute.name.lower(): attribute.name for attribute in own}
    rows = []
    for line in mapping.mappings_of(connection.attribute_mapping):
        if line.is_custom:
            gone = line.name.lower() not in names
            label = names.get(line.name.lower(), line.name)
        else:
            gone, label = line.target not in fields, mapping.target_label(line)
        rows.append(MappingRow(line, label, gone))
    return rows


def _domain(organisation: Organisation, domain_id: int) -> SsoDomain:
    """One of the organisation's domains; another organisation's is a 404 like a missing one."""
    return get_object_or_404(
        SsoDomain.objects.select_related("organisation"), pk=domain_id, organisation=organisation
    )


def _verify_message(domain: SsoDomain, found: Lookup) -> tuple[int, str]:
    name = display_domain(domain.domain)
    if found is Lookup.FOUND:
        return messages.SUCCESS, (
            f"{name} is verified. People who enter an address at it on the “Sign in with single "
            "sign-on” page are sent to your identity provider."
        )
    if found is Lookup.NOT_FOUND:
        return messages.ERROR, (
            f"We could not verify {name}: there is no TXT record "
            f"“{record_value(domain.verification_token)}” at {record_name(domain.domain)} yet. "
            "DNS changes can take a while to be seen; try again later."
        )
    return messages.ERROR, (
        f"We could not verify {name} just now: DNS did not answer in time. Try again in a few "
        "minutes."
    )


def _removal(provider: str, domain: SsoDomain) -> Confirmation:
    name = display_domain(domain.domain)
    return Confirmation(
        title=f"Remove {name}?",
        paragraphs=[
            f"People who enter an @{name} address on the “Sign in with single sign-on” page will "
            "no longer be sent to your identity provider. They can still sign in from its "
            "dashboard, or by entering your organisation's short name.",
            "To use the domain again you would add it and verify it again.",
        ],
        button="Yes, remove it",
        action=reverse(
            "sso_settings:saml-domain-remove", kwargs={"provider": provider, "domain_id": domain.pk}
        ),
        cancel_url=reverse("sso_settings:saml", kwargs={"provider": provider}),
    )


def _wanted_switches(
    data: Mapping[str, bool], connection: SamlConnection, organisation: Organisation
) -> dict[str, bool]:
    wanted = {name: bool(data.get(name)) for name in SwitchesForm.base_fields}
    if organisation.scim_enabled:
        # The JIT switch is disabled (so not sent) while SCIM is on; keep what is stored.
        wanted["jit_provisioning"] = connection.jit_provisioning
    return wanted


def _check_not_locked_out(
    connection: SamlConnection, organisation: Organisation, wanted: dict[str, bool]
) -> None:
    """Requiring SSO while no connection of the organisation is on would leave only primary
    admins able to sign in."""
    if not wanted["sso_required"] or wanted["enabled"]:
        return
    others = SamlConnection.objects.filter(organisation=organisation, enabled=True)
    if not others.exclude(pk=connection.pk).exists():
        raise services.ConnectionRefused(
            "Turn single sign-on on before requiring it: with SSO required and no way to sign "
            "in with SSO, nobody but primary admins could sign in."
        )


@transaction.atomic
def _save_switches(
    connection: SamlConnection, organisation: Organisation, wanted: dict[str, bool], actor: Actor
) -> None:
    """Both changes or neither: a refusal leaves the connection and the organisation as they
    were."""
    services.connection_switches(
        connection=connection,
        actor=actor,
        enabled=wanted["enabled"],
        allow_idp_initiated=wanted["allow_idp_initiated"],
        jit_provisioning=wanted["jit_provisioning"],
    )
    accounts_services.organisation_update(
        organisation=organisation, actor=actor, sso_required=wanted["sso_required"]
    )


def _confirmation(
    provider: str,
    connection: SamlConnection,
    organisation: Organisation,
    wanted: dict[str, bool],
    *,
    tested: bool,
) -> Confirmation | None:
    name = provider_named(provider).name
    paragraphs = []
    # Without metadata the switch is refused anyway (sso.services), with its own message.
    untested = (
        wanted["enabled"] and not connection.enabled and connection.is_configured and not tested
    )
    if untested:
        paragraphs.append(
            f"No Test sign-in with {name} has passed yet. If something in the set-up is wrong "
            f"(a value pasted into {name}, a certificate, an attribute name), people who sign in "
            f"with {name} will be refused, and you will see why only on the Activity tab. A Test "
            "sign-in shows every check first and signs nobody in."
        )
    if connection.enabled and not wanted["enabled"]:
        paragraphs.append(
            f"Nobody can sign in with {name} once SSO is off: the {name} tile and the "
            "“Sign in with single sign-on” page stop working for your organisation. People "
            "with a password can still use it."
        )
    if wanted["sso_required"] and not organisation.sso_required:
        paragraphs.append(
            "With SSO required, password sign-in is refused for everyone but primary admins: "
            "people must sign in with single sign-on. You keep a break-glass password sign-in, "
            "should your identity provider be unavailable."
        )
    if not paragraphs:
        return None
    alone = untested and len(paragraphs) == 1
    return Confirmation(
        title=(
            f"Turn on sign-in with {name} without a passed Test sign-in?"
            if alone
            else "Change how people sign in?"
        ),
        paragraphs=paragraphs,
        button="Yes, turn it on without a test" if alone else "Yes, save these settings",
        action=reverse("sso_settings:saml-switches", kwargs={"provider": provider}),
        cancel_url=reverse("sso_settings:saml", kwargs={"provider": provider}),
        values={name: "on" for name, value in wanted.items() if value},
    )


def _result_context(attempt: SignInAttempt, provider: str) -> dict[str, object]:
    rows, others = _attribute_rows(attempt.attributes, provider)
    difference = attempt.clock_difference_seconds
    checks = [check for check in attempt.checks if check["code"] != mapping.CHECK_CODE]
    return {
        "attempt": attempt,
        "checks": checks,
        "mapping_checks": [c for c in attempt.checks if c["code"] == mapping.CHECK_CODE],
        "is_test": attempt.outcome in (SignInOutcome.TEST_PASSED, SignInOutcome.TEST_FAILED),
        "connection_enabled": attempt.connection is not None and attempt.connection.enabled,
        "clock_difference": f"{difference:+.0f} s" if difference is not None else "",
        "skew_seconds": settings.SAML_CLOCK_SKEW_SECONDS,
        "attribute_rows": rows,
        "missing_attributes": any(not row.received_as for row in rows),
        "other_attributes": others,
    }


def _attribute_rows(
    attributes: dict[str, list[str]], provider: str
) -> tuple[list[AttributeRow], list[tuple[str, list[str]]]]:
    """The attributes we asked for and what arrived under which name (any accepted name counts,
    ignoring case), then everything else that arrived."""
    by_lower = {name.lower(): name for name in attributes}
    expected = EXPECTED[provider]
    rows, used = [], set()
    for field, label in ATTRIBUTE_LABELS.items():
        wanted = getattr(expected, field)
        names = [wanted, *ALIASES[field]]
        found = next((by_lower[n.lower()] for n in names if n.lower() in by_lower), "")
        used.add(found)
        rows.append(AttributeRow(label, wanted, found, attributes.get(found, []) if found else []))
    others = [(name, values) for name, values in sorted(attributes.items()) if name not in used]
    return rows, others


def sign_in_log(
    request: HttpRequest, organisation: Organisation, provider: str
) -> dict[str, object]:
    outcome = request.GET.get("outcome", "")
    attempts = SignInAttempt.objects.filter(
        organisation=organisation, connection__provider=provider
    )
    if outcome == "test":
        attempts = attempts.filter(
            outcome__in=[SignInOutcome.TEST_PASSED, SignInOutcome.TEST_FAILED]
        )
    elif outcome in (SignInOutcome.SIGNED_IN, SignInOutcome.REFUSED):
        attempts = attempts.filter(outcome=outcome)
    else:
        outcome = ""
    page = Paginator(attempts.defer("checks"), SIGN_IN_PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [
        SignInRow(
            attempt=attempt,
            attributes=(
                json.dumps(attempt.attributes, indent=2, sort_keys=True, ensure_ascii=False)
                if attempt.attributes
                else ""
            ),
        )
        for attempt in page
    ]
    return {"page": page, "rows": rows, "outcome": outcome, "outcome_filters": SIGN_IN_FILTERS}
