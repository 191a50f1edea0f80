from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render, resolve_url
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET

from accounts import throttle
from accounts.forms import SignInForm
from accounts.models import User
from accounts.profile import profile_of


@sensitive_post_parameters("password")
@csrf_protect
@never_cache
def sign_in(request: HttpRequest) -> HttpResponse:
    next_url = request.POST.get("next") or request.GET.get("next") or ""
    if request.method == "POST":
        form = SignInForm(request, data=request.POST)
        if form.is_valid():
            assert form.user is not None
            login(request, form.user)  # rotates the session key
            return HttpResponseRedirect(_safe_next(request, next_url))
    else:
        form = SignInForm(request, initial={"organisation": request.GET.get("organisation", "")})
    response = render(request, "accounts/sign_in.html", {"form": form, "next": next_url})
    return throttle.refused(response, form.retry_after) if form.retry_after else response


@login_required
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    assert isinstance(request.user, User)
    return render(request, "accounts/home.html", {"profile": profile_of(request.user)})


@require_GET
@never_cache
def me_json(request: HttpRequest) -> JsonResponse:
    """The signed-in person as JSON, for scripts and monitoring."""
    if not request.user.is_authenticated:
        return JsonResponse({"authenticated": False})
    assert isinstance(request.user, User)
    return JsonResponse({"authenticated": True, **profile_of(request.user).as_json()})


def _safe_next(request: HttpRequest, next_url: str) -> str:
    if next_url and url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return next_url
    return resolve_url("accounts:home")
