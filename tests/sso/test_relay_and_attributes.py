"""RelayState safety and attribute mapping: pure rules, no database."""

import pytest

from sso.attributes import CLAIMS, profile_from
from sso.relay import safe_relay_state


@pytest.mark.parametrize("value", ["/", "/courses/42/", "/me.json", "/search?q=a&b=c"])
def test_relative_same_site_paths_are_followed(value):
    assert safe_relay_state(value) == value


@pytest.mark.parametrize(
    "value",
    [
        None,
        "",
        "https://evil.example/",
        "http://127.0.0.1:8000/",
        "//evil.example/path",
        "/\\evil.example",
        "\\\\evil.example",
        "javascript:alert(1)",
        "courses/42",
        "/path\nLocation: https://evil.example",
        "/" + "a" * 600,
        "https:/evil.example",
    ],
)
def test_anything_else_is_not_a_redirect_target(value):
    assert safe_relay_state(value) is None


def test_okta_attribute_statements_map_to_the_profile():
    attributes = {"FirstName": ["Jane"], "LastName": ["Doe"], "Email": ["jane@acme.test"]}
    assert profile_from(attributes) == {
        "given_name": "Jane",
        "family_name": "Doe",
        "email": "jane@acme.test",
    }


def test_entra_claim_uris_map_to_the_profile():
    attributes = {
        f"{CLAIMS}/givenname": ["Jane"],
        f"{CLAIMS}/surname": ["Doe"],
        f"{CLAIMS}/emailaddress": ["jane@acme.test"],
        "http://schemas.microsoft.com/identity/claims/objectidentifier": ["8f1c…"],
    }
    assert profile_from(attributes) == {
        "given_name": "Jane",
        "family_name": "Doe",
        "email": "jane@acme.test",
    }


def test_attribute_names_are_matched_ignoring_case_and_blank_values_are_skipped():
    assert profile_from({"firstname": ["  "], "GIVENNAME": ["Jo"], "mail": ["jo@x.test"]}) == {
        "given_name": "Jo",
        "email": "jo@x.test",
    }
    assert profile_from({}) == {}
