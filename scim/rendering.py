"""SCIM's media type: accept application/scim+json and application/json, answer scim+json."""

from rest_framework.parsers import JSONParser
from rest_framework.renderers import JSONRenderer

SCIM_MEDIA_TYPE = "application/scim+json"


class ScimJSONParser(JSONParser):
    media_type = SCIM_MEDIA_TYPE


class ScimJSONRenderer(JSONRenderer):
    media_type = SCIM_MEDIA_TYPE
    format = "scim+json"
    charset = "utf-8"
