"""RelayState is a redirect target only when it is a relative path on this site (DESIGN §6):
anything else would make our ACS an open redirect."""

from django.utils.http import url_has_allowed_host_and_scheme

MAX_RELAY_STATE = 500


def safe_relay_state(value: str | None) -> str | None:
    """The RelayState as a path to redirect to, or None when it is not one we follow."""
    if not value or len(value) > MAX_RELAY_STATE:
        return None
    if not value.startswith("/") or value.startswith("//") or "\\" in value:
        return None
    if any(ord(character) < 32 or ord(character) == 127 for character in value):
        return None
    if not url_has_allowed_host_and_scheme(value, allowed_hosts=set(), require_https=False):
        return None
    return value
