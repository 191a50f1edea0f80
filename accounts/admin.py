"""The Django admin for support staff (users with no organisation).

Every save goes through ``accounts.services``, as everywhere else: the admin's forms only parse
and validate input. When a service refuses a change (a manager of another organisation, a
cycle, a member of another organisation, a name already taken), everything the request saved is
rolled back and the same form is shown again with the service's message next to the field.

Password hashes are never rendered: the password field is left out of every form, and a new
user's optional first password is a separate write-only field.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime
from typing import Any, TypeVar

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.widgets import AutocompleteSelectMultiple, ForeignKeyRawIdWidget
from django.contrib.auth import password_validation
from django.contrib.auth.models import Group
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db.models import Count, Exists, Model, OuterRef, Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from accounts import profile, services
from accounts.audit import Actor
from accounts.errors import (
    AccountsError,
    ManagerRefused,
    MembersRefused,
    OrganisationSlugTaken,
    TeamNameTaken,
    UserConflict,
    UserDeleted,
)
from accounts.models import AuditEvent, Organisation, Role, Team, User

_M = TypeVar("_M", bound=Model)

admin.site.site_header = "auzlearn support"
admin.site.site_title = "auzlearn support"
# Support staff are superusers; groups and per-model permissions are not used.
admin.site.unregister(Group)

ORGANISATION_FIELDS = ("name", "scim_enabled", "sso_required")
_USER_IDENTITY_FIELDS = ("username", "external_id", "email", "role")
_USER_DETAIL_FIELDS = (
    "honorific_prefix",
    "given_name",
    "middle_name",
    "family_name",
    "honorific_suffix",
    "formatted_name",
    "display_name",
    "nick_name",
    "title",
    "user_type",
    "preferred_language",
    "locale",
    "timezone",
    "profile_url",
)
_USER_WORK_FIELDS = ("employee_number", "company", "division", "department", "cost_center")
# What services.user_update changes; manager, status and record fields have their own services.
# The multi-valued attributes (emails, phone numbers, addresses, photos) and the organisation's
# own attributes are shown read-only: the identity provider keeps them (the email field changes
# the sign-in address, one of the emails).
USER_PROFILE_FIELDS = (*_USER_IDENTITY_FIELDS, *_USER_DETAIL_FIELDS, *_USER_WORK_FIELDS)
TEAM_FIELDS = ("display_name", "external_id")


# --- service errors as form errors -----------------------------------------------------------

_FormErrors = tuple[tuple[str | None, str], ...]

# The errors of a refused service call, while the admin renders the refused form again.
_refused_errors: ContextVar[_FormErrors] = ContextVar("refused_errors", default=())


class _Refused(Exception):
    """A service refused the change. Raised inside the admin's transaction so that everything
    the request saved before the refusal is rolled back."""

    def __init__(self, errors: _FormErrors) -> None:
        super().__init__(errors)
        self.errors = errors


def _form_field_of(error: AccountsError) -> str | None:
    """The form field an error is about; None shows it above the form."""
    if isinstance(error, UserConflict):
        return {"userName": "username", "externalId": "external_id"}.get(error.field)
    if isinstance(error, OrganisationSlugTaken):
        return "slug"
    if isinstance(error, TeamNameTaken):
        return "display_name"
    if isinstance(error, ManagerRefused):
        return "manager"
    if isinstance(error, MembersRefused):
        return "team_members"
    return None


def _form_errors_of(error: ValidationError) -> _FormErrors:
    if not hasattr(error, "error_dict"):
        return tuple((None, message) for message in error.messages)
    return tuple(
        (None if field == NON_FIELD_ERRORS else field, message)
        for field, field_messages in error.message_dict.items()
        for message in field_messages
    )


@contextmanager
def _refusals_as_form_errors() -> Iterator[None]:
    try:
        yield
    except ValidationError as error:
        raise _Refused(_form_errors_of(error)) from error
    except AccountsError as error:
        raise _Refused(((_form_field_of(error), str(error)),)) from error


class ServiceForm(forms.ModelForm[_M]):
    """A form of a ``ServiceAdmin``: shows the errors of a refused service call."""

    def clean(self) -> dict[str, Any] | None:
        cleaned_data = super().clean()
        for field, message in _refused_errors.get():
            self.add_error(field if field in self.fields else None, message)
        return cleaned_data


class ServiceAdmin(admin.ModelAdmin[_M]):
    """A ModelAdmin whose ``save_model``/``save_related`` call services inside
    ``_refusals_as_form_errors()``."""

    def changeform_view(
        self,
        request: HttpRequest,
        object_id: str | None = None,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except _Refused as refused:
            # The exception left the view's transaction, which rolled back: nothing was saved.
            # Handle the same POST again; this time the form is invalid with the service's errors
            # (ServiceForm.clean), so the admin renders it as it renders any invalid form.
            token = _refused_errors.set(refused.errors)
            try:
                return super().changeform_view(request, object_id, form_url, extra_context)
            finally:
                _refused_errors.reset(token)


def _actor(request: HttpRequest) -> Actor:
    user = request.user
    assert isinstance(user, User), "the admin site lets only signed-in staff in"
    return Actor.admin(user)


def _changed(form: forms.BaseForm, names: Iterable[str]) -> dict[str, Any]:
    return {name: form.cleaned_data[name] for name in names if name in form.changed_data}


def _adopt(obj: Model, saved: Model) -> None:
    """Make the admin's form instance the row a service saved, for the admin's log entry,
    message and redirect. (The form wrote its values onto ``obj``; the services worked on a
    copy fetched from the database, since they compare new values with stored ones.)"""
    obj.pk = saved.pk
    obj.refresh_from_db()
    obj._state.adding = False


# --- organisations ---------------------------------------------------------------------------


def _active_primary_admins() -> QuerySet[User]:
    """The people who can look after an organisation's settings: primary admins who can sign in.
    SCIM may deactivate the last of them (the identity provider knows who has left); support
    staff then promote someone with the "Make primary admin" action on the people list."""
    return User.objects.filter(role=Role.PRIMARY_ADMIN, is_active=True, deleted_at__isnull=True)


class HasPrimaryAdminFilter(admin.SimpleListFilter):
    title = "active primary admin"
    parameter_name = "primary_admin"

    def lookups(
        self, request: HttpRequest, model_admin: admin.ModelAdmin[Any]
    ) -> list[tuple[str, str]]:
        return [("yes", "Yes"), ("no", "None")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if self.value() in ("yes", "no"):
            return queryset.filter(has_primary_admin=self.value() == "yes")
        return queryset


class OrganisationForm(ServiceForm[Organisation]):
    pass


@admin.register(Organisation)
class OrganisationAdmin(ServiceAdmin[Organisation]):
    form = OrganisationForm
    list_display = [
        "name",
        "slug",
        "public_id",
        "has_primary_admin",
        "scim_enabled",
        "sso_required",
        "created_at",
    ]
    list_filter = [HasPrimaryAdminFilter]
    search_fields = ["name", "slug"]
    readonly_fields = ["public_id", "created_at", "primary_admins"]
    add_fieldsets = [(None, {"fields": ["slug", "name"]})]
    fieldsets = [
        (None, {"fields": ["name", "slug", "public_id", "created_at", "primary_admins"]}),
        ("Sign-in and provisioning", {"fields": ["scim_enabled", "sso_required"]}),
    ]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Organisation]:
        # One EXISTS per row in the list's own query, not a query per organisation.
        has_admin = Exists(_active_primary_admins().filter(organisation=OuterRef("pk")))
        return super().get_queryset(request).annotate(has_primary_admin=has_admin)

    @admin.display(boolean=True, description="Active primary admin", ordering="has_primary_admin")
    def has_primary_admin(self, organisation: Organisation) -> bool:
        return bool(organisation.has_primary_admin)  # type: ignore[attr-defined]  # annotated

    @admin.display(description="Active primary admins")
    def primary_admins(self, organisation: Organisation) -> SafeString:
        people_url = reverse("admin:accounts_user_changelist")
        people = f"{people_url}?organisation__id__exact={organisation.pk}"
        admins = list(
            _active_primary_admins().filter(organisation=organisation).order_by("username")
        )
        if not admins:
            return format_html(
                "<strong>None: nobody can manage this organisation's settings.</strong> Select "
                'someone among <a href="{}">its people</a> and use the action '
                "“Make primary admin”.",
                people,
            )
        return format_html_join(
            ", ",
            '<a href="{}">{}</a>',
            ((reverse("admin:accounts_user_change", args=[u.pk]), u.username) for u in admins),
        )

    def get_fieldsets(
        self, request: HttpRequest, obj: Organisation | None = None
    ) -> Any:  # the stubs' _FieldsetSpec is private
        return self.add_fieldsets if obj is None else super().get_fieldsets(request, obj)

    def get_readonly_fields(self, request: HttpRequest, obj: Organisation | None = None) -> Any:
        # The slug is part of the organisation's URLs (SCIM base URL, SSO), so it never changes.
        if obj is None:
            return self.readonly_fields
        return [*self.readonly_fields, "slug"]

    def has_delete_permission(self, request: HttpRequest, obj: Organisation | None = None) -> bool:
        return False

    def save_model(
        self, request: HttpRequest, obj: Organisation, form: forms.BaseForm, change: bool
    ) -> None:
        actor = _actor(request)
        with _refusals_as_form_errors():
            if change:
                organisation = services.organisation_update(
                    organisation=Organisation.objects.get(pk=obj.pk),
                    actor=actor,
                    **_changed(form, ORGANISATION_FIELDS),
                )
            else:
                organisation = services.organisation_create(
                    actor=actor, slug=form.cleaned_data["slug"], name=form.cleaned_data["name"]
                )
        _adopt(obj, organisation)


# --- users -----------------------------------------------------------------------------------


class DeletedFilter(admin.SimpleListFilter):
    title = "deleted"
    parameter_name = "deleted"

    def lookups(
        self, request: HttpRequest, model_admin: admin.ModelAdmin[Any]
    ) -> list[tuple[str, str]]:
        return [("yes", "Yes"), ("no", "No")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if self.value() == "yes":
            return queryset.filter(deleted_at__isnull=False)
        if self.value() == "no":
            return queryset.filter(deleted_at__isnull=True)
        return queryset


class RoleFilter(admin.SimpleListFilter):
    """The role as people read it: support staff have no organisation, so the role column
    they hold in the database (the model's default) means nothing for them."""

    title = "role"
    parameter_name = "role"
    SUPPORT_STAFF = "support_staff"

    def lookups(
        self, request: HttpRequest, model_admin: admin.ModelAdmin[Any]
    ) -> list[tuple[str, str]]:
        return [(self.SUPPORT_STAFF, SUPPORT_STAFF_ROLE), *Role.choices]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if self.value() == self.SUPPORT_STAFF:
            return queryset.filter(organisation__isnull=True)
        if self.value() in Role.values:
            return queryset.filter(organisation__isnull=False, role=self.value())
        return queryset


class _ChosenPersonFilter(admin.SimpleListFilter):
    """A filter by one person, reached from a link on that person's page (never a list of
    everyone: there may be a million). Shown, with the person's name, only while it is on;
    a value that names nobody shows nothing rather than everything."""

    def lookups(
        self, request: HttpRequest, model_admin: admin.ModelAdmin[Any]
    ) -> list[tuple[str, str]]:
        value = self.value()
        if value is None:
            return []
        person = _person_by_pk(value)
        return [(value, person_label(person) if person is not None else "nobody")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value()
        if value is None:
            return queryset
        person = _person_by_pk(value)
        if person is None:
            return queryset.none()
        return queryset.filter(self.condition_for(person))

    @staticmethod
    def condition_for(person: User) -> Q:
        raise NotImplementedError


class ReportsOfFilter(_ChosenPersonFilter):
    title = "reports of"
    parameter_name = "reports_of"

    @staticmethod
    def condition_for(person: User) -> Q:
        return Q(manager=person)


def _person_by_pk(value: str) -> User | None:
    """The person with this id, or None for anything else a URL may carry ("abc", "²", a
    number too big for the column: each would fail the query rather than name nobody)."""
    if not re.fullmatch(r"[0-9]{1,18}", value):
        return None
    return User.objects.filter(pk=int(value)).first()


SUPPORT_STAFF_ROLE = "Support staff"
# A person's page lists this many of their reports, then links to the list of all of them.
REPORTS_SHOWN = 20


def person_label(user: User) -> str:
    """A person as support staff recognise them: "Dana Smith (dana@acme.test)", and what is
    unusual about them (support staff, deleted, inactive)."""
    label = f"{user.full_name} ({user.username})" if user.full_name else user.username
    if user.organisation_id is None:
        return f"{label}, support staff"
    if user.is_deleted:
        return f"{label}, deleted"
    if not user.is_active:
        return f"{label}, inactive"
    return label


def _person_link(user: User) -> SafeString:
    return format_html(
        '<a href="{}">{}</a>',
        reverse("admin:accounts_user_change", args=[user.pk]),
        person_label(user),
    )


def _moment(moment: datetime | None) -> str:
    return f"{moment:%d %b %Y %H:%M} UTC" if moment is not None else ""


class ManagerLookupWidget(ForeignKeyRawIdWidget):
    """The manager's id, as raw_id_fields shows it, with two differences: the lookup popup
    lists only the live people of the person's own organisation (the only ones the service
    accepts), and the manager is named as people know them, linked to their page."""

    def __init__(self, *args: Any, organisation_id: int | None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.organisation_id = organisation_id

    def url_parameters(self) -> dict[str, str]:
        parameters: dict[str, str] = super().url_parameters()
        if self.organisation_id is not None:
            parameters["organisation__id__exact"] = str(self.organisation_id)
            parameters[DeletedFilter.parameter_name] = "no"
        return parameters

    def label_and_url_for_value(self, value: Any) -> tuple[str, str]:
        manager = _person_by_pk(str(value))
        if manager is None:
            return "", ""
        return person_label(manager), reverse("admin:accounts_user_change", args=[manager.pk])


class UserAddForm(ServiceForm[User]):
    organisation = forms.ModelChoiceField(queryset=Organisation.objects.all())
    # Not named "password": the model's password field holds the hash and stays out of forms.
    initial_password = forms.CharField(
        label="Password",
        required=False,
        strip=False,
        widget=forms.PasswordInput(render_value=False),
        help_text="Optional. Leave empty for someone who signs in with single sign-on only.",
    )

    def clean(self) -> dict[str, Any] | None:
        cleaned_data = super().clean()
        password = self.cleaned_data.get("initial_password")
        if password:
            # Checked against the new person's names, as Django's own password forms do.
            person = User(
                username=self.cleaned_data.get("username", ""),
                email=self.cleaned_data.get("email", ""),
            )
            try:
                password_validation.validate_password(password, person)
            except ValidationError as error:
                self.add_error("initial_password", error)
        return cleaned_data


class UserChangeForm(ServiceForm[User]):
    pass


_UserChange = Callable[[User, Actor], tuple[int, str]]

_USER_STATUS_FIELDS = (
    "is_active",
    "deactivated_at",
    "deleted_at",
    "sessions_revoked_at",
    "last_login",
)
_USER_RECORD_FIELDS = ("is_staff", "is_superuser", "created_at", "updated_at")


@admin.register(User)
class UserAdmin(ServiceAdmin[User]):
    form = UserChangeForm
    list_display = [
        "username",
        "organisation",
        "role_shown",
        "is_active",
        "deleted",
        "email",
        "manager",
    ]
    list_select_related = ["organisation", "manager"]
    list_filter = ["organisation", RoleFilter, "is_active", DeletedFilter, ReportsOfFilter]
    search_fields = ["username", "email", "external_id"]
    ordering = ["organisation__name", "username"]
    raw_id_fields = ["manager"]
    actions = [
        "deactivate_users",
        "reactivate_users",
        "restore_users",
        "end_sessions",
        "make_primary_admin",
    ]
    # Belt and braces: the fieldsets below name neither, but the hash must never reach a page.
    exclude = ["password", "groups", "user_permissions"]
    readonly_fields = [
        "status",
        "organisation",
        "public_id",
        "role_shown",
        "is_active",
        "deactivated_at",
        "deleted_at",
        "sessions_revoked_at",
        "last_login",
        "is_staff",
        "is_superuser",
        "pending_manager_value",
        "pending_manager_display",
        "contact_values",
        "custom_attribute_values",
        "team_list",
        "report_list",
        "audit_trail",
        "created_at",
        "updated_at",
    ]
    add_fieldsets = [
        (None, {"fields": ["organisation", *_USER_IDENTITY_FIELDS]}),
        ("Profile", {"fields": _USER_DETAIL_FIELDS}),
        ("Work", {"fields": _USER_WORK_FIELDS}),
        ("Manager", {"fields": ["manager"]}),
        ("Password", {"fields": ["initial_password"]}),
    ]
    # What support staff look for first (who they are, where they sit, what happened to them)
    # comes before the long profile.
    fieldsets = [
        (None, {"fields": ["status", "organisation", "public_id", *_USER_IDENTITY_FIELDS]}),
        (
            "Teams and manager",
            {
                "fields": [
                    "team_list",
                    "manager",
                    "pending_manager_value",
                    "pending_manager_display",
                    "report_list",
                ]
            },
        ),
        ("Status", {"fields": _USER_STATUS_FIELDS}),
        ("Audit trail", {"fields": ["audit_trail"]}),
        ("Profile", {"fields": _USER_DETAIL_FIELDS}),
        ("Work", {"fields": _USER_WORK_FIELDS}),
        (
            "Kept by the identity provider",
            {"fields": ["contact_values", "custom_attribute_values"]},
        ),
        ("Record", {"fields": _USER_RECORD_FIELDS}),
    ]
    # Support staff belong to no organisation: no role, manager, teams or profile from an
    # identity provider to show, and no "Learner" (the model's default) to show either.
    staff_fieldsets = [
        (None, {"fields": ["status", "role_shown", "public_id", "username", "email"]}),
        ("Status", {"fields": _USER_STATUS_FIELDS}),
        ("Audit trail", {"fields": ["audit_trail"]}),
        ("Record", {"fields": _USER_RECORD_FIELDS}),
    ]

    def get_fieldsets(self, request: HttpRequest, obj: User | None = None) -> Any:
        if obj is None:
            return self.add_fieldsets
        if obj.organisation_id is None:
            return self.staff_fieldsets
        return super().get_fieldsets(request, obj)

    def get_readonly_fields(self, request: HttpRequest, obj: User | None = None) -> Any:
        return () if obj is None else self.readonly_fields

    def get_form(
        self, request: HttpRequest, obj: User | None = None, change: bool = False, **kwargs: Any
    ) -> type[forms.ModelForm[User]]:
        if obj is None:
            kwargs["form"] = UserAddForm
        form = super().get_form(request, obj, change, **kwargs)
        manager = form.base_fields.get("manager")
        if obj is not None and manager is not None:  # a new class per call: ours to change
            manager.widget = ManagerLookupWidget(
                User._meta.get_field("manager").remote_field,
                self.admin_site,
                organisation_id=obj.organisation_id,
            )
        return form

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        # The page's heading says so at once when the person is a tombstone.
        person = _person_by_pk(object_id)
        if person is not None and person.is_deleted:
            extra_context = {**(extra_context or {}), "subtitle": f"{person.username} (deleted)"}
        return super().change_view(request, object_id, form_url, extra_context)

    def has_delete_permission(self, request: HttpRequest, obj: User | None = None) -> bool:
        # Nobody's history is destroyed: people are deactivated, or deleted as SCIM does it.
        return False

    @admin.display(boolean=True, description="Deleted", ordering="deleted_at")
    def deleted(self, user: User) -> bool:
        return user.is_deleted

    @admin.display(description="Role", ordering="role")
    def role_shown(self, user: User) -> str:
        if user.organisation_id is None:
            return SUPPORT_STAFF_ROLE
        return user.get_role_display()

    @admin.display(description="Status")
    def status(self, user: User) -> SafeString:
        if user.is_deleted:
            return format_html(
                "<strong>Deleted on {}.</strong> Kept as a tombstone: hidden from SCIM, unable "
                "to sign in, shown in no team and as nobody's manager, with every link and "
                "their history kept. The action “Restore selected deleted users” brings them "
                "back.",
                _moment(user.deleted_at),
            )
        if not user.is_active:
            return format_html(
                "<strong>Deactivated on {}.</strong> Cannot sign in. The action “Reactivate "
                "selected users” brings them back.",
                _moment(user.deactivated_at),
            )
        if user.organisation_id is None:
            return format_html("{}", "Active support staff: signs in to this admin only.")
        return format_html("{}", "Active.")

    @admin.display(description="Teams")
    def team_list(self, user: User) -> SafeString:
        teams = list(user.teams.order_by("display_name"))
        if not teams:
            return format_html("{}", "None.")
        links = format_html_join(
            ", ",
            '<a href="{}">{}</a>',
            ((reverse("admin:accounts_team_change", args=[t.pk]), t.display_name) for t in teams),
        )
        if user.is_deleted:
            return format_html(
                "{} <em>(kept for a restore; the teams do not show them while deleted)</em>",
                links,
            )
        return links

    @admin.display(description="Reports (people they manage)")
    def report_list(self, user: User) -> SafeString:
        reports = User.objects.filter(manager=user).order_by("username")
        shown = list(reports[: REPORTS_SHOWN + 1])
        if not shown:
            return format_html("{}", "None.")
        links = format_html_join(", ", "{}", ((_person_link(r),) for r in shown[:REPORTS_SHOWN]))
        every = (
            f"{reverse('admin:accounts_user_changelist')}?"
            f"{ReportsOfFilter.parameter_name}={user.pk}"
        )
        if len(shown) > REPORTS_SHOWN:
            total = reports.count()
            listed = format_html(
                '{} <br>The first {} of {}: <a href="{}">all {} in the list of users</a>.',
                links,
                REPORTS_SHOWN,
                total,
                every,
                total,
            )
        else:
            listed = format_html('{} (<a href="{}">in the list of users</a>)', links, every)
        if user.is_deleted:
            return format_html(
                "{} <em>(kept for a restore; they show no manager while {} is deleted)</em>",
                listed,
                user.username,
            )
        return listed

    @admin.display(description="Audit events")
    def audit_trail(self, user: User) -> SafeString:
        events = reverse("admin:accounts_auditevent_changelist")
        about = AuditEvent.objects.filter(AboutPersonFilter.condition_for(user)).count()
        by = AuditEvent.objects.filter(ByPersonFilter.condition_for(user)).count()
        return format_html(
            '<a href="{}?{}={}">{} about them</a>, <a href="{}?{}={}">{} done by them</a>',
            events,
            AboutPersonFilter.parameter_name,
            user.pk,
            _count(about, "event"),
            events,
            ByPersonFilter.parameter_name,
            user.pk,
            _count(by, "event"),
        )

    @admin.display(description="Emails, phones, addresses, photos")
    def contact_values(self, user: User) -> SafeString:
        return _fact_list([(fact.label, fact.value) for fact in profile.contact_facts(user)])

    @admin.display(description="The organisation's own attributes")
    def custom_attribute_values(self, user: User) -> SafeString:
        return _fact_list(
            [
                (f"{value.name} ({value.type or 'no longer defined'})", value.text)
                for value in profile.custom_values_of(user)
            ]
        )

    def save_model(
        self, request: HttpRequest, obj: User, form: forms.BaseForm, change: bool
    ) -> None:
        actor = _actor(request)
        with _refusals_as_form_errors():
            if change:
                user = User.objects.get(pk=obj.pk)
                profile = _changed(form, USER_PROFILE_FIELDS)
                role = profile.pop("role", None)
                if profile:
                    services.user_update(user=user, actor=actor, **profile)
                if role is not None:  # its own service: inactive and deleted people refused
                    services.user_set_role(user=user, actor=actor, role=role)
            else:
                profile = {name: form.cleaned_data[name] for name in USER_PROFILE_FIELDS}
                user = services.user_create(
                    organisation=form.cleaned_data["organisation"],
                    actor=actor,
                    password=form.cleaned_data["initial_password"] or None,
                    **profile,
                )
            if "manager" in form.changed_data:
                services.user_set_manager(
                    user=user, actor=actor, manager=form.cleaned_data["manager"]
                )
        _adopt(obj, user)

    # Each action changes people through their service, one person at a time, and reports the
    # outcome for each and how many changed. Only for those who may change people: Django
    # neither offers nor runs an action whose permission the user lacks.

    @admin.action(description="Deactivate selected users", permissions=["change"])
    def deactivate_users(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        def deactivate(user: User, actor: Actor) -> tuple[int, str]:
            if user.pk == request.user.pk:
                return messages.ERROR, "you cannot deactivate your own account."
            if user.is_deleted:
                return messages.INFO, "is deleted, so already inactive."
            if not user.is_active:
                return messages.INFO, "was already inactive."
            services.user_deactivate(user=user, actor=actor)
            return messages.SUCCESS, "deactivated."

        self._change_each(request, queryset, deactivate, done="Deactivated {} of {}.")

    @admin.action(description="Reactivate selected users", permissions=["change"])
    def reactivate_users(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        def reactivate(user: User, actor: Actor) -> tuple[int, str]:
            if user.is_active:
                return messages.INFO, "was already active."
            try:
                services.user_reactivate(user=user, actor=actor)
            except UserDeleted as error:
                return messages.ERROR, f"{error} Use “Restore selected deleted users” instead."
            return messages.SUCCESS, "reactivated."

        self._change_each(request, queryset, reactivate, done="Reactivated {} of {}.")

    @admin.action(description="Restore selected deleted users", permissions=["change"])
    def restore_users(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        def restore(user: User, actor: Actor) -> tuple[int, str]:
            if not user.is_deleted:
                return messages.INFO, "is not deleted; nothing to restore."
            services.user_revive(user=user, actor=actor)
            return messages.SUCCESS, "restored and active again."

        self._change_each(request, queryset, restore, done="Restored {} of {}.")

    @admin.action(
        description="End sessions of selected users (sign them out everywhere)",
        permissions=["change"],
    )
    def end_sessions(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        def end(user: User, actor: Actor) -> tuple[int, str]:
            if user.pk == request.user.pk:
                return messages.ERROR, "you cannot end your own sessions here; sign out instead."
            if user.is_deleted:
                return messages.INFO, "is deleted; their sessions ended then."
            if not user.is_active:
                return messages.INFO, "is inactive; their sessions ended when deactivated."
            services.user_end_sessions(user=user, actor=actor)
            return messages.SUCCESS, "signed out everywhere."

        self._change_each(request, queryset, end, done="Signed out {} of {} everywhere.")

    @admin.action(description="Make primary admin", permissions=["change"])
    def make_primary_admin(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        def promote(user: User, actor: Actor) -> tuple[int, str]:
            if user.is_primary_admin and user.is_active:
                return messages.INFO, "is already a primary admin."
            # Support staff, deleted and inactive people are refused by the service.
            services.user_set_role(user=user, actor=actor, role=Role.PRIMARY_ADMIN)
            return messages.SUCCESS, "is now a primary admin."

        self._change_each(request, queryset, promote, done="Made {} of {} primary admin.")

    def _change_each(
        self, request: HttpRequest, queryset: QuerySet[User], change: _UserChange, *, done: str
    ) -> None:
        """Apply ``change`` to each user in its own transaction (a refusal for one person does
        not undo the others) and report how many changed, then the outcome person by person.
        ``done`` words the count: "Deactivated {} of {}." (changed, selected)."""
        actor = _actor(request)
        outcomes: list[tuple[int, str]] = []
        for user in queryset.select_related("organisation").order_by("username", "pk"):
            who = user.username + (
                f" ({user.organisation.slug})" if user.organisation else " (support staff)"
            )
            try:
                level, outcome = change(user, actor)
            except (AccountsError, ValidationError) as error:
                level, outcome = messages.ERROR, _message_of(error)
            outcomes.append((level, f"{who}: {outcome}"))
        changed = sum(1 for level, _ in outcomes if level == messages.SUCCESS)
        refused = any(level == messages.ERROR for level, _ in outcomes)
        if changed == len(outcomes):
            summary_level = messages.SUCCESS
        else:
            summary_level = messages.WARNING if refused else messages.INFO
        selected = _count(len(outcomes), "selected user")
        self.message_user(request, done.format(changed, selected), summary_level)
        for level, text in outcomes:
            self.message_user(request, text, level)


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _fact_list(facts: list[tuple[str, str]]) -> SafeString:
    if not facts:
        return format_html("{}", "—")
    rows = format_html_join("", "<tr><th>{}</th><td>{}</td></tr>", facts)
    return format_html('<table class="profile-values">{}</table>', rows)


def _message_of(error: AccountsError | ValidationError) -> str:
    if isinstance(error, ValidationError):
        return " ".join(message for _, message in _form_errors_of(error))
    return str(error)


# --- teams -----------------------------------------------------------------------------------


class TeamForm(ServiceForm[Team]):
    # Team.members goes through TeamMembership, so the admin cannot offer it as a model field;
    # this form field is saved by services.team_set_members in TeamAdmin.save_related.
    team_members = forms.ModelMultipleChoiceField(
        label="Members",
        queryset=User.objects.all(),
        required=False,
        widget=AutocompleteSelectMultiple(Team._meta.get_field("members"), admin.site),
        help_text="People of the team's organisation.",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk is not None:
            self.fields["team_members"].initial = list(
                self.instance.memberships.values_list("user_id", flat=True)
            )


@admin.register(Team)
class TeamAdmin(ServiceAdmin[Team]):
    form = TeamForm
    list_display = ["display_name", "organisation", "member_count"]
    list_select_related = ["organisation"]
    list_filter = ["organisation"]
    search_fields = ["display_name", "external_id"]
    ordering = ["organisation__name", "display_name"]
    readonly_fields = ["public_id", "created_at", "updated_at"]
    fieldsets = [
        (None, {"fields": ["organisation", "display_name", "external_id", "team_members"]}),
        ("Record", {"fields": ["public_id", "created_at", "updated_at"]}),
    ]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Team]:
        return super().get_queryset(request).annotate(member_count=Count("memberships"))

    @admin.display(description="Members", ordering="member_count")
    def member_count(self, team: Team) -> int:
        return team.member_count  # type: ignore[attr-defined,no-any-return]  # annotated above

    def get_fieldsets(self, request: HttpRequest, obj: Team | None = None) -> Any:
        if obj is None:
            return self.fieldsets[:1]
        return super().get_fieldsets(request, obj)

    def get_readonly_fields(self, request: HttpRequest, obj: Team | None = None) -> Any:
        # A team belongs to its organisation for good; its members must belong there too.
        if obj is None:
            return self.readonly_fields
        return [*self.readonly_fields, "organisation"]

    def save_model(
        self, request: HttpRequest, obj: Team, form: forms.BaseForm, change: bool
    ) -> None:
        actor = _actor(request)
        with _refusals_as_form_errors():
            if change:
                team = services.team_update(
                    team=Team.objects.get(pk=obj.pk), actor=actor, **_changed(form, TEAM_FIELDS)
                )
            else:
                team = services.team_create(
                    organisation=form.cleaned_data["organisation"],
                    actor=actor,
                    display_name=form.cleaned_data["display_name"],
                    external_id=form.cleaned_data["external_id"],
                )
        _adopt(obj, team)

    def save_related(
        self, request: HttpRequest, form: forms.ModelForm[Team], formsets: Any, change: bool
    ) -> None:
        # Deliberately no form.save_m2m(): memberships change only through the service.
        if "team_members" in form.changed_data:
            with _refusals_as_form_errors():
                services.team_set_members(
                    team=form.instance,
                    actor=_actor(request),
                    users=list(form.cleaned_data["team_members"]),
                )
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)

    def delete_model(self, request: HttpRequest, obj: Team) -> None:
        services.team_delete(team=obj, actor=_actor(request))

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Team]) -> None:
        actor = _actor(request)
        for team in queryset:
            services.team_delete(team=team, actor=actor)


# --- audit events ----------------------------------------------------------------------------


_AUDIT_EVENT_FIELDS = (
    "created_at",
    "organisation",
    "actor_kind",
    "actor_user",
    "actor_label",
    "action",
    "target_type",
    "target_id",
    "target_label",
    "changes_json",
)


class AboutPersonFilter(_ChosenPersonFilter):
    title = "about"
    parameter_name = "about"

    @staticmethod
    def condition_for(person: User) -> Q:
        # Events name their target by its public id (accounts.audit), which never changes.
        return Q(target_type="user", target_id=str(person.public_id))


class ByPersonFilter(_ChosenPersonFilter):
    title = "done by"
    parameter_name = "by"

    @staticmethod
    def condition_for(person: User) -> Q:
        return Q(actor_user=person)


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin[AuditEvent]):
    """The audit trail: read-only for everyone."""

    list_display = [
        "created_at",
        "organisation",
        "actor_kind",
        "actor_label",
        "action",
        "target_type",
        "target_label",
    ]
    list_select_related = ["organisation"]
    list_filter = ["organisation", "actor_kind", "action", AboutPersonFilter, ByPersonFilter]
    search_fields = ["target_label", "target_id", "actor_label"]
    date_hierarchy = "created_at"
    fields = _AUDIT_EVENT_FIELDS
    readonly_fields = _AUDIT_EVENT_FIELDS

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: AuditEvent | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: AuditEvent | None = None) -> bool:
        return False

    @admin.display(description="Changes")
    def changes_json(self, audit_event: AuditEvent) -> SafeString:
        pretty = json.dumps(audit_event.changes, indent=2, sort_keys=True, ensure_ascii=False)
        return format_html("<pre>{}</pre>", pretty)
