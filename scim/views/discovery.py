"""/ServiceProviderConfig, /ResourceTypes and /Schemas describe exactly what we support (RFC
7643 §5 to §7); /Me and /Bulk say plainly that they are not supported.

/ResourceTypes and /Schemas are the organisation's: User lists its own attributes as one more
extension (scim.schema.CUSTOM_USER) when it has defined some."""

from typing import Any

from django.conf import settings
from django.db.models import CharField
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.custom_attributes import MAX_TEXT_LENGTH
from accounts.models import MAX_PROFILE_VALUES, PROFILE_LISTS, User
from scim import fields, filters, groups, patch, rendering, users
from scim.api import MAX_BODY_BYTES, ScimView
from scim.cursors import CURSOR_TIMEOUT_SECONDS
from scim.documents import list_response
from scim.errors import ScimError, not_found
from scim.query import DEFAULT_COUNT, MAX_COUNT
from scim.schema import GROUP, GROUP_SCHEMA, USER_SCHEMA, ResourceType, Schema

SPC_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"
RESOURCE_TYPE_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:ResourceType"
SCHEMA_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:Schema"


class ServiceProviderConfigView(ScimView):
    def get(self, request: Request, organisation_id: str) -> Response:
        return Response(
            {
                "schemas": [SPC_SCHEMA],
                # The standard attributes have no place for our other limits (operations per
                # PATCH, members per request, filter length): the documentation page lists them.
                "documentationUri": f"{settings.PUBLIC_BASE_URL}{reverse('scim:limits')}",
                "patch": {"supported": True},
                "bulk": {"supported": False, "maxOperations": 0, "maxPayloadSize": 0},
                "filter": {"supported": True, "maxResults": MAX_COUNT},
                "changePassword": {"supported": False},
                "sort": {"supported": True},
                "etag": {"supported": True},
                # RFC 9865 §4. Index pagination stays the default: Okta and Entra page by
                # startIndex. Cursor pages cost the same at any depth (scim/cursors.py).
                "pagination": {
                    "cursor": True,
                    "index": True,
                    "defaultPaginationMethod": "index",
                    "defaultPageSize": DEFAULT_COUNT,
                    "maxPageSize": MAX_COUNT,
                    "cursorTimeout": CURSOR_TIMEOUT_SECONDS,
                },
                "authenticationSchemes": [
                    {
                        "type": "oauthbearertoken",
                        "name": "Bearer token",
                        "description": (
                            "The Secret Key from Settings → Single Sign-on → SCIM, sent as "
                            "Authorization: Bearer <key>."
                        ),
                        "primary": True,
                    }
                ],
                "meta": {
                    "resourceType": "ServiceProviderConfig",
                    "location": f"{self.tenant_url()}/ServiceProviderConfig",
                },
            }
        )


class ResourceTypesView(ScimView):
    def get(self, request: Request, organisation_id: str, name: str | None = None) -> Response:
        resource_types = (users.user_type_of(self.organisation), GROUP)
        if name is None:
            documents = [self._document(resource) for resource in resource_types]
            return Response(list_response(documents, total=len(documents), start_index=1))
        resource = next((r for r in resource_types if r.name.lower() == name.lower()), None)
        if resource is None:
            raise not_found(f'No resource type "{name[:64]}"; there are User and Group.')
        return Response(self._document(resource))

    def _document(self, resource: ResourceType) -> dict[str, Any]:
        document: dict[str, Any] = {
            "schemas": [RESOURCE_TYPE_SCHEMA],
            "id": resource.name,
            "name": resource.name,
            "endpoint": resource.endpoint,
            "description": resource.description,
            "schema": resource.schema.id,
            "meta": {
                "resourceType": "ResourceType",
                "location": f"{self.tenant_url()}/ResourceTypes/{resource.name}",
            },
        }
        extensions = resource.published_extensions()
        if extensions:
            document["schemaExtensions"] = [
                {"schema": extension.id, "required": False} for extension in extensions
            ]
        return document


class SchemasView(ScimView):
    def get(self, request: Request, organisation_id: str, urn: str | None = None) -> Response:
        user_type = users.user_type_of(self.organisation)
        schemas = (USER_SCHEMA, *user_type.published_extensions(), GROUP_SCHEMA)
        if urn is None:
            documents = [self._document(schema) for schema in schemas]
            return Response(list_response(documents, total=len(documents), start_index=1))
        schema = next((s for s in schemas if s.id.lower() == urn.lower()), None)
        if schema is None:
            raise not_found(f'No schema "{urn[:120]}".')
        return Response(self._document(schema))

    def _document(self, schema: Schema) -> dict[str, Any]:
        return {
            "schemas": [SCHEMA_SCHEMA],
            "id": schema.id,
            "name": schema.name,
            "description": schema.description,
            "attributes": [attribute.as_document() for attribute in schema.attributes],
            "meta": {
                "resourceType": "Schema",
                "location": f"{self.tenant_url()}/Schemas/{schema.id}",
            },
        }


def limits(request: HttpRequest) -> HttpResponse:
    """The documentationUri of /ServiceProviderConfig: what the API accepts, for people."""
    return render(
        request,
        "scim/limits.html",
        {
            "max_patch_operations": patch.MAX_OPERATIONS,
            "max_members": groups.MAX_MEMBERS_PER_REQUEST,
            "max_body_bytes": MAX_BODY_BYTES,
            "max_depth": rendering.MAX_DEPTH,
            "max_filter_length": filters.MAX_FILTER_LENGTH,
            "max_results": MAX_COUNT,
            "max_values": MAX_PROFILE_VALUES,
            "text_lengths": _text_lengths(),
            "max_custom_text": MAX_TEXT_LENGTH,
            "rate_limit": settings.SCIM_RATE_LIMIT_PER_MINUTE,
            "unauthenticated_rate_limit": settings.SCIM_UNAUTHENTICATED_RATE_LIMIT_PER_MINUTE,
        },
    )


def _text_lengths() -> list[tuple[str, int]]:
    """The longest text each User attribute keeps, as clients name them: the columns' lengths
    and those of the values of multi-valued attributes (accounts.models)."""
    lengths = [("userName", _max_length("username")), ("externalId", _max_length("external_id"))]
    lengths += [(text.label, _max_length(text.field)) for text in fields.TEXT]
    for attribute, column in fields.LISTS.items():
        lengths += [(f"{attribute}.{sub}", n) for sub, n in PROFILE_LISTS[column].items()]
    return lengths


def _max_length(name: str) -> int:
    field = User._meta.get_field(name)
    assert isinstance(field, CharField) and field.max_length is not None  # every profile column
    return field.max_length


class NotSupportedView(ScimView):
    """/Me and /Bulk: advertised as unsupported, and answered so."""

    feature = ""

    def _refuse(self) -> Response:
        raise ScimError(501, f"{self.feature} is not supported by this service provider.")

    def get(self, request: Request, organisation_id: str) -> Response:
        return self._refuse()

    def post(self, request: Request, organisation_id: str) -> Response:
        return self._refuse()

    def put(self, request: Request, organisation_id: str) -> Response:
        return self._refuse()

    def patch(self, request: Request, organisation_id: str) -> Response:
        return self._refuse()

    def delete(self, request: Request, organisation_id: str) -> Response:
        return self._refuse()
