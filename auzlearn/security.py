"""Content-Security-Policy: django-csp's middleware, plus the one exception the pages need.

The policy itself is ``CONTENT_SECURITY_POLICY`` in settings; its form-action is ``'self'``. The
pages of single sign-on are the exception: there a form leads on to the organisation's identity
provider. "Continue" on /sso/ and "Test sign-in" on the SAML tab post to us, and we answer with a
redirect to the IdP's SSO URL (the AuthnRequest goes over HTTP-Redirect). Browsers check
form-action against every hop of the redirect chain a form starts (CSP Level 3, "form-action";
Chromium blocks the hop and reports the form's own URL), and the IdP is whatever https host the
organisation configured, so those pages also allow ``https:``. Every other page, the Django
admin's included, may post only to us.

The IdP's own page that posts the signed response to our ACS is the IdP's, under its policy,
not ours: nothing here affects it.
"""

from csp.middleware import CSPMiddleware, PolicyParts
from django.http import HttpRequest, HttpResponseBase

# URL namespaces of the pages whose forms may end at an identity provider (sso/urls.py,
# sso/settings_urls.py).
SINGLE_SIGN_ON_NAMESPACES = frozenset({"sso", "sso_settings"})
# Where an identity provider may be: any https URL (sso.metadata refuses plain http ones).
IDENTITY_PROVIDER_SOURCES = ["https:"]


class ContentSecurityPolicyMiddleware(CSPMiddleware):
    def get_policy_parts(
        self, request: HttpRequest, response: HttpResponseBase, report_only: bool = False
    ) -> PolicyParts:
        parts = super().get_policy_parts(request, response, report_only)
        if leads_to_identity_provider(request):
            update = dict(parts.update or {})
            update["form-action"] = [*update.get("form-action", []), *IDENTITY_PROVIDER_SOURCES]
            parts.update = update
        return parts


def leads_to_identity_provider(request: HttpRequest) -> bool:
    match = request.resolver_match
    return match is not None and match.namespace in SINGLE_SIGN_ON_NAMESPACES
