"""Development tools for trying auzlearn without an identity provider (DEBUG only): a small SAML
identity provider served by the same process at /dev-idp/, and ``manage.py simulate_idp``,
which provisions an organisation over real SCIM requests as Okta or Entra would.

Neither is part of the product: the development IdP's URLs are routed only with DEBUG on
(auzlearn/urls.py) and the commands refuse to run without it. Both reach the product only
through what a real identity provider reaches (the ACS, the SCIM API) and through the public
services of ``sso`` and ``scim`` for the setup an admin would do on the settings pages.
"""
