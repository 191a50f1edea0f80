"""manage.py demo connects the demo organisation's Okta connection to the development IdP, and
the IdP's key is made once and kept where a restart finds it."""

import stat
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from django.core.management import call_command

from accounts.models import AuditEvent, Organisation
from devidp import connections, keys
from sso.models import ProviderKind, SamlConnection
from tests.devidp.conftest import run_demo

pytestmark = pytest.mark.django_db


def test_demo_connects_okta_to_the_development_idp_signing_in_on(
    demo: Organisation, demo_connection: SamlConnection
) -> None:
    assert demo_connection.enabled
    assert demo_connection.allow_idp_initiated
    assert not demo_connection.jit_provisioning
    assert demo_connection.is_configured
    assert demo_connection.idp_entity_id == "http://127.0.0.1:8000/dev-idp/metadata/"
    assert demo_connection.idp_sso_url == "http://127.0.0.1:8000/dev-idp/sso/"
    assert [c["fingerprint_sha256"] for c in demo_connection.certificates] == [
        keys.signing_key().fingerprint_sha256
    ]
    assert demo_connection.metadata_xml == connections.metadata_xml().decode()
    assert list(SamlConnection.objects.values_list("provider", flat=True)) == [ProviderKind.OKTA]
    # Through sso.services, audited as the SAML tab's changes are.
    actions = AuditEvent.objects.filter(organisation=demo, action__startswith="saml.")
    assert sorted(actions.values_list("action", flat=True)) == ["saml.configure", "saml.switches"]
    assert {event.actor_label for event in actions} == {"manage.py demo"}


def test_demo_again_changes_nothing(demo: Organisation) -> None:
    events = AuditEvent.objects.count()
    connection = SamlConnection.objects.get(organisation=demo)

    run_demo()

    assert AuditEvent.objects.count() == events
    again = SamlConnection.objects.get(organisation=demo)
    assert (again.public_id, again.certificates) == (connection.public_id, connection.certificates)


def test_demo_prints_where_to_sign_in_through_the_idp_and_how_to_provision(
    debug_on: None, db: None
) -> None:
    printed = run_demo()

    assert "  Okta sign-in:   http://127.0.0.1:8000/dev-idp/ " in printed
    assert "or http://127.0.0.1:8000/sso/ with demo" in printed
    assert "DEBUG=true .venv/bin/python manage.py simulate_idp okta demo" in printed


def test_demo_with_debug_off_touches_nothing(db: None, settings: Any, tmp_path: Path) -> None:
    settings.DEBUG = False
    settings.DEV_IDP_DIR = str(tmp_path / "state")

    with pytest.raises(Exception, match="only created with DEBUG on"):
        call_command("demo", stdout=StringIO())

    assert not SamlConnection.objects.exists()
    assert not (tmp_path / "state").exists()


def test_the_key_is_made_once_private_and_found_again_after_a_restart(
    settings: Any, tmp_path: Path
) -> None:
    settings.DEV_IDP_DIR = str(tmp_path / "state")

    first = keys.signing_key()

    path = tmp_path / "state" / keys.SIGNING_KEY_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    # A restarted process reads the same file: the same key, the same certificate.
    assert keys.signing_key() == first
    assert first.certificate.subject.rfc4514_string() == f"CN={keys.COMMON_NAME}"
    public_key = first.certificate.public_key()
    assert isinstance(public_key, rsa.RSAPublicKey) and public_key.key_size == 2048


def test_two_processes_making_the_key_at_once_end_up_with_the_same_one(
    settings: Any, tmp_path: Path
) -> None:
    settings.DEV_IDP_DIR = str(tmp_path)
    path = tmp_path / keys.SIGNING_KEY_FILE
    keys._create_once(path, b"the first writer's key")

    keys._create_once(path, b"the second writer's key")

    assert path.read_bytes() == b"the first writer's key"
    assert [p.name for p in tmp_path.iterdir()] == [keys.SIGNING_KEY_FILE]  # no leftovers


def test_each_checkout_has_a_key_of_its_own(settings: Any, tmp_path: Path) -> None:
    settings.DEV_IDP_DIR = str(tmp_path / "one")
    one = keys.signing_key()
    settings.DEV_IDP_DIR = str(tmp_path / "two")

    assert keys.signing_key().fingerprint_sha256 != one.fingerprint_sha256


def test_the_key_directory_is_ignored_by_git() -> None:
    from django.conf import settings

    ignored = (Path(settings.BASE_DIR) / ".gitignore").read_text().splitlines()
    assert ".dev-idp/" in ignored
