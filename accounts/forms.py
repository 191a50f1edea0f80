from typing import Any

from django import forms
from django.contrib.auth import authenticate
from django.contrib.auth.hashers import make_password
from django.http import HttpRequest

from accounts.models import Organisation, User

SIGN_IN_FAILED = (
    "We could not sign you in. Check your organisation, username or email, and password. "
    "If your access was removed, ask your administrator."
)


SSO_REQUIRED = (
    "%(organisation)s signs in with single sign-on: use “Sign in with single sign-on” below. "
    "(Primary admins keep their password as a way in.)"
)


class SignInForm(forms.Form):
    organisation = forms.CharField(
        label="Organisation", max_length=50, help_text="The short name your administrator gave you."
    )
    login = forms.CharField(label="Username or email", max_length=255)
    password = forms.CharField(label="Password", strip=False, widget=forms.PasswordInput)

    def __init__(self, request: HttpRequest, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.request = request
        self.user: User | None = None
        self.fields["organisation"].widget.attrs.update(
            autocomplete="organization", autocapitalize="none"
        )
        self.fields["login"].widget.attrs.update(autocomplete="username", autocapitalize="none")
        self.fields["password"].widget.attrs.update(autocomplete="current-password")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.errors:
            return data
        organisation = Organisation.objects.filter(
            slug=data["organisation"].strip().lower()
        ).first()
        user = None
        if organisation is None:
            make_password(data["password"])  # same work as a real check: timing reveals nothing
        else:
            user = authenticate(
                self.request,
                organisation=organisation,
                username=data["login"],
                password=data["password"],
            )
        if not isinstance(user, User):
            if organisation is not None and organisation.sso_required:
                # Said to everyone who names this organisation, so it reveals no person.
                raise forms.ValidationError(
                    SSO_REQUIRED % {"organisation": organisation.name}, code="sso_required"
                )
            # One message for every failure, so the form does not reveal who or what exists.
            raise forms.ValidationError(SIGN_IN_FAILED, code="invalid_login")
        self.user = user
        return data
