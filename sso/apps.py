from django.apps import AppConfig


class SsoConfig(AppConfig):
    name = "sso"
    verbose_name = "Single Sign-on"

    def ready(self) -> None:
        from sso import dns_lookup

        # A bad SSO_DNS_NAMESERVERS stops the process at start, like any other setting that
        # cannot be understood, rather than failing the first Verify an admin clicks.
        dns_lookup.nameservers()
