"""The answer to a request the database failed (auzlearn/db_faults.py): 503 with Retry-After.

- under /scim/: a SCIM Error document (scim.handlers), which Okta and Entra retry by themselves;
- the SAML ACS: a page that says the sign-in was not completed and to try again;
- every other page: a plain HTML page.

The pages are files read once at start and served as they are: no template, no context
processor, no session, no user, so nothing on the way out touches the database that just
failed. (The session middleware saves nothing on a 5xx.) The failure is logged once per outage
(db_faults.requests), not a traceback per request, and the broken connection is closed so the
next request opens a new one, to the new primary after a failover.

Two ways in: ``DatabaseFaultMiddleware`` for what a view raises, and the project's handler500
(scim.handlers.server_error) for what a middleware or a template raises afterwards.
"""

from collections.abc import Callable
from pathlib import Path

from django.conf import settings
from django.db import connections
from django.http import HttpRequest, HttpResponse, HttpResponseBase

from auzlearn import db_faults
from auzlearn.db_faults import Fault

_TEMPLATES = Path(settings.BASE_DIR) / "templates"
PAGE = (_TEMPLATES / "503.html").read_bytes()
SIGN_IN_PAGE = (_TEMPLATES / "503_sign_in.html").read_bytes()

# The URL names whose failure is a sign-in the person has to start again.
_SIGN_IN_VIEWS = {"sso:acs"}


def fault_of(error: BaseException | None) -> Fault | None:
    return db_faults.classify(error)


def noted(fault: Fault, error: BaseException) -> None:
    """Log the fault once per outage and drop the connections that saw it."""
    db_faults.requests.failed(fault, error)
    if fault in (Fault.UNAVAILABLE, Fault.READ_ONLY):
        # A cut connection is unusable; a read-only one may be a standby's after a failover,
        # and the next one (through the same host name) reaches the new primary. Django
        # closes unusable connections at the end of the request too (CONN_HEALTH_CHECKS); here
        # it happens whatever the request's state.
        for connection in connections.all(initialized_only=True):
            if not connection.in_atomic_block:
                connection.close()


def mark_logged(response: HttpResponseBase) -> HttpResponseBase:
    # django.request would otherwise log every 5xx, once per request, for the whole outage.
    response._has_been_logged = True  # type: ignore[attr-defined]  # django.utils.log
    return response


def answer(request: HttpRequest, fault: Fault, error: BaseException) -> HttpResponseBase:
    noted(fault, error)
    # Imported here: scim.handlers imports this module for handler500.
    from scim import handlers

    if handlers.is_scim_path(request):
        response: HttpResponseBase = handlers.unavailable_response(fault)
    else:
        match = getattr(request, "resolver_match", None)
        body = SIGN_IN_PAGE if match is not None and match.view_name in _SIGN_IN_VIEWS else PAGE
        response = HttpResponse(body, status=503, content_type="text/html; charset=utf-8")
        response["Retry-After"] = str(db_faults.RETRY_AFTER_SECONDS)
    response["Cache-Control"] = "no-store"
    return mark_logged(response)


class DatabaseFaultMiddleware:
    """Turns a database fault raised by a view into the 503 of ``answer``; other errors go on
    to Django's usual handling (a logged 500)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        return self.get_response(request)

    def process_exception(
        self, request: HttpRequest, exception: Exception
    ) -> HttpResponseBase | None:
        fault = fault_of(exception)
        if fault is None:
            return None
        return answer(request, fault, exception)
