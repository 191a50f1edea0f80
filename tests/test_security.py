"""The Content-Security-Policy and HSTS headers (auzlearn/settings.py, auzlearn/security.py),
and the templates that let the policy forbid inline script. The browser tests show the pages
working under the policy (tests/browser/conftest.py fails on any violation)."""

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)
# The pages of single sign-on: their forms end at the organisation's identity provider.
SSO_POLICY = POLICY + " https:"
TEMPLATES = Path(settings.BASE_DIR) / "templates"


def _directives(header: str) -> dict[str, str]:
    """The policy as {directive: sources}: django-csp writes the directives in no fixed order."""
    parts = (part.strip().split(" ", 1) for part in header.split(";"))
    return {part[0]: part[1] if len(part) > 1 else "" for part in parts}


def test_every_page_gets_the_policy_signed_out(client, db):
    for url in ["/sign-in/", "/me.json", "/no-such-page/", "/scim/limits/"]:
        response = client.get(url)
        assert _directives(response["Content-Security-Policy"]) == _directives(POLICY), url


def test_signed_in_pages_and_the_admin_get_form_action_self(client, primary_admin, staff_user):
    client.force_login(primary_admin)
    assert _directives(client.get("/")["Content-Security-Policy"]) == _directives(POLICY)

    client.force_login(staff_user)
    for url in [reverse("admin:index"), reverse("admin:accounts_user_changelist")]:
        response = client.get(url)
        assert response.status_code == 200
        assert _directives(response["Content-Security-Policy"]) == _directives(POLICY), url


def test_sso_pages_let_their_forms_go_on_to_an_https_identity_provider(client, primary_admin):
    policy = client.get(reverse("sso:sign-in"))["Content-Security-Policy"]
    assert _directives(policy) == _directives(SSO_POLICY)

    client.force_login(primary_admin)
    response = client.get(reverse("sso_settings:saml", args=["okta"]))
    assert response.status_code == 200
    assert _directives(response["Content-Security-Policy"])["form-action"] == "'self' https:"


def test_health_probes_and_scim_get_the_policy_too(client, db):
    # Harmless on JSON, and no response of ours goes without it.
    policy = client.get("/healthz")["Content-Security-Policy"]
    assert _directives(policy) == _directives(POLICY)


def test_hsts_is_sent_over_https_only(client, db, settings):
    settings.SECURE_HSTS_SECONDS = 31536000
    settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = False

    assert client.get("/sign-in/", secure=True)["Strict-Transport-Security"] == "max-age=31536000"
    assert "Strict-Transport-Security" not in client.get("/sign-in/")


# --- templates: nothing inline that the policy would block ---------------------------------------

INLINE = [
    (re.compile(r"<script(?![^>]*\ssrc=)[^>]*>", re.IGNORECASE), "an inline <script>"),
    (re.compile(r"\son[a-z]+\s*=", re.IGNORECASE), "an inline event handler"),
    (re.compile(r"javascript:", re.IGNORECASE), "a javascript: URL"),
    (re.compile(r"\sstyle\s*=", re.IGNORECASE), "a style attribute"),
    (re.compile(r"<style", re.IGNORECASE), "an inline <style>"),
]


@pytest.mark.parametrize(
    "template", sorted(TEMPLATES.rglob("*.html")), ids=lambda p: str(p.relative_to(TEMPLATES))
)
def test_templates_have_no_inline_script_or_style(template):
    text = template.read_text()

    found = [what for pattern, what in INLINE if pattern.search(text)]

    assert not found, f"{template.relative_to(TEMPLATES)}: {', '.join(found)}; use static/"
