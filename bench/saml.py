"""SAML responses signed for real by the test IdP of the test suite (tests/sso/idp.py), made
before the clock starts; python3-saml's own validation of the same responses as the ACS's
floor, and ours beside it."""

import base64
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.utils import timezone
from onelogin.saml2.response import OneLogin_Saml2_Response
from onelogin.saml2.settings import OneLogin_Saml2_Settings

from bench import progress
from bench.tenants import Person
from sso.models import SamlConnection
from sso.saml_settings import request_data, settings_dict
from sso.validation import Expectation, validate
from tests.sso.idp import TestIdP, okta_idp


def identity_provider() -> TestIdP:
    """Okta's shape: both the Response and the assertion signed (RSA-SHA256)."""
    return okta_idp()


def signed_responses(
    idp: TestIdP, connection: SamlConnection, people: Sequence[Person]
) -> list[str]:
    """One fresh response per person (each assertion can be used once), base64 as the browser
    posts it. Valid for five minutes from now, so make them just before they are sent."""
    encoded = []
    with progress.bar(len(people), "signing SAML responses", "response") as bar:
        for person in people:
            encoded.append(_signed(idp, connection, person))
            bar.update(1)
    return encoded


def _signed(idp: TestIdP, connection: SamlConnection, person: Person) -> str:
    xml = idp.response(
        acs_url=connection.acs_url,
        audience=connection.sp_entity_id,
        name_id=person.username,
        attributes=idp.default_attributes(person.given_name, person.family_name, person.email),
    )
    return base64.b64encode(xml).decode("ascii")


@dataclass(frozen=True)
class Validations:
    bare: list[float]  # seconds, python3-saml alone
    ours: list[float]  # seconds, sso.validation.validate


def validations(connection: SamlConnection, responses: Sequence[str]) -> Validations:
    """Seconds python3-saml takes to validate each response in this process, and seconds our
    own validation takes on the same response, one after the other so that both see the same
    machine. No HTTP, no database, no session.

    python3-saml as its documented use does it per request: settings built from the same dict
    the product uses (strict, SHA-256, the pinned certificates), then
    OneLogin_Saml2_Response(...).is_valid(...): the least any ACS built on it can cost.
    Ours (sso.validation.validate) as the ACS calls it: python3-saml strict, plus the checks it
    leaves loose, on one parse of the response."""
    library_settings = settings_dict(connection, strict=True)
    data = request_data(urlsplit(connection.acs_url).path)
    timed = Validations(bare=[], ours=[])
    for encoded in responses:
        started = time.perf_counter()
        response = OneLogin_Saml2_Response(
            OneLogin_Saml2_Settings(library_settings, sp_validation_only=True), encoded
        )
        valid = response.is_valid(data)
        timed.bare.append(time.perf_counter() - started)
        if not valid:
            raise RuntimeError(f"python3-saml refused a bench response: {response.get_error()}")
        started = time.perf_counter()
        verdict = validate(connection, encoded, _expectation(connection))
        timed.ours.append(time.perf_counter() - started)
        if not verdict.passed:
            raise RuntimeError(f"sso.validation refused a bench response: {verdict.failure}")
    return timed


def _expectation(connection: SamlConnection) -> Expectation:
    """An IdP-initiated sign-in, as the bench's responses are."""
    return Expectation(
        request_id=None,
        allow_idp_initiated=connection.allow_idp_initiated,
        skew=timedelta(seconds=settings.SAML_CLOCK_SKEW_SECONDS),
        now=timezone.now(),
    )
