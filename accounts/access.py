"""Who may open which page, checked in one place.

Settings pages take the organisation from the signed-in admin, never from the URL, so an admin of
one organisation cannot reach another's settings by editing a link.
"""

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse

from accounts.models import User

View = Callable[..., HttpResponse]


def primary_admin_required(view: View) -> View:
    """Anonymous people are sent to sign in; anyone signed in who is not a primary admin of an
    organisation gets 403. The view receives the admin's organisation as ``organisation``."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        user = request.user
        assert isinstance(user, User)
        if not user.is_primary_admin or user.organisation is None:
            raise PermissionDenied("Only the primary admin of an organisation can open settings.")
        return view(request, *args, organisation=user.organisation, **kwargs)

    return wrapper
