"""Sign-in domains: how a domain is written down, the SAML tab's list (add, verify by a DNS TXT
record, remove), support staff verifying in the Django admin, and one organisation per verified
domain. DNS answers come from a stub server of the test's own (tests/sso/dns_stub.py), which the
app's resolver is pointed at through SSO_DNS_NAMESERVERS."""

import re

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import IntegrityError, transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from pytest_django.asserts import assertContains, assertNotContains

from accounts.models import ActorKind, AuditEvent, Role
from sso import dns_lookup, services
from sso.domains import DomainInvalid, normalise_domain, record_name, record_value
from sso.models import DomainVerification, SsoDomain
from tests import factories

SYSTEM = factories.SYSTEM


def url(name: str, *args: object, provider: str = "okta") -> str:
    return reverse(f"sso_settings:{name}", args=[provider, *args])


@pytest.fixture
def admin_client(client, primary_admin):
    client.force_login(primary_admin)
    return client


def add(org, name: str) -> SsoDomain:
    return services.domain_add(organisation=org, actor=SYSTEM, domain=name)


def verified(org, name: str) -> SsoDomain:
    return services.domain_verify(
        domain=add(org, name), actor=SYSTEM, method=DomainVerification.SUPPORT
    )


def publish(stub_dns, domain: SsoDomain) -> None:
    stub_dns.txt[record_name(domain.domain)] = [record_value(domain.verification_token)]


