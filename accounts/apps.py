from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts"

    def ready(self) -> None:
        from auzlearn import datetime_loading, lookups  # noqa: F401  lookups registers __any

        datetime_loading.install()


class SupportAdminConfig(admin_apps.AdminConfig):
    """django.contrib.admin with our site class, whose login has the sign-in back-off. This is
    Django's documented way to replace admin.site ("Overriding the default admin site"); every
    admin.site.register() elsewhere keeps working."""

    default = False  # named in INSTALLED_APPS; AccountsConfig stays this module's default
    default_site = "accounts.admin_site.SupportAdminSite"
