"""/ServiceProviderConfig, /ResourceTypes and /Schemas describe exactly what we support (RFC
7643 §5 to §7); /Me and /Bulk say plainly that they are not supported."""

from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from rest_framework.request import Request
from rest_framework.response import Response

from scim import filters, groups, patch, rendering
from scim.api import MAX_BODY_BYTES, ScimView
from scim.documents import list_response
from scim.errors import ScimError, not_found
from scim.query import MAX_COUNT
from scim.schema import RESOURCE_TYPES, SCHEMAS, ResourceType, Schema

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
        if name is None:
            documents = [self._document(resource) for resource in RESOURCE_TYPES]
            return Response(list_response(documents, total=len(documents), start_index=1))
        resource = next((r for r in RESOURCE_TYPES if r.name.lower() == name.lower()), None)
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
        if resource.extensions:
            document["schemaExtensions"] = [
                {"schema": extension.id, "required": False} for extension in resource.extensions
            ]
        return document


class SchemasView(ScimView):
    def get(self, request: Request, organisation_id: str, urn: str | None = None) -> Response:
        if urn is None:
            documents = [self._document(schema) for schema in SCHEMAS]
            return Response(list_response(documents, total=len(documents), start_index=1))
        schema = next((s for s in SCHEMAS if s.id.lower() == urn.lower()), None)
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
            "rate_limit": settings.SCIM_RATE_LIMIT_PER_MINUTE,
            "unauthenticated_rate_limit": settings.SCIM_UNAUTHENTICATED_RATE_LIMIT_PER_MINUTE,
        },
    )


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
