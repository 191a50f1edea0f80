"""The base of every SCIM endpoint: authentication against the Tenant URL, limits, the media
type, conditional requests, and the request log."""

import logging
import time
import uuid
from collections.abc import Iterable
from typing import Any, TypeVar

from django.db import models, transaction
from django.db.models import QuerySet
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.renderers import BaseRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.audit import Actor
from accounts.models import PUBLIC_ID_LENGTH, Organisation
from auzlearn import db_faults
from scim import activity, keys, limits, log_insert, tenant
from scim.authentication import BAD_KEY, ScimKeyAuthentication
from scim.errors import ScimError
from scim.models import ScimKey
from scim.rendering import (
    SCIM_MEDIA_TYPE,
    PlainJSONParser,
    ScimJSONParser,
    ScimJSONRenderer,
    refuse_unstorable,
)

logger = logging.getLogger(__name__)
M = TypeVar("M", bound=models.Model)

MAX_BODY_BYTES = 2 * 1024 * 1024
SCIM_DISABLED = (
    "SCIM provisioning is turned off for this organisation, so its Secret Key is not accepted. "
    "A primary admin can turn it on under Settings → Single Sign-on → SCIM."
)


class AlwaysScim(BaseContentNegotiation):
    """Answer application/scim+json whatever Accept says: Okta asks for application/json, and
    a SCIM client must get SCIM documents either way (RFC 7644 §3.8)."""

    def select_parser(self, request: Request, parsers: Any) -> Any:
        content_type = request.content_type.split(";")[0].strip().lower()
        return next((p for p in parsers if p.media_type == content_type), None)

    def select_renderer(
        self, request: Request, renderers: Iterable[BaseRenderer], format_suffix: str | None = None
    ) -> tuple[BaseRenderer, str]:
        return next(iter(renderers)), SCIM_MEDIA_TYPE