def messages_of(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


# --- how a domain is written down (no database) ---------------------------------------------


@pytest.mark.parametrize(
    ("entered", "stored"),
    [
        ("acme.com", "acme.com"),
        ("  ACME.Com  ", "acme.com"),
        ("acme.com.", "acme.com"),  # a fully qualified name: the same domain
        ("eu.acme.com", "eu.acme.com"),
        ("Bücher.example", "xn--bcher-kva.example"),
        ("xn--bcher-kva.example", "xn--bcher-kva.example"),
        ("\uff41\uff43\uff4d\uff45.com", "acme.com"),  # full-width letters (Japanese keyboards)
        ("acme。com", "acme.com"),  # an ideographic full stop
    ],
)
def test_domains_are_stored_lowercase_as_idna_without_the_trailing_dot(entered, stored):
    assert normalise_domain(entered) == stored


@pytest.mark.parametrize(
    ("entered", "words"),
    [
        ("", "Enter a domain"),
        ("lee@acme.com", "without a name and @"),
        ("https://acme.com/", "not a web address"),
        ("acme.com:443", "not a web address"),
        ("acme com", "not a web address"),
        ("com", "not only its last part"),
        ("192.0.2.1", "not an IP address"),
        ("acme..com", "is not a domain name"),
        ("acme.com..", "is not a domain name"),
        ("-acme.com", "is not a domain name"),
        ("acme_corp.com", "is not a domain name"),
        ("xn--zz.com", "is not a domain name"),
        ("a" * 64 + ".com", "is not a domain name"),
        (".".join(["a" * 60] * 5), "is not a domain name"),  # longer than 253
    ],
)
def test_what_is_not_a_domain_is_refused_with_words_for_the_admin(entered, words):
    with pytest.raises(DomainInvalid) as refused:
        normalise_domain(entered)
    assert words in refused.value.message


def test_the_verification_record_has_a_name_of_its_own():
    assert record_name("acme.com") == "_auzlearn.acme.com"
    assert record_value("tok") == "auzlearn-verification=tok"


@pytest.mark.parametrize(
    ("entries", "servers"),
    [
        ([], []),
        (["192.0.2.53"], [("192.0.2.53", 53)]),
        (["192.0.2.53:5353", " 2001:db8::53 "], [("192.0.2.53", 5353), ("2001:db8::53", 53)]),
        (["[2001:db8::53]:5353", "[2001:db8::1]"], [("2001:db8::53", 5353), ("2001:db8::1", 53)]),
    ],
)
def test_dns_servers_are_read_from_the_setting(settings, entries, servers):
    settings.SSO_DNS_NAMESERVERS = entries
    assert dns_lookup.nameservers() == servers


@pytest.mark.parametrize(
    "entry", ["dns.example.com", "192.0.2.53:0", "192.0.2.53:99999", "192.0.2.53:x", "[::1]x"]
)
def test_a_dns_server_that_is_not_an_address_stops_the_process(settings, entry):
    settings.SSO_DNS_NAMESERVERS = [entry]
    with pytest.raises(ImproperlyConfigured, match="SSO_DNS_NAMESERVERS"):
        dns_lookup.nameservers()


# --- the SAML tab -----------------------------------------------------------------------------


def test_the_saml_tab_lists_the_organisations_domains_with_their_records(admin_client, org):
    pending = add(org, "acme.test")
    verified(org, "acme-group.test")
    add(org, "bücher.example")

    response = admin_client.get(url("saml"))

    assertContains(response, 'id="domains-heading">Sign-in by email domain</h2>')
    assertContains(response, 'value="_auzlearn.acme.test"')
    assertContains(response, f'value="auzlearn-verification={pending.verification_token}"')
    assertContains(response, 'acme-group.test <span class="badge on">Verified</span>')
    assertContains(response, "by auzlearn support")
    assertContains(response, "bücher.example")
    assertContains(response, "<code>xn--bcher-kva.example</code>")
    # One Verify per unverified domain, a Remove for each.
    assert response.content.decode().count(">Verify<span") == 2
    assert response.content.decode().count(">Remove<span") == 3


def test_the_list_is_the_organisations_under_every_provider(admin_client, org):
    add(org, "acme.test")
    for provider in ["okta", "entra", "google", "saml"]:
        assertContains(admin_client.get(url("saml", provider=provider)), "_auzlearn.acme.test")


def test_adding_a_domain_normalises_it_and_audits_it(admin_client, org, primary_admin):
    response = admin_client.post(url("saml-domain-add"), {"domain": " ACME.test. "}, follow=True)

    domain = SsoDomain.objects.get(organisation=org)
    assert domain.domain == "acme.test" and not domain.is_verified
    assert len(domain.verification_token) >= 32
    assert any("acme.test added" in message for message in messages_of(response))
    event = AuditEvent.objects.get(action="sso.domain_add")
    assert event.organisation_id == org.pk and event.changes == {"domain": "acme.test"}
    assert event.actor_kind == ActorKind.ADMIN and event.actor_user == primary_admin


@pytest.mark.parametrize(
    ("entered", "words"),
    [("lee@acme.test", "without a name and @"), ("", "This field is required")],
)
def test_a_domain_that_is_not_one_is_shown_next_to_the_field(admin_client, org, entered, words):
    response = admin_client.post(url("saml-domain-add"), {"domain": entered})

    assert response.status_code == 200
    # The error is the one the field's aria-describedby names (Django's id_<name>_error).
    assertContains(response, 'aria-describedby="id_domain_error"')
    assertContains(response, '<p class="field-error" id="id_domain_error">')
    assert words in response.context["domain_form"].errors["domain"][0]
    assert not SsoDomain.objects.exists()


def test_a_domain_already_on_the_list_is_not_added_twice(admin_client, org):
    add(org, "acme.test")

    response = admin_client.post(url("saml-domain-add"), {"domain": "ACME.test"})

    assertContains(response, "acme.test is already on your list.")
    assert SsoDomain.objects.count() == 1


def test_a_domain_verified_by_another_organisation_is_refused_without_naming_it(
    admin_client, org, other_org
):
    verified(other_org, "partner-mail.test")

    response = admin_client.post(url("saml-domain-add"), {"domain": "partner-mail.test"})

    assertContains(response, services.DOMAIN_TAKEN)
    assertNotContains(response, other_org.slug)
    assertNotContains(response, other_org.name)
    assert not SsoDomain.objects.filter(organisation=org).exists()


def test_a_claim_nobody_verified_does_not_block_the_real_owner(admin_client, org, other_org):
    squatted = add(other_org, "acme.test")

    admin_client.post(url("saml-domain-add"), {"domain": "acme.test"})
    ours = SsoDomain.objects.get(organisation=org)
    services.domain_verify(domain=ours, actor=SYSTEM, method=DomainVerification.SUPPORT)

    # The other claim stays, and can never be verified now.
    with pytest.raises(services.DomainRefused, match="another organisation"):
        services.domain_verify(domain=squatted, actor=SYSTEM, method=DomainVerification.DNS)
    squatted.refresh_from_db()
    assert not squatted.is_verified


def test_verify_finds_the_txt_record_and_verifies_the_domain(
    admin_client, org, primary_admin, stub_dns
):
    domain = add(org, "acme.test")
    stub_dns.txt["_auzlearn.acme.test"] = [
        "v=spf1 -all",  # other records at the name are ignored
        record_value(domain.verification_token),
    ]

    response = admin_client.post(url("saml-domain-verify", domain.pk), follow=True)

    domain.refresh_from_db()
    assert domain.is_verified and domain.verified_by == DomainVerification.DNS
    assert ("_auzlearn.acme.test", "TXT") in stub_dns.questions
    assert "acme.test is verified." in messages_of(response)[0]
    event = AuditEvent.objects.get(action="sso.domain_verify")
    assert event.changes == {"domain": "acme.test", "method": "dns"}
    assert event.actor_user == primary_admin


def test_a_record_split_into_strings_is_read_whole(admin_client, org, stub_dns):
    domain = add(org, "acme.test")
    value = record_value(domain.verification_token)
    stub_dns.txt["_auzlearn.acme.test"] = [[value[:10], value[10:]]]

    admin_client.post(url("saml-domain-verify", domain.pk))

    domain.refresh_from_db()
    assert domain.is_verified


@pytest.mark.parametrize(
    "records",
    [
        {},  # NXDOMAIN
        {"_auzlearn.acme.test": ["auzlearn-verification=someone-elses-token"]},
        {"acme.test": ["auzlearn-verification={token}"]},  # at the domain itself: not ours
        {"_auzlearn.acme.test": ["auzlearn-verification={token}-and-more"]},
    ],
)
def test_without_the_record_the_domain_stays_unverified_and_the_admin_is_told(
    admin_client, org, stub_dns, records
):
    domain = add(org, "acme.test")
    for name, values in records.items():
        stub_dns.txt[name] = [value.format(token=domain.verification_token) for value in values]

    response = admin_client.post(url("saml-domain-verify", domain.pk), follow=True)

    domain.refresh_from_db()
    assert not domain.is_verified
    [message] = messages_of(response)
    assert "We could not verify acme.test: there is no TXT record" in message
    assert f"auzlearn-verification={domain.verification_token}" in message
    assert "_auzlearn.acme.test" in message
    assert not AuditEvent.objects.filter(action="sso.domain_verify").exists()


@pytest.mark.parametrize("mode", ["servfail", "silent"])
def test_a_dns_failure_says_try_again_and_is_never_a_500(
    admin_client, org, stub_dns, monkeypatch, mode
):
    monkeypatch.setattr(dns_lookup, "LIFETIME_SECONDS", 0.3)  # a timeout within the test
    domain = add(org, "acme.test")
    publish(stub_dns, domain)
    stub_dns.mode = mode

    response = admin_client.post(url("saml-domain-verify", domain.pk))

    assert response.status_code == 302
    [message] = messages_of(admin_client.get(response["Location"]))
    assert message == (
        "We could not verify acme.test just now: DNS did not answer in time. Try again in a few "
        "minutes."
    )
    domain.refresh_from_db()
    assert not domain.is_verified


def test_the_default_lookup_gives_up_within_a_few_seconds():
    assert dns_lookup.LIFETIME_SECONDS <= 5


def test_a_domain_verified_elsewhere_meanwhile_is_refused(admin_client, org, other_org, stub_dns):
    ours = add(org, "acme.test")
    publish(stub_dns, ours)
    verified(other_org, "acme.test")

    response = admin_client.post(url("saml-domain-verify", ours.pk), follow=True)

    assert messages_of(response) == [services.DOMAIN_TAKEN]
    ours.refresh_from_db()
    assert not ours.is_verified


def test_removing_an_unverified_domain_needs_no_confirmation(admin_client, org):
    domain = add(org, "acme.test")

    response = admin_client.post(url("saml-domain-remove", domain.pk), follow=True)

    assert not SsoDomain.objects.exists()
    assert "acme.test removed." in messages_of(response)
    event = AuditEvent.objects.get(action="sso.domain_remove")
    assert event.changes == {"domain": "acme.test", "was_verified": False}


def test_removing_a_verified_domain_asks_first(admin_client, org):
    domain = verified(org, "acme.test")

    asked = admin_client.post(url("saml-domain-remove", domain.pk))

    assertContains(asked, "Remove acme.test?")
    assertContains(asked, 'name="confirm" value="yes"')
    assert SsoDomain.objects.filter(pk=domain.pk).exists()

    admin_client.post(url("saml-domain-remove", domain.pk), {"confirm": "yes"})

    assert not SsoDomain.objects.exists()
    assert AuditEvent.objects.get(action="sso.domain_remove").changes["was_verified"] is True


def test_another_organisations_domains_are_out_of_reach(admin_client, org, other_org, stub_dns):
    theirs = add(other_org, "globex.test")
    publish(stub_dns, theirs)

    page = admin_client.get(url("saml"))
    verify = admin_client.post(url("saml-domain-verify", theirs.pk))
    remove = admin_client.post(url("saml-domain-remove", theirs.pk), {"confirm": "yes"})

    assertNotContains(page, "globex.test")
    assert verify.status_code == remove.status_code == 404
    theirs.refresh_from_db()
    assert not theirs.is_verified
    assert not stub_dns.questions


DOMAIN_FORMS = ["saml-domain-add", "saml-domain-verify", "saml-domain-remove"]


def _form_url(name: str, domain: SsoDomain) -> str:
    return url(name) if name == "saml-domain-add" else url(name, domain.pk)


@pytest.mark.parametrize("name", DOMAIN_FORMS)
@pytest.mark.parametrize("role", [Role.ADMIN, Role.MANAGER, Role.LEARNER])
def test_only_primary_admins_change_domains(client, org, stub_dns, name, role):
    domain = add(org, "acme.test")
    publish(stub_dns, domain)
    client.force_login(factories.user(org, f"{role}@acme.test", role=role))

    response = client.post(_form_url(name, domain), {"domain": "new.test", "confirm": "yes"})

    assert response.status_code == 403
    assert list(SsoDomain.objects.values_list("domain", "verified_at")) == [("acme.test", None)]


@pytest.mark.parametrize("name", DOMAIN_FORMS)
def test_domain_forms_need_the_csrf_token_and_a_post(org, primary_admin, stub_dns, name):
    domain = add(org, "acme.test")
    publish(stub_dns, domain)
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(primary_admin)

    refused = browser.post(_form_url(name, domain), {"domain": "new.test", "confirm": "yes"})

    assert refused.status_code == 403
    assert browser.get(_form_url(name, domain)).status_code == 405
    assert list(SsoDomain.objects.values_list("domain", "verified_at")) == [("acme.test", None)]


def test_the_domain_forms_work_with_the_token_the_page_gives(org, primary_admin):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(primary_admin)
    page = browser.get(url("saml")).content.decode()
    form = page[page.index('id="domain-add-heading"') :]
    [token] = re.findall(r'name="csrfmiddlewaretoken" value="([^"]+)"', form)

    response = browser.post(
        url("saml-domain-add"), {"domain": "acme.test", "csrfmiddlewaretoken": token}
    )

    assert response.status_code == 302
    assert SsoDomain.objects.filter(organisation=org, domain="acme.test").exists()


# --- the database keeps the rules -------------------------------------------------------------


def test_one_domain_is_verified_by_one_organisation_at_most(org, other_org):
    now = timezone.now()
    SsoDomain.objects.create(
        organisation=org, domain="acme.test", verified_at=now, verified_by="dns"
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        SsoDomain.objects.create(
            organisation=other_org, domain="acme.test", verified_at=now, verified_by="dns"
        )
    SsoDomain.objects.create(organisation=other_org, domain="acme.test")  # a claim is allowed


@pytest.mark.parametrize(
    "fields",
    [
        {"domain": "ACME.test"},
        {"domain": "acme.test", "verified_at": None, "verified_by": "dns"},
        {"domain": "acme.test", "verified_by": ""},
    ],
)
def test_the_database_refuses_rows_the_services_never_write(org, fields):
    row = {"organisation": org, "verified_at": timezone.now(), "verified_by": "dns", **fields}
    if "ACME" in row["domain"]:
        row.update(verified_at=None, verified_by="")
    with pytest.raises(IntegrityError), transaction.atomic():
        SsoDomain.objects.create(**row)


# --- support staff, in the Django admin ---------------------------------------------------------


@pytest.fixture
def staff_client(client, staff_user):
    client.force_login(staff_user)
    return client


def admin_url(view: str, *args: object) -> str:
    return reverse(f"admin:sso_ssodomain_{view}", args=args)


def test_support_marks_a_domain_verified_and_the_audit_log_says_so(staff_client, org, staff_user):
    domain = add(org, "acme.test")

    response = staff_client.post(
        admin_url("changelist"),
        {"action": "mark_verified", "_selected_action": [domain.pk]},
        follow=True,
    )

    assertContains(response, "Verified acme.test.")
    domain.refresh_from_db()
    assert domain.is_verified and domain.verified_by == DomainVerification.SUPPORT
    event = AuditEvent.objects.get(action="sso.domain_verify")
    assert event.changes == {"domain": "acme.test", "method": "support"}
    assert event.actor_user == staff_user and event.organisation_id == org.pk


def test_support_cannot_verify_a_domain_another_organisation_has(staff_client, org, other_org):
    claim = add(org, "acme.test")
    verified(other_org, "acme.test")

    response = staff_client.post(
        admin_url("changelist"),
        {"action": "mark_verified", "_selected_action": [claim.pk]},
        follow=True,
    )

    assertContains(response, services.DOMAIN_TAKEN)
    claim.refresh_from_db()
    assert not claim.is_verified


def test_support_checks_the_dns_record_from_the_admin(staff_client, org, stub_dns):
    found, missing = add(org, "acme.test"), add(org, "acme-eu.test")
    publish(stub_dns, found)

    response = staff_client.post(
        admin_url("changelist"),
        {"action": "check_dns", "_selected_action": [found.pk, missing.pk]},
        follow=True,
    )

    assertContains(response, "Verified acme.test.")
    assertContains(response, "Not verified acme-eu.test: no TXT record")
    assert list(SsoDomain.objects.filter(verified_at__isnull=False)) == [found]


def test_support_adds_a_domain_through_the_service(staff_client, org, other_org):
    verified(other_org, "globex.test")

    refused = staff_client.post(admin_url("add"), {"organisation": org.pk, "domain": "globex.test"})
    added = staff_client.post(admin_url("add"), {"organisation": org.pk, "domain": "ACME.test."})

    assertContains(refused, services.DOMAIN_TAKEN)
    assert added.status_code == 302
    assert SsoDomain.objects.get(organisation=org).domain == "acme.test"
    assert AuditEvent.objects.filter(action="sso.domain_add", organisation=org).count() == 1


def test_support_removes_a_domain_through_the_service(staff_client, org):
    domain = verified(org, "acme.test")

    staff_client.post(admin_url("delete", domain.pk), {"post": "yes"})

    assert not SsoDomain.objects.exists()
    assert AuditEvent.objects.filter(action="sso.domain_remove").count() == 1


def test_a_domain_cannot_be_edited_in_the_admin(staff_client, org):
    domain = add(org, "acme.test")

    page = staff_client.get(admin_url("change", domain.pk))

    assertContains(page, "_auzlearn.acme.test")
    assertContains(page, record_value(domain.verification_token))
    assertNotContains(page, 'name="domain"')
