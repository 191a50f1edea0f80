"""The SAML tab's Test sign-in with the development IdP over plain http, as `make run` serves it:
the IdP is on our own site, so the browser sends our SameSite=Lax cookie back with its POST and
the test runs, with no warning. (A cross-site IdP over http:
tests/sso/test_turning_sso_on_and_testing.py.)"""

from typing import Any
from urllib.parse import urlsplit

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import Organisation, User
from devidp import connections
from sso.models import PendingSignIn, SamlConnection, SignInAttempt, SignInOutcome
from tests.devidp.test_dev_idp import choose

pytestmark = pytest.mark.django_db
SAML_TAB = reverse("sso_settings:saml", args=["okta"])
TEST = reverse("sso_settings:saml-test", args=["okta"])


def test_the_dev_idp_test_sign_in_works_over_plain_http(
    demo: Organisation, demo_connection: SamlConnection, settings: Any
) -> None:
    assert settings.PUBLIC_BASE_URL.startswith("http://")
    admin = User.objects.for_organisation(demo).get(username="admin@demo.test")
    client = Client()
    client.force_login(admin)
    assert b"cannot work here" not in client.get(SAML_TAB).content

    started = client.post(TEST)
    assert started.status_code == 302
    to_idp = urlsplit(started["Location"])
    assert f"{to_idp.scheme}://{to_idp.netloc}{to_idp.path}" == connections.sso_url()
    cookie = started.cookies["auzlearn_saml"]
    assert cookie["samesite"] == "Lax" and not cookie["secure"]
    asked = client.get(to_idp.path + "?" + to_idp.query)
    to_acs = choose(client, asked.content, admin)
    landed = client.post(to_acs.path, to_acs.fields)

    assert landed.status_code == 302
    attempt = SignInAttempt.objects.filter(connection=demo_connection).latest("pk")
    assert attempt.outcome == SignInOutcome.TEST_PASSED
    assert PendingSignIn.objects.filter(connection=demo_connection).count() == 1
