"""What to tell an admin whose metadata was refused: what is wrong in plain words, then where to
get the right file in their identity provider, before the parser's own detail (issue 14).

Pure: a refusal's code (``sso.metadata.MetadataError.code``, ``sso.fetch.FetchError.code``, or
one of the upload form's own) and the provider's slug in, one paragraph out. The parser's and
the fetcher's sentences stay as they are, for the management commands and as the detail here.
"""

# Where each identity provider offers its SAML metadata (Okta: the app's Sign On tab, "SAML
# Signing Certificates" → Actions → View IdP metadata; Entra: Single sign-on → SAML
# Certificates → Federation Metadata XML; Google Admin console: the app's Download metadata).
WHERE = {
    "okta": (
        "In Okta, open the app's Sign On tab and download the metadata (SAML Signing "
        "Certificates, Actions, View IdP metadata), or copy its Metadata URL."
    ),
    "entra": (
        "In Microsoft Entra ID, open the app's Single sign-on page and, under SAML Certificates, "
        "download Federation Metadata XML, or copy the App Federation Metadata Url."
    ),
    "google": (
        "In the Google Admin console, open Apps, Web and mobile apps, your auzlearn app, click "
        "Download metadata and choose IDP metadata."
    ),
    "saml": (
        "In your identity provider, download the SAML metadata of the app you made for "
        "auzlearn: the identity provider's metadata, not ours."
    ),
}
NAMES = {"okta": "Okta", "entra": "Microsoft Entra ID", "google": "Google", "saml": "it"}

# What is wrong, by refusal code, in plain words.
PLAIN = {
    "empty": "This file is empty.",
    "not_xml": "This file is not XML.",
    "html": "This is a web page, not metadata: perhaps a sign-in page saved instead of the file.",
    "dtd": (
        "This file declares a DTD or entities, which auzlearn refuses: they can make a "
        "parser read other files or use up its memory."
    ),
    "too_large": "This is too big to be SAML metadata.",
    "not_saml_metadata": "This XML is not SAML metadata.",
    "no_entity_id": "This metadata does not name its identity provider (no entityID).",
    "no_identity_provider": "This metadata describes no identity provider.",
    "several_identity_providers": (
        "This metadata describes several identity providers; auzlearn needs the one of your app."
    ),
    "service_provider_metadata": (
        "This is a service provider's metadata (perhaps auzlearn's own), not your identity "
        "provider's."
    ),
    "no_sso_service": "This metadata has no sign-in URL (SingleSignOnService).",
    "no_signing_certificate": "This metadata has no signing certificate.",
    "certificate_unreadable": "A signing certificate in this metadata cannot be read.",
    "certificates_expired": "Every signing certificate in this metadata has expired.",
    # The fetcher's refusals of a metadata URL.
    "invalid_url": "This is not a metadata URL auzlearn can use.",
    "not_https": "The metadata URL must use https.",
    "dns_failed": "auzlearn could not find the metadata URL's host.",
    "forbidden_address": "auzlearn does not fetch from that address.",
    "connection_failed": "auzlearn could not connect to the metadata URL.",
    "tls_failed": "auzlearn could not make a secure connection to the metadata URL.",
    "timeout": "The metadata URL did not answer in time.",
    "http_status": "The metadata URL did not return the metadata.",
    "too_many_redirects": "The metadata URL redirects too many times.",
    "bad_response": "The metadata URL sent an answer auzlearn cannot read.",
}
# After a refusal of this kind, what to do differs from "download it again".
EXTRA = {
    "certificates_expired": "Make a new signing certificate active in {name} first.",
    "forbidden_address": "It must be a public https address of {name}.",
}


def plain_message(code: str, provider: str, detail: str) -> str:
    """The refusal in plain words, where to get the right metadata in this provider, then the
    parser's (or fetcher's) own detail."""
    plain = PLAIN.get(code) or _plain_of_url_code(code)
    where = WHERE.get(provider, WHERE["saml"])
    extra = EXTRA.get(code, "").format(name=NAMES.get(provider, "it"))
    parts = [plain, extra, where, f"Details: {detail}"]
    return " ".join(part for part in parts if part)


def _plain_of_url_code(code: str) -> str:
    """The metadata's own URLs (``sso_url_not_https``, ``slo_url_invalid``…), or any code this
    module does not know yet."""
    if code.endswith("_url_not_https"):
        return "A URL in this metadata does not use https, which sign-in needs."
    if code.endswith("_url_invalid"):
        return "A URL in this metadata is not a valid https URL."
    return "This metadata cannot be used."