class ScimView(APIView):
    authentication_classes = [ScimKeyAuthentication]
    permission_classes = []
    parser_classes = [ScimJSONParser, PlainJSONParser]
    renderer_classes = [ScimJSONRenderer]
    content_negotiation_class = AlwaysScim
    # SCIM defines no OPTIONS; DRF's answer would describe the view in its own format, so
    # OPTIONS is a 405 like any other method an endpoint does not have.
    metadata_class = None
    resource_type = ""  # "User" or "Group", for the request log

    organisation: Organisation
    actor: Actor

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        self.started = time.monotonic()
        self.target = activity.Target(resource_type=self.resource_type)
        key = self._key_for_this_tenant(request, *args, **kwargs)
        self.organisation = key.organisation
        self.actor = Actor.scim_key(key.prefix)
        limits.check_organisation(self.organisation)  # one cache round trip, no SQL
        if not key.organisation.scim_enabled:
            raise ScimError(403, SCIM_DISABLED)
        keys.note_use(key)
        if _content_length(request) > MAX_BODY_BYTES:
            raise ScimError(413, f"The request body is larger than {MAX_BODY_BYTES} bytes.")
        # Bodies are checked as they are parsed (scim.rendering); the query string gets the
        # same check here, since Django decodes "%00" in it to a NUL.
        refuse_unstorable(dict(request.query_params))

    def _key_for_this_tenant(self, request: Request, *args: Any, **kwargs: Any) -> ScimKey:
        """The request's key, valid for the organisation of the Tenant URL. Any other request (no
        key, a wrong, revoked or expired key, another organisation's key) counts against its
        client address's limit: 429 when over it, else 401."""
        try:
            super().initial(request, *args, **kwargs)  # authenticates: a bad key stops here
            key = request.auth
            assert isinstance(key, ScimKey)  # ScimKeyAuthentication put it there
            # A valid key of another organisation gets exactly the answer a wrong key gets.
            if key.organisation.public_id != kwargs.get("organisation_id"):
                raise AuthenticationFailed(BAD_KEY)
        except AuthenticationFailed:
            limits.check_unauthenticated(request)
            raise
        return key

    def body(self, request: Request) -> dict[str, Any]:
        data = request.data
        if not isinstance(data, dict):
            raise ScimError(400, "The request body must be a JSON object.", "invalidValue")
        return data

    def tenant_url(self) -> str:
        return tenant.tenant_url(self.organisation)

    # --- conditional requests (RFC 7644 §3.14) ---

    @staticmethod
    def check_if_match(request: Request, version: str) -> None:
        wanted = request.META.get("HTTP_IF_MATCH")
        if wanted and wanted.strip() != "*" and version not in _etags(wanted):
            raise ScimError(
                412,
                "The resource changed since you read it (If-Match does not match its version). "
                "Read it again and retry.",
            )

    @staticmethod
    def not_modified(request: Request, version: str) -> bool:
        current = request.META.get("HTTP_IF_NONE_MATCH")
        return bool(current) and version in _etags(current or "")

    # --- the request log ---

    def finalize_response(
        self, request: Request, response: Response, *args: Any, **kwargs: Any
    ) -> Response:
        response = super().finalize_response(request, response, *args, **kwargs)
        organisation = getattr(self, "organisation", None)
        if organisation is None and response.status_code != 401:
            return response  # no valid key, and over its address's limit: not even counted
        try:
            if organisation is not None:
                self._log(request, response, organisation)  # its own transaction (log_insert)
            else:
                with transaction.atomic():  # a failed insert must not break an outer one
                    log_insert.without_waiting_for_disk()
                    _count_refusal(kwargs.get("organisation_id", ""))
        except Exception as error:  # the log must never turn a good answer into an error
            fault = db_faults.classify(error)
            if fault is None:
                logger.exception("Could not record a SCIM request")
            else:
                # Skipped, not kept for later: a read goes on while the database takes no
                # writes, and the outage is logged once (README, Operations).
                _unlogged.failed(fault, error)
        return response

    def _log(self, request: Request, response: Response, organisation: Organisation) -> None:
        target = getattr(self, "target", activity.Target(resource_type=self.resource_type))
        client = activity.client_name(request.META.get("HTTP_USER_AGENT", ""))
        explanation = ""
        if response.status_code >= 400:
            detail = response.data.get("detail", "") if isinstance(response.data, dict) else ""
            action = activity.describe_action(
                request.method or "GET",
                target.resource_type,
                target.label,
                collection="resource_id" not in self.kwargs,
            )
            explanation = activity.explain_failure(client, action, response.status_code, detail)
        elif target.ignored:
            explanation = activity.note_ignored(client, target.ignored)
        key = request.auth if isinstance(request.auth, ScimKey) else None
        activity.record(
            organisation=organisation,
            client=client,
            key_prefix=key.prefix if key else "",
            method=request.method or "",
            path=request.get_full_path(),
            status=response.status_code,
            started=getattr(self, "started", time.monotonic()),
            finished=time.monotonic(),
            target=target,
            body=_parsed_body(request),
            explanation=explanation,
            answer=response.data,
        )


_unlogged = db_faults.Outage(logger, "SCIM request log entries skipped")


def by_public_id(rows: QuerySet[M], resource_id: str) -> M | None:
    """The row with this SCIM id, or None, also when the id is not a UUID at all (Okta probes
    with ids like 010101001010101011001010101011 and expects a 404)."""
    try:
        public_id = uuid.UUID(resource_id)
    except ValueError:
        return None
    return rows.filter(public_id=public_id).first()


def _content_length(request: Request) -> int:
    """The declared body size. A header that is not a number is read as 0, as Django reads
    it (and then reads no body), rather than failing the request."""
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0


def _etags(header: str) -> set[str]:
    return {tag.strip() for tag in header.split(",") if tag.strip()}


def _count_refusal(public_id: str) -> None:
    """A request without a valid key for this Tenant URL: nothing it sent (path, body, headers,
    not even the key's prefix) is stored, only counted for the organisation the URL names, if
    there is one (DESIGN §5), for the Activity tab."""
    if len(public_id) != PUBLIC_ID_LENGTH:
        return
    organisation_id = Organisation.objects.filter(public_id=public_id).values_list("pk").first()
    if organisation_id is not None:
        activity.count_refused(organisation_id[0])


def _parsed_body(request: Request) -> Any:
    if request.method in ("GET", "DELETE", "HEAD"):
        return None
    try:
        return request.data
    except Exception:  # unparseable bodies are explained by the error itself
        return None
