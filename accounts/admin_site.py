"""The support staff's admin site: Django's, with the sign-in back-off on its login page."""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest, HttpResponse

from accounts import throttle
from accounts.forms import AdminSignInForm


class SupportAdminSite(admin.AdminSite):
    login_form = AdminSignInForm

    def login(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        response = super().login(request, extra_context)
        # The refused form is shown again, with its message, as the 429 answer.
        form = (getattr(response, "context_data", None) or {}).get("form")
        if isinstance(form, AdminSignInForm) and form.retry_after:
            return throttle.refused(response, form.retry_after)
        return response
