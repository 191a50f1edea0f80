"""Where the Sign out button of our pages posts."""

from django import template
from django.urls import reverse

register = template.Library()


@register.simple_tag(takes_context=True)
def sign_out_url(context: template.Context) -> str:
    """The SAML logout URL of the connection this session signed in through (which signs out
    at the IdP too, when it has single logout), else Django's sign-out. Both take only a POST
    with our CSRF token."""
    request = context.get("request")
    connection_id = request.session.get("saml_connection") if request is not None else None
    if isinstance(connection_id, str) and connection_id:
        return reverse("sso:logout", args=[connection_id])
    return reverse("accounts:logout")
