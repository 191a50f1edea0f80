"""Every failure of a SCIM request becomes a SCIM Error document here (RFC 7644 §3.12).

No HTML error page and no stack trace ever reaches a SCIM client: DRF's exceptions are
translated, and anything unexpected is logged and answered with a plain 500. What escapes DRF
altogether (a failure while rendering, in finalize_response or in a middleware, a URL no
pattern matches) reaches Django's error handlers, which the project points at the functions at
the end of this module: under /scim/ they answer in SCIM's format, elsewhere with the site's
pages.

A passing fault of the database (unreachable, read-only after a failover, a lock or statement
timeout, a conflict retried to the end: auzlearn/db_faults.py) is a 503 with Retry-After, which
Okta and Entra retry by themselves, logged once per outage rather than per request.
"""

import json
import logging
import re
import sys
from typing import Any

from django.core.exceptions import RequestDataTooBig, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase, JsonResponse
from django.views import defaults
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions
from rest_framework.response import Response

from accounts.errors import AccountsError, TeamNameTaken, UserConflict, UserDeleted
from auzlearn import db_faults, unavailable
from auzlearn.db_faults import Fault
from scim.errors import ScimError, invalid_syntax, invalid_value, uniqueness
from scim.fields import SCIM_NAMES
from scim.rendering import SCIM_MEDIA_TYPE

logger = logging.getLogger(__name__)

UNEXPECTED = "Something went wrong on our side; it has been logged. Retry the request later."
_RETRY = (
    f"Retry the request in {db_faults.RETRY_AFTER_SECONDS} seconds (Okta and Entra do so by "
    "themselves, after Retry-After)."
)
UNAVAILABLE = {
    Fault.UNAVAILABLE: (
        f"The service is temporarily unavailable (its database cannot be reached). {_RETRY}"
    ),
    Fault.READ_ONLY: (
        "The service is temporarily unavailable for changes (its database accepts only reads "
        f"for a moment); reading users and groups still works. {_RETRY}"
    ),
    Fault.TIMED_OUT: (
        "The service is temporarily unavailable: this request waited too long for a busy "
        f"database and was stopped. {_RETRY}"
    ),
    Fault.CONFLICT: (
        "The service is temporarily unavailable: this change kept colliding with other changes "
        f"made at the same moment. {_RETRY}"
    ),
}


def unavailable_error(fault: Fault) -> ScimError:
    return ScimError(503, UNAVAILABLE[fault], retry_after=db_faults.RETRY_AFTER_SECONDS)


def unavailable_response(fault: Fault) -> JsonResponse:
    """A SCIM 503 built without the database or DRF (auzlearn.unavailable)."""
    error = unavailable_error(fault)
    response = error_response(error)
    response["Retry-After"] = str(error.retry_after)
    return response


def as_scim_error(exc: Exception) -> ScimError:
    if isinstance(exc, ScimError):
        return exc
    if isinstance(exc, exceptions.ParseError):
        return invalid_syntax(f"The request body is not valid JSON ({exc.detail}).")
    if isinstance(exc, exceptions.AuthenticationFailed | exceptions.NotAuthenticated):
        return ScimError(401, str(exc.detail))
    if isinstance(exc, exceptions.PermissionDenied):
        return ScimError(403, str(exc.detail))
    if isinstance(exc, exceptions.MethodNotAllowed):
        return ScimError(405, str(exc.detail))
    if isinstance(exc, exceptions.UnsupportedMediaType):
        return ScimError(415, "Send the request body as application/scim+json or application/json.")
    if isinstance(exc, exceptions.NotAcceptable):
        return ScimError(406, "Responses are application/scim+json.")
    if isinstance(exc, Http404 | exceptions.NotFound):
        return ScimError(404, "No such resource.")
    if isinstance(exc, RequestDataTooBig):
        return ScimError(413, "The request body is too large.")
    if isinstance(exc, UserConflict | TeamNameTaken):
        return uniqueness(str(exc))
    if isinstance(exc, UserDeleted):
        return ScimError(404, "No such resource.")
    if isinstance(exc, AccountsError):
        return invalid_value(str(exc))
    if isinstance(exc, ValidationError):
        return invalid_value(_describe(exc))
    fault = unavailable.fault_of(exc)
    if fault is not None:
        unavailable.noted(fault, exc)
        return unavailable_error(fault)
    logger.exception("Unexpected error in a SCIM request", exc_info=exc)
    return ScimError(500, UNEXPECTED)


def _describe(error: ValidationError) -> str:
    if not hasattr(error, "error_dict"):
        return " ".join(error.messages)
    return " ".join(
        f'"{SCIM_NAMES.get(name, name)}": {" ".join(messages)}'
        for name, messages in error.message_dict.items()
    )


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response:
    """DRF's EXCEPTION_HANDLER: only the SCIM API uses DRF."""
    error = as_scim_error(exc)
    response = Response(error.as_document(), status=error.status, content_type=SCIM_MEDIA_TYPE)
    if error.status == 401:
        response["WWW-Authenticate"] = 'Bearer realm="SCIM"'
    if error.retry_after is not None:
        response["Retry-After"] = str(error.retry_after)
    if error.status == 503:
        # Logged once per outage (db_faults); django.request would log each one.
        unavailable.mark_logged(response)
    return response


def error_response(error: ScimError) -> JsonResponse:
    """For the few SCIM answers given outside DRF (unknown paths under the Tenant URL)."""
    return JsonResponse(error.as_document(), status=error.status, content_type=SCIM_MEDIA_TYPE)


@csrf_exempt  # a SCIM client's POST to a wrong path must get this 404, not a CSRF page
def unknown_path(request: HttpRequest, **kwargs: Any) -> JsonResponse:
    return error_response(
        ScimError(404, f"There is no SCIM endpoint at {request.path}. Check the Tenant URL.")
    )


# --- Django's handler400/403/404/500 (auzlearn/urls.py) ---

# Leading slashes repeated too: a client that joins "https://host/" and "/scim/v2/…" sends
# "//scim/v2/…", which no URL pattern can match (Django's own check refuses patterns that
# start with a slash), and it is still a SCIM client.
_SCIM_PATH = re.compile(r"/+scim(?:/|\Z)")

# Built once, so that answering cannot itself fail: this is the answer of last resort.
_SERVER_ERROR = json.dumps(ScimError(500, UNEXPECTED).as_document()).encode()


def is_scim_path(request: HttpRequest) -> bool:
    return _SCIM_PATH.match(request.path_info) is not None


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponseBase:
    if not is_scim_path(request):
        return defaults.bad_request(request, exception)
    if isinstance(exception, RequestDataTooBig):
        return error_response(ScimError(413, "The request body is too large."))
    return error_response(
        ScimError(400, "The request could not be read (a malformed header or body).")
    )


def permission_denied(request: HttpRequest, exception: Exception) -> HttpResponseBase:
    if not is_scim_path(request):
        return defaults.permission_denied(request, exception)
    return error_response(ScimError(403, "This request is not allowed."))


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponseBase:
    if not is_scim_path(request):
        return defaults.page_not_found(request, exception)
    return unknown_path(request)


def server_error(request: HttpRequest) -> HttpResponseBase:
    """Django calls this from its handling of the exception, before logging it (django.request,
    which a database fault's answer skips); nothing here may fail."""
    error = sys.exception()
    fault = unavailable.fault_of(error)
    if fault is not None and error is not None:
        return unavailable.answer(request, fault, error)
    if not is_scim_path(request):
        return defaults.server_error(request)
    return HttpResponse(_SERVER_ERROR, status=500, content_type=SCIM_MEDIA_TYPE)
