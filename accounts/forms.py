from typing import Any

from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth import authenticate
from django.contrib.auth.hashers import make_password
from django.http import HttpRequest

from accounts import throttle
from accounts.models import Organisation, User

SIGN_IN_FAILED = (
    "We could not sign you in. Check your organisation, username or email, and password. "
    "If your access was removed, ask your administrator."
)


SSO_REQUIRED = (
    "%(organisation)s signs in with single sign-on: use “Sign in with single sign-on” below. "
    "(Primary admins keep their password as a way in.)"
)


class _BackOff:
    """Refuses an attempt the sign-in back-off holds, before any password is checked."""

    # Seconds the client must wait, when this attempt was refused unchecked (the view answers 429).
    retry_after = 0

    def refuse_if_held(self, attempt: throttle.Attempt) -> None:
        wait = throttle.wait_seconds(attempt)
        if wait:
            self.retry_after = wait
            raise forms.ValidationError(throttle.too_many_attempts(wait), code="too_many_attempts")


class SignInForm(_BackOff, forms.Form):
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
        attempt = throttle.Attempt.of(
            self.request, organisation=data["organisation"], login=data["login"]
        )
        self.refuse_if_held(attempt)
        organisation = Organisation.objects.filter(slug=attempt.organisation).first()
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
            throttle.failed(attempt)
            if organisation is not None and organisation.sso_required:
                # Said to everyone who names this organisation, so it reveals no person.
                raise forms.ValidationError(
                    SSO_REQUIRED % {"organisation": organisation.name}, code="sso_required"
                )
            # One message for every failure, so the form does not reveal who or what exists.
            raise forms.ValidationError(SIGN_IN_FAILED, code="invalid_login")
        throttle.succeeded(attempt)
        self.user = user
        return data


class AdminSignInForm(_BackOff, AdminAuthenticationForm):
    """The Django admin's login (support staff, no organisation), with the same back-off."""

    def clean(self) -> dict[str, Any]:
        username = self.cleaned_data.get("username")
        password = self.cleaned_data.get("password")
        if not username or not password:
            return super().clean()  # nothing is checked, so nothing is counted
        attempt = throttle.Attempt.of(self.request, organisation=None, login=username)
        self.refuse_if_held(attempt)
        try:
            data = super().clean()
        except forms.ValidationError:
            if self.user_cache is None:  # the password was checked, and nobody matched
                throttle.failed(attempt)
            raise
        throttle.succeeded(attempt)
        return data
