"""The Django admin for support staff: SCIM keys and the SCIM request log, read-only.

Keys are never created or edited here (a key is shown once, to whoever generates it on the SCIM
tab or with ``manage.py scim_key``), and their digest never reaches a page: it is in no list,
form, filter or search. Support can revoke keys, through ``scim.keys.revoke`` as everywhere.
"""

from __future__ import annotations

import json
from typing import TypeVar

from django.contrib import admin, messages
from django.db.models import Model, QuerySet
from django.http import HttpRequest
from django.utils.html import format_html
from django.utils.safestring import SafeString

from accounts.audit import Actor
from accounts.models import User
from scim import keys
from scim.models import ScimKey, ScimRequest

_M = TypeVar("_M", bound=Model)


class _ReadOnlyAdmin(admin.ModelAdmin[_M]):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: _M | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: _M | None = None) -> bool:
        return False


_KEY_FIELDS = (
    "organisation",
    "prefix",
    "created_at",
    "created_by",
    "last_used_at",
    "retires_at",
    "revoked_at",
)


@admin.register(ScimKey)
class ScimKeyAdmin(_ReadOnlyAdmin[ScimKey]):
    list_display = _KEY_FIELDS
    list_select_related = ["organisation", "created_by"]
    list_filter = ["organisation", ("revoked_at", admin.EmptyFieldListFilter)]
    search_fields = ["prefix", "organisation__slug", "organisation__name"]
    ordering = ["-created_at"]
    # Belt and braces: ``fields`` names it not, but the digest must never reach a page.
    exclude = ["digest"]
    fields = _KEY_FIELDS
    readonly_fields = _KEY_FIELDS
    actions = ["revoke_keys"]

    @admin.action(description="Revoke selected keys")
    def revoke_keys(self, request: HttpRequest, queryset: QuerySet[ScimKey]) -> None:
        assert isinstance(request.user, User), "the admin site lets only signed-in staff in"
        actor = Actor.admin(request.user)
        selected = list(queryset.select_related("organisation").order_by("organisation__slug"))
        # keys.revoke stops every key of an organisation: its current key and the previous one
        # in its overlap after a rotation, so each organisation is revoked once.
        done: set[int] = set()
        for key in selected:
            if key.revoked_at is not None:
                self.message_user(request, f"{key}: was already revoked.", messages.INFO)
                continue
            if key.organisation_id in done:
                continue
            done.add(key.organisation_id)
            revoked = keys.revoke(organisation=key.organisation, actor=actor)
            prefixes = ", ".join(f"{prefix}…" for prefix in revoked)
            self.message_user(
                request, f"{key.organisation.slug}: revoked {prefixes}.", messages.SUCCESS
            )


_REQUEST_FIELDS = (
    "created_at",
    "organisation",
    "client",
    "key_prefix",
    "method",
    "path",
    "status",
    "outcome",
    "duration_ms",
    "resource_type",
    "resource_id",
    "resource_label",
    "explanation",
    "summary_json",
)


class _KnownValuesFilter(admin.SimpleListFilter):
    """A filter on a column whose values are known in advance. Django's default for a plain
    column (AllValuesFieldListFilter) finds them by SELECT DISTINCT over the whole log on every
    page; a value the list does not know is ignored rather than sent to the database."""

    column: str
    values: tuple[object, ...]

    def lookups(
        self, request: HttpRequest, model_admin: admin.ModelAdmin[ScimRequest]
    ) -> list[tuple[str, str]]:
        return [(str(value), str(value)) for value in self.values]

    def queryset(
        self, request: HttpRequest, queryset: QuerySet[ScimRequest]
    ) -> QuerySet[ScimRequest]:
        chosen = {str(value): value for value in self.values}.get(self.value() or "")
        return queryset if chosen is None else queryset.filter(**{self.column: chosen})


class _MethodFilter(_KnownValuesFilter):
    title = "method"
    parameter_name = "method__exact"
    column = "method"
    values = ("GET", "POST", "PUT", "PATCH", "DELETE")


class _StatusFilter(_KnownValuesFilter):
    title = "status"
    parameter_name = "status__exact"
    column = "status"
    # What the SCIM API answers (scim.api, scim.errors), and what a client's mistake gets.
    values = (200, 201, 204, 304, 400, 401, 403, 404, 405, 409, 412, 413, 415, 429, 500, 503)


@admin.register(ScimRequest)
class ScimRequestAdmin(_ReadOnlyAdmin[ScimRequest]):
    """The request log behind the Activity tab; pruned by ``manage.py prune_scim_requests``."""

    list_display = [
        "created_at",
        "organisation",
        "client",
        "method",
        "path",
        "status",
        "outcome",
        "resource_label",
        "duration_ms",
    ]
    list_select_related = ["organisation"]
    # The log holds millions of entries (bench/README.md, "The request log at ten million
    # entries"): dates are chosen from ranges rather than by date_hierarchy, whose year links
    # read every entry's date on every page, and the page counts what it shows once, not also
    # the whole log (show_full_result_count).
    list_filter = [
        "organisation",
        "outcome",
        _MethodFilter,
        _StatusFilter,
        ("created_at", admin.DateFieldListFilter),
    ]
    show_full_result_count = False
    search_fields = ["path", "resource_label", "explanation"]
    fields = _REQUEST_FIELDS
    readonly_fields = _REQUEST_FIELDS

    @admin.display(description="Request summary")
    def summary_json(self, entry: ScimRequest) -> SafeString:
        pretty = json.dumps(entry.summary, indent=2, sort_keys=True, ensure_ascii=False)
        return format_html("<pre>{}</pre>", pretty)
