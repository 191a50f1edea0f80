"""The Tenant URL is <PUBLIC_BASE_URL>/scim/v2/<organisation public id> (DESIGN §3).

Clients join paths differently (some add a slash to the Tenant URL, some a trailing slash to
resources), so each route accepts repeated and trailing slashes. Anything else below /scim/
answers a SCIM 404, never an HTML page: the last pattern takes every such path, newlines
included (which "." alone does not match). What no pattern can see ("//scim/…", from a base
URL that ends in a slash) gets the same answer from the project's handler404 (scim.handlers).
"""

from collections.abc import Callable

from django.http import HttpResponseBase
from django.urls import URLPattern, re_path

from scim.handlers import unknown_path
from scim.views.discovery import (
    NotSupportedView,
    ResourceTypesView,
    SchemasView,
    ServiceProviderConfigView,
    limits,
)
from scim.views.groups import GroupsSearchView, GroupsView, GroupView
from scim.views.users import UsersSearchView, UsersView, UserView

app_name = "scim"

TENANT = r"^scim/v2/(?P<organisation_id>[0-9a-f]{20})/+"
ID = r"(?P<resource_id>[^/]+)"


def route(pattern: str, view: Callable[..., HttpResponseBase], name: str) -> URLPattern:
    return re_path(TENANT + pattern + r"/*$", view, name=name)


urlpatterns = [
    route("Users", UsersView.as_view(), "users"),
    route(r"Users/\.search", UsersSearchView.as_view(), "users-search"),
    route(f"Users/{ID}", UserView.as_view(), "user"),
    route("Groups", GroupsView.as_view(), "groups"),
    route(r"Groups/\.search", GroupsSearchView.as_view(), "groups-search"),
    route(f"Groups/{ID}", GroupView.as_view(), "group"),
    route("ServiceProviderConfig", ServiceProviderConfigView.as_view(), "service-provider-config"),
    route("ResourceTypes", ResourceTypesView.as_view(), "resource-types"),
    route(r"ResourceTypes/(?P<name>[^/]+)", ResourceTypesView.as_view(), "resource-type"),
    route("Schemas", SchemasView.as_view(), "schemas"),
    route(r"Schemas/(?P<urn>[^/]+)", SchemasView.as_view(), "schema"),
    route("Me", NotSupportedView.as_view(feature="/Me"), "me"),
    route("Bulk", NotSupportedView.as_view(feature="/Bulk"), "bulk"),
    route(
        r"\.search",
        NotSupportedView.as_view(feature="Searching several resource types at once"),
        "search",
    ),
    re_path(r"^scim/limits/$", limits, name="limits"),
    re_path(r"^scim(?:/[\s\S]*)?$", unknown_path, name="unknown"),
]
