"""Management commands: saml_configure and refresh_saml_metadata.

saml_configure checks metadata exactly as the SAML tab's upload does. refresh_saml_metadata
cannot reach a real metadata URL from here: its failures are tested with URLs the fetcher
refuses before connecting (loopback, private addresses), and its success by replacing the
command's ``fetch`` (the network) with a function returning the test IdP's metadata.
"""

from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from accounts import services as accounts_services
from accounts.models import ActorKind, AuditEvent
from sso import services
from sso.forms import ONE_SOURCE, TOO_LARGE
from sso.management.commands import refresh_saml_metadata, saml_configure
from sso.metadata import MAX_METADATA_BYTES, parse_metadata
from sso.models import SamlConnection
from tests import factories
from tests.manage import manage, migrated_database
from tests.sso import idp as test_idp

SYSTEM = factories.SYSTEM
LOOPBACK_URL = "https://127.0.0.1/metadata.xml"


def run(name: str, *args: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command(name, *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


@pytest.fixture
def okta_file(tmp_path):
    path = tmp_path / "okta.xml"
    path.write_bytes(test_idp.okta_idp().metadata_xml())
    return path


def expected_lines(connection: SamlConnection) -> str:
    return (
        f"entity_id={connection.sp_entity_id}\n"
        f"acs_url={connection.acs_url}\n"
        "relay_state=/\n"
        f"sp_metadata_url={connection.sp_entity_id}\n"
        f"login_url={connection.login_url}\n"
    )


# --- saml_configure ----------------------------------------------------------------------------


def test_saml_configure_saves_the_metadata_and_prints_the_values_for_the_idp(
    org, okta_file, settings
):
    out, err = run(
        "saml_configure", "acme", "--provider", "okta", "--metadata-file", str(okta_file)
    )

    connection = SamlConnection.objects.get(organisation=org, provider="okta")
    assert out == expected_lines(connection)
    assert err == ""
    assert connection.acs_url.startswith(f"{settings.PUBLIC_BASE_URL}/sso/saml/")
    okta = test_idp.okta_idp()
    assert (connection.idp_entity_id, connection.idp_sso_url) == (okta.entity_id, okta.sso_url)
    assert connection.metadata_xml == okta.metadata_xml().decode()
    assert len(connection.certificates) == 1
    assert not connection.enabled
    assert connection.allow_idp_initiated  # Okta's default: the tile signs people in
    event = AuditEvent.objects.get(organisation=org, action="saml.configure")
    assert (event.actor_kind, event.actor_label) == (ActorKind.SYSTEM, "manage.py saml_configure")


def test_saml_configure_other_is_a_generic_saml_connection(org, tmp_path):
    path = tmp_path / "idp.xml"
    path.write_bytes(test_idp.generic_idp().metadata_xml())

    out, _ = run("saml_configure", "acme", "--provider", "other", "--metadata-file", str(path))

    connection = SamlConnection.objects.get(organisation=org)
    assert connection.provider == "saml"
    assert not connection.allow_idp_initiated
    assert out == expected_lines(connection)


def test_saml_configure_sets_the_switches_it_is_given(org, okta_file):
    run(
        "saml_configure",
        "acme",
        "--provider",
        "okta",
        "--metadata-file",
        str(okta_file),
        "--no-allow-idp-initiated",
        "--jit",
        "--enable",
    )

    connection = SamlConnection.objects.get(organisation=org)
    assert (connection.enabled, connection.allow_idp_initiated, connection.jit_provisioning) == (
        True,
        False,
        True,
    )
    event = AuditEvent.objects.get(action="saml.switches")
    assert event.changes == {
        "provider": "okta",
        "enabled": [False, True],
        "allow_idp_initiated": [True, False],
        "jit_provisioning": [False, True],
    }


def test_saml_configure_leaves_unnamed_switches_as_they_are(org, okta_file):
    run(
        "saml_configure",
        "acme",
        "--provider",
        "okta",
        "--metadata-file",
        str(okta_file),
        "--enable",
    )
    run("saml_configure", "acme", "--provider", "okta", "--metadata-file", str(okta_file))

    connection = SamlConnection.objects.get(organisation=org)
    assert connection.enabled
    assert connection.allow_idp_initiated


def test_saml_configure_takes_entras_two_certificates(org, tmp_path):
    keys = [test_idp.make_key_pair("Entra a"), test_idp.make_key_pair("Entra b", days_valid=900)]
    path = tmp_path / "entra.xml"
    path.write_bytes(test_idp.entra_idp(keys=keys).metadata_xml())

    run("saml_configure", "acme", "--provider", "entra", "--metadata-file", str(path))

    connection = SamlConnection.objects.get(organisation=org, provider="entra")
    assert [cert["subject"] for cert in connection.certificates] == ["CN=Entra a", "CN=Entra b"]


def test_saml_configure_fetches_a_metadata_url(org, monkeypatch):
    google = test_idp.google_idp()
    fetched: list[str] = []

    def fetch(url: str) -> bytes:  # the network, not our checks
        fetched.append(url)
        return google.metadata_xml()

    monkeypatch.setattr(saml_configure, "fetch", fetch)

    run("saml_configure", "acme", "--provider", "google", "--metadata-url", "https://idp.test/m")

    connection = SamlConnection.objects.get(organisation=org, provider="google")
    assert fetched == ["https://idp.test/m"]
    assert connection.metadata_url == "https://idp.test/m"
    assert connection.metadata_refreshed_at is not None


def _bad_file(tmp_path, content: bytes) -> str:
    path = tmp_path / "bad.xml"
    path.write_bytes(content)
    return str(path)


@pytest.mark.parametrize(
    ("source", "message"),
    [
        (lambda tmp: ["--metadata-file", _bad_file(tmp, b"not xml")], "is not valid XML"),
        (
            lambda tmp: ["--metadata-file", _bad_file(tmp, b'<!DOCTYPE x []><x entityID="a"/>')],
            "contains a DOCTYPE declaration",
        ),
        (
            lambda tmp: [
                "--metadata-file",
                _bad_file(tmp, b"<x/>" + b" " * MAX_METADATA_BYTES),
            ],
            TOO_LARGE,
        ),
        (
            lambda tmp: [
                "--metadata-file",
                _bad_file(
                    tmp, test_idp.okta_idp(sso_url="http://acme.okta.com/sso").metadata_xml()
                ),
            ],
            "must use https",
        ),
        (lambda tmp: ["--metadata-file", str(tmp / "missing.xml")], "Cannot read"),
        (lambda tmp: ["--metadata-url", LOOPBACK_URL], "resolves to a loopback address"),
        (lambda tmp: ["--metadata-url", "https://localhost/"], "points at this server"),
        (lambda tmp: ["--metadata-url", "http://idp.example/"], "must use https"),
        (lambda tmp: ["--metadata-url", " "], ONE_SOURCE),
    ],
)
def test_saml_configure_refuses_bad_metadata_and_saves_nothing(org, tmp_path, source, message):
    events = AuditEvent.objects.count()

    with pytest.raises(CommandError) as refused:
        run("saml_configure", "acme", "--provider", "okta", *source(tmp_path))

    assert message in str(refused.value)
    assert not SamlConnection.objects.exists()
    assert AuditEvent.objects.count() == events


def test_saml_configure_refusal_keeps_an_existing_configuration(org, tmp_path, okta_file):
    run("saml_configure", "acme", "--provider", "okta", "--metadata-file", str(okta_file))
    before = SamlConnection.objects.values().get()

    with pytest.raises(CommandError):
        run(
            "saml_configure",
            "acme",
            "--provider",
            "okta",
            "--metadata-file",
            _bad_file(tmp_path, b"<nope/>"),
            "--enable",
        )

    assert SamlConnection.objects.values().get() == before


def test_saml_configure_refuses_jit_while_scim_is_on(org, okta_file):
    accounts_services.organisation_update(organisation=org, actor=SYSTEM, scim_enabled=True)

    with pytest.raises(CommandError, match="--jit is refused while SCIM is on"):
        run(
            "saml_configure",
            "acme",
            "--provider",
            "okta",
            "--metadata-file",
            str(okta_file),
            "--jit",
        )

    assert not SamlConnection.objects.exists()


def test_saml_configure_for_an_unknown_slug_is_a_clear_error(db, okta_file):
    with pytest.raises(CommandError, match=r"There is no organisation with the slug 'nope'\."):
        run("saml_configure", "nope", "--provider", "okta", "--metadata-file", str(okta_file))


def test_saml_configure_needs_exactly_one_source(org, okta_file):
    with pytest.raises(CommandError, match="not allowed with argument"):
        run(
            "saml_configure",
            "acme",
            "--provider",
            "okta",
            "--metadata-file",
            str(okta_file),
            "--metadata-url",
            LOOPBACK_URL,
        )
    with pytest.raises(CommandError, match="one of the arguments"):
        run("saml_configure", "acme", "--provider", "okta")


def test_saml_configure_exits_with_status_1_and_prints_nothing_on_bad_input(tmp_path):
    database_url = migrated_database(tmp_path)
    created = manage(
        "create_organisation",
        "acme",
        "--name=Acme",
        "--admin-email=admin@acme.test",
        "--admin-password=a long enough password 1",
        database_url=database_url,
    )
    assert created.returncode == 0, created.stderr

    result = manage(
        "saml_configure",
        "acme",
        "--provider",
        "okta",
        "--metadata-url",
        LOOPBACK_URL,
        database_url=database_url,
    )

    assert result.returncode == 1
    assert result.stdout == ""
    assert "CommandError: The metadata URL's host resolves to a loopback address" in result.stderr
    assert "Traceback" not in result.stderr


# --- refresh_saml_metadata -----------------------------------------------------------------------


def url_connection(org, idp, provider: str, metadata_url: str) -> SamlConnection:
    connection = services.connection_for(organisation=org, provider=provider)
    xml = idp.metadata_xml()
    return services.connection_configure(
        connection=connection,
        actor=SYSTEM,
        metadata=parse_metadata(xml),
        metadata_xml=xml.decode(),
        metadata_url=metadata_url,
    )


def test_refresh_takes_new_certificates_and_records_them_in_the_audit_log(org, monkeypatch):
    old_key = test_idp.make_key_pair("Entra old")
    new_key = test_idp.make_key_pair("Entra new", days_valid=900)
    metadata_url = "https://login.microsoftonline.com/tenant/federationmetadata.xml"
    connection = url_connection(org, test_idp.entra_idp(keys=[old_key]), "entra", metadata_url)
    rolled = test_idp.entra_idp(keys=[old_key, new_key]).metadata_xml()
    monkeypatch.setattr(refresh_saml_metadata, "fetch", lambda url: rolled)
    AuditEvent.objects.all().delete()

    out, _ = run("refresh_saml_metadata")

    assert out == f"acme entra: refreshed from {metadata_url} (2 signing certificates)\n"
    connection.refresh_from_db()
    assert [cert["subject"] for cert in connection.certificates] == [
        "CN=Entra old",
        "CN=Entra new",
    ]
    assert connection.metadata_xml == rolled.decode()
    assert connection.metadata_refresh_error == ""
    event = AuditEvent.objects.get(action="saml.configure")
    assert event.actor_label == "manage.py refresh_saml_metadata"
    assert len(event.changes["certificates"]["before"]) == 1
    assert len(event.changes["certificates"]["after"]) == 2


def test_refresh_keeps_the_last_good_configuration_when_the_fetch_is_refused(org):
    connection = url_connection(org, test_idp.okta_idp(), "okta", LOOPBACK_URL)
    before = SamlConnection.objects.values().get()

    with pytest.raises(CommandError, match=r"1 of 1 metadata refreshes failed\."):
        run("refresh_saml_metadata")

    connection.refresh_from_db()
    assert connection.metadata_refresh_error.startswith(
        "The metadata URL's host resolves to a loopback address (127.0.0.1)"
    )
    after = SamlConnection.objects.values().get()
    assert {**after, "metadata_refresh_error": ""} == before


def test_refresh_keeps_the_last_good_configuration_when_the_metadata_is_bad(org, monkeypatch):
    connection = url_connection(org, test_idp.okta_idp(), "okta", "https://acme.okta.com/m")
    monkeypatch.setattr(refresh_saml_metadata, "fetch", lambda url: b"<html><body>Sign in")
    out = StringIO()

    with pytest.raises(CommandError):
        call_command("refresh_saml_metadata", stdout=out)

    assert out.getvalue().startswith(
        "acme okta: FAILED, kept the last good configuration: This is a web page (HTML)"
    )
    connection.refresh_from_db()
    assert connection.is_configured
    assert connection.metadata_refresh_error.startswith("This is a web page (HTML)")


def test_refresh_goes_on_after_a_failure_and_reports_each_connection(org, other_org, monkeypatch):
    url_connection(org, test_idp.okta_idp(), "okta", "https://10.1.2.3/metadata")
    url_connection(other_org, test_idp.okta_idp(), "okta", "https://idp.test/globex")
    url_connection(org, test_idp.google_idp(), "google", "")  # uploaded: not refreshed
    real_fetch = refresh_saml_metadata.fetch

    def fetch(url: str) -> bytes:  # the network for one host; the real fetcher for the other
        return test_idp.okta_idp().metadata_xml() if "idp.test" in url else real_fetch(url)

    monkeypatch.setattr(refresh_saml_metadata, "fetch", fetch)
    out = StringIO()

    with pytest.raises(CommandError, match=r"1 of 2 metadata refreshes failed\."):
        call_command("refresh_saml_metadata", stdout=out)

    lines = out.getvalue().splitlines()
    assert lines[0].startswith("acme okta: FAILED, kept the last good configuration: ")
    assert "private address (10.1.2.3)" in lines[0]
    assert lines[1] == "globex okta: refreshed from https://idp.test/globex (1 signing certificate)"
    assert len(lines) == 2


def test_a_later_good_refresh_clears_the_error(org, monkeypatch):
    connection = url_connection(org, test_idp.okta_idp(), "okta", "https://acme.okta.com/m")
    services.connection_refresh_failed(connection=connection, error="It timed out.")
    monkeypatch.setattr(
        refresh_saml_metadata, "fetch", lambda url: test_idp.okta_idp().metadata_xml()
    )

    run("refresh_saml_metadata")

    connection.refresh_from_db()
    assert connection.metadata_refresh_error == ""


def test_refresh_with_no_url_based_connection_does_nothing(org):
    url_connection(org, test_idp.okta_idp(), "okta", "")

    assert run("refresh_saml_metadata") == ("", "")
