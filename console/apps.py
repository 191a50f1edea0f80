from django.apps import AppConfig


class ConsoleConfig(AppConfig):
    """The admin's settings pages, composed from sso and scim: the Single Sign-on overview, a
    provider's home and its Activity tab. It depends on both; neither depends on it."""

    name = "console"
    verbose_name = "Settings pages"
