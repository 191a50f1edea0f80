"""Organisations, their people and teams, and the audit trail of every change to them.

Invariants live in the database (named constraints) so that no code path, bulk insert or race can
break them. Nothing outside ``accounts/services.py`` saves these models.
"""

import secrets
import uuid
from collections.abc import Iterator
from functools import cache
from typing import Any, ClassVar

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.db.models.signals import post_init, pre_init
from django.utils.crypto import salted_hmac
from django.utils.timezone import now

from auzlearn.compiled_reads import CompiledValues

PUBLIC_ID_LENGTH = 20


def new_public_id() -> str:
    """An opaque, fixed-length, URL-safe id: lowercase hex only (no underscores, which Okta
    rejects in SCIM base URLs)."""
    return secrets.token_hex(PUBLIC_ID_LENGTH // 2)


SLUG_PATTERN = r"^[a-z0-9](?:[a-z0-9-]{0,48}[a-z0-9])?$"
slug_validator = RegexValidator(
    SLUG_PATTERN,
    "Use 1 to 50 lowercase letters, digits and hyphens; start and end with a letter or digit.",
)


class Organisation(models.Model):
    public_id = models.CharField(
        max_length=PUBLIC_ID_LENGTH, unique=True, default=new_public_id, editable=False
    )
    slug = models.CharField(max_length=50, unique=True, validators=[slug_validator])
    name = models.CharField(max_length=200)
    scim_enabled = models.BooleanField(
        default=False, help_text="SCIM provisioning accepts requests from this organisation's keys."
    )
    sso_required = models.BooleanField(
        default=False,
        help_text="Password sign-in is refused for everyone but primary admins (break-glass).",
    )
    created_at = models.DateTimeField(default=now, editable=False)

    class Meta:
        verbose_name = "organisation"
        verbose_name_plural = "organisations"
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(slug__regex=SLUG_PATTERN),
                name="organisation_slug_format",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.slug})"


class Role(models.TextChoices):
    PRIMARY_ADMIN = "primary_admin", "Primary admin"
    ADMIN = "admin", "Admin"
    MANAGER = "manager", "Manager"
    LEARNER = "learner", "Learner"


class UserQuerySet(models.QuerySet["User"]):
    def for_organisation(self, organisation: Organisation) -> "UserQuerySet":
        return self.filter(organisation=organisation)

    def support_staff(self) -> "UserQuerySet":
        return self.filter(organisation__isnull=True)

    def with_username(self, username: str) -> "UserQuerySet":
        """Case-insensitive match that uses the functional unique index on LOWER(username)."""
        return self.alias(username_lower=Lower("username")).filter(
            username_lower=Lower(models.Value(username))
        )

    def with_email(self, email: str) -> "UserQuerySet":
        return self.alias(email_lower=Lower("email")).filter(email_lower=Lower(models.Value(email)))

    def not_deleted(self) -> "UserQuerySet":
        return self.filter(deleted_at__isnull=True)


class ProfileJSONField(models.JSONField):
    """JSON read with the row of every person SCIM renders (a list page reads 100 people, five
    of these each). Most are empty (no address, no photo, none of the organisation's own
    attributes): those are made without the JSON decoder, which took 2 ms of a 17 ms page of
    100 people in-process (cProfile, PostgreSQL)."""

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> Any:
        if value == "[]":
            return []
        if value == "{}":
            return {}
        return super().from_db_value(value, expression, connection)


class UserManager(BaseUserManager["User"]):
    def get_queryset(self) -> UserQuerySet:
        return UserQuerySet(self.model, using=self._db)

    def for_organisation(self, organisation: Organisation) -> UserQuerySet:
        return self.get_queryset().for_organisation(organisation)

    def support_staff(self) -> UserQuerySet:
        return self.get_queryset().support_staff()

    def get_by_natural_key(self, username: str | None) -> "User":
        # Only support staff (no organisation) have a globally meaningful userName; people of
        # an organisation sign in through OrganisationBackend with their organisation.
        return self.support_staff().with_username(username or "").get()

    def create_superuser(self, username: str, password: str | None = None, **extra: Any) -> "User":
        """For ``manage.py createsuperuser``: a support staff account."""
        from accounts import services  # services import this module

        return services.staff_create(
            username=username, password=password, email=extra.get("email", "")
        )


class User(AbstractBaseUser, PermissionsMixin):
    """A person of one organisation, or support staff (no organisation, Django admin only)."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organisation = models.ForeignKey(
        Organisation, null=True, blank=True, on_delete=models.PROTECT, related_name="users"
    )
    # Stored exactly as received; compared case-insensitively (unique index on LOWER(username)).
    username = models.CharField(max_length=255)
    # NULL, not "", when absent: unique per organisation only when present.
    external_id = models.CharField(max_length=255, null=True, blank=True)  # noqa: DJ001
    # The address people sign in with, managers are found by and emails go to: one of
    # ``emails``, the primary one, else the last work one, else the first (services keep it in
    # step). Its own column for the index on LOWER(email).
    email = models.EmailField(max_length=255, blank=True)
    # The profile as the identity provider sends it (RFC 7643 §4.1 and the enterprise
    # extension, §4.3), each attribute exactly as received; "" when absent.
    given_name = models.CharField(max_length=150, blank=True)
    middle_name = models.CharField(max_length=150, blank=True)
    family_name = models.CharField(max_length=150, blank=True)
    honorific_prefix = models.CharField(max_length=50, blank=True)
    honorific_suffix = models.CharField(max_length=50, blank=True)
    # name.formatted as sent; full_name is worked out from the parts, not from this.
    formatted_name = models.CharField(max_length=500, blank=True)
    display_name = models.CharField(max_length=255, blank=True)
    nick_name = models.CharField(max_length=150, blank=True)
    profile_url = models.CharField(max_length=2048, blank=True)
    title = models.CharField(max_length=255, blank=True)
    user_type = models.CharField(max_length=100, blank=True)
    preferred_language = models.CharField(max_length=64, blank=True)
    locale = models.CharField(max_length=64, blank=True)
    timezone = models.CharField(max_length=64, blank=True)
    employee_number = models.CharField(max_length=100, blank=True)
    cost_center = models.CharField(max_length=255, blank=True)
    # The enterprise extension's "organization": the company the person works for, not the
    # Organisation (tenant) they belong to here.
    company = models.CharField(max_length=255, blank=True)
    division = models.CharField(max_length=255, blank=True)
    department = models.CharField(max_length=255, blank=True)
    # The multi-valued attributes, each a list of values exactly as received (PROFILE_LISTS):
    # read with the row, so rendering a person costs no other query. ProfileValue holds the
    # same values one row each, for filters.
    emails = ProfileJSONField(default=list, blank=True)
    phone_numbers = ProfileJSONField(default=list, blank=True)
    addresses = ProfileJSONField(default=list, blank=True)
    photos = ProfileJSONField(default=list, blank=True)
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.LEARNER)

    is_active = models.BooleanField(default=True)
    deactivated_at = models.DateTimeField(null=True, blank=True)
    # SCIM DELETE tombstone: hidden from SCIM, but the row and its history stay.
    deleted_at = models.DateTimeField(null=True, blank=True)
    # Bumped whenever access is removed; part of the session hash, so old sessions never revive.
    sessions_revoked_at = models.DateTimeField(null=True, blank=True)
    is_staff = models.BooleanField(
        default=False, help_text="Support staff: may use the Django admin."
    )

    manager = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="reports"
    )
    # A manager reference that named nobody we know yet (Okta may send a report before their
    # manager). Linked by services.user_create when the manager arrives.
    pending_manager_value = models.CharField(max_length=255, blank=True)
    pending_manager_display = models.CharField(max_length=255, blank=True)

    # The organisation's own attributes (CustomAttribute), by the name it gave them: JSON
    # values of their declared types. Published as one SCIM schema extension of User.
    custom_attributes = ProfileJSONField(default=dict, blank=True)

    created_at = models.DateTimeField(default=now, editable=False)
    updated_at = models.DateTimeField(default=now)

    objects: ClassVar[UserManager] = UserManager()

    USERNAME_FIELD = "username"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["email"]

    @classmethod
    def from_db(cls, db: str | None, field_names: Any, values: Any) -> "User":
        """A person read, made without Model.__init__: the values go into the instance as
        __init__ would put them (none of these fields transforms a value on the way in), which
        costs a fifth of it. __init__ setting 45 attributes one by one, two through the foreign
        keys' descriptors, was 2.5 ms of a page of 100 people, and a team PATCH adding 256
        people read five columns of each through it (bench/README.md, issue 15). Deferred
        columns are left out of the instance, as __init__ leaves them, for DeferredAttribute
        to load when asked. Any pre_init or post_init receiver takes Django's way, as
        __init__ is what it relies on."""
        if _init_has_listeners(cls):
            return super().from_db(db, field_names, values)
        attnames = _user_attnames()
        # Read whole, Django goes by the columns' order; else field_names are what was read.
        names = attnames if len(values) == len(attnames) else field_names
        person = cls.__new__(cls)
        person._state = models.base.ModelState()
        person._state.adding, person._state.db = False, db
        person.__dict__.update(zip(names, values, strict=True))
        return person

    class Meta:
        verbose_name = "user"
        verbose_name_plural = "users"
        constraints = [
            models.UniqueConstraint(
                Lower("username"),
                "organisation",
                name="user_username_ci_unique_per_organisation",
                violation_error_message="This organisation already has a user with this userName.",
            ),
            # NULLs are distinct in a unique index, so support staff need their own.
            models.UniqueConstraint(
                Lower("username"),
                condition=Q(organisation__isnull=True),
                name="user_username_ci_unique_for_staff",
                violation_error_message="A support staff account with this userName exists.",
            ),
            models.UniqueConstraint(
                fields=["organisation", "external_id"],
                condition=Q(external_id__isnull=False),
                name="user_external_id_unique_per_organisation",
                violation_error_message=(
                    "This organisation already has a user with this externalId."
                ),
            ),
            models.CheckConstraint(
                condition=~Q(external_id=""), name="user_external_id_null_not_empty"
            ),
            models.CheckConstraint(condition=~Q(username=""), name="user_username_not_empty"),
            models.CheckConstraint(
                condition=Q(is_active=True, deactivated_at__isnull=True)
                | Q(is_active=False, deactivated_at__isnull=False),
                name="user_deactivated_at_iff_inactive",
            ),
            models.CheckConstraint(
                condition=Q(deleted_at__isnull=True) | Q(is_active=False),
                name="user_deleted_is_inactive",
            ),
            # Organisation people never reach the Django admin; support staff own no tenant data.
            models.CheckConstraint(
                condition=Q(organisation__isnull=True) | Q(is_staff=False, is_superuser=False),
                name="user_staff_has_no_organisation",
            ),
            models.CheckConstraint(condition=Q(role__in=Role.values), name="user_role_valid"),
            models.CheckConstraint(
                condition=~Q(manager=models.F("pk")), name="user_not_own_manager"
            ),
        ]
        indexes = [
            # Paging and counting an organisation's people (SCIM imports): index-only scans.
            models.Index(
                fields=["organisation", "id"],
                condition=Q(deleted_at__isnull=True),
                name="user_live_by_organisation_idx",
            ),
            # A team's members as SCIM shows them (scim.groups.members_of): each live member's
            # SCIM id from this index alone, one probe per member, however many people the
            # directory holds. Without it PostgreSQL scanned every person to list a team of
            # 10,000 (70 ms at 200,000 people, issue 19; 17 ms with it).
            models.Index(
                fields=["id"],
                include=["public_id"],
                condition=Q(deleted_at__isnull=True),
                name="user_live_public_id_idx",
            ),
            models.Index(Lower("email"), "organisation", name="user_email_ci_idx"),
            models.Index(
                fields=["organisation", "pending_manager_value"],
                condition=~Q(pending_manager_value=""),
                name="user_pending_manager_value_idx",
            ),
            models.Index(
                Lower("pending_manager_display"),
                "organisation",
                condition=~Q(pending_manager_display=""),
                name="user_pending_manager_disp_idx",
            ),
        ]

    def __str__(self) -> str:
        return self.username

    def clean(self) -> None:
        """Keep the userName exactly as received (DESIGN §4). Django's AbstractBaseUser.clean
        applies NFKC, which turns "ﬁona@x.example" into "fiona@x.example": Okta then filters
        for what it sent, finds nobody, and POSTs again into a 409, forever."""

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None

    @property
    def full_name(self) -> str:
        return (
            " ".join(part for part in (self.given_name, self.family_name) if part)
            or self.display_name
        )

    @property
    def is_primary_admin(self) -> bool:
        return self.organisation_id is not None and self.role == Role.PRIMARY_ADMIN

    def get_full_name(self) -> str:
        return self.full_name or self.username

    def get_short_name(self) -> str:
        return self.given_name or self.username

    def get_session_auth_hash(self) -> str:
        return self._session_hash()

    def get_session_auth_fallback_hash(self) -> Iterator[str]:
        for fallback_secret in settings.SECRET_KEY_FALLBACKS:
            yield self._session_hash(secret=fallback_secret)

    def _session_hash(self, secret: str | bytes | None = None) -> str:
        # Django hashes only the password; we add the revocation time so that deactivating or
        # deleting someone ends every session they have, and reactivation does not revive them.
        revoked = self.sessions_revoked_at.isoformat() if self.sessions_revoked_at else ""
        return salted_hmac(
            "accounts.User.session_auth_hash",
            f"{self.password}|{revoked}",
            secret=secret,
            algorithm="sha256",
        ).hexdigest()


# The multi-valued attributes of a person's profile (RFC 7643 §4.1.2): each User column's
# values, the sub-attributes a value may have (by SCIM's names, as sent) and the longest text
# each may hold. "primary" is a boolean. At most MAX_PROFILE_VALUES values per attribute.
PROFILE_LISTS: dict[str, dict[str, int]] = {
    "emails": {"value": 255, "display": 255, "type": 64},
    "phone_numbers": {"value": 64, "display": 255, "type": 64},
    "addresses": {
        "formatted": 1024,
        "streetAddress": 1024,
        "locality": 255,
        "region": 255,
        "postalCode": 64,
        "country": 64,
        "type": 64,
    },
    "photos": {"value": 2048, "display": 255, "type": 64},
}
# Directories send one to three of each (a work and a home email; work, mobile and fax numbers).
MAX_PROFILE_VALUES = 20


@cache
def _user_attnames() -> tuple[str, ...]:
    return tuple(field.attname for field in User._meta.concrete_fields)


def _init_has_listeners(model: type[models.Model]) -> bool:
    if not pre_init.receivers and not post_init.receivers:  # none at all: the usual case, and
        return False  # a fifth of from_db's time to ask each signal about this model
    return pre_init.has_listeners(model) or post_init.has_listeners(model)


class ProfileValue(models.Model):
    """One value of a person's multi-valued attribute (an email, a phone number, an address, a
    photo), kept one row each so that filters such as ``addresses[locality eq "London"]`` are
    plain indexed conditions on every database. A copy: the person's JSON column is what is
    shown, and services.user_update rewrites these rows when it changes."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="profile_values")
    attribute = models.CharField(max_length=20, choices=[(name, name) for name in PROFILE_LISTS])
    value = models.CharField(max_length=2048, blank=True)
    display = models.CharField(max_length=255, blank=True)
    type = models.CharField(max_length=64, blank=True)
    primary = models.BooleanField(default=False)
    formatted = models.CharField(max_length=1024, blank=True)
    street_address = models.CharField(max_length=1024, blank=True)
    locality = models.CharField(max_length=255, blank=True)
    region = models.CharField(max_length=255, blank=True)
    postal_code = models.CharField(max_length=64, blank=True)
    country = models.CharField(max_length=64, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(attribute__in=list(PROFILE_LISTS)), name="profile_value_attribute_valid"
            ),
        ]
        indexes = [
            # emails.value eq "…" and its like (an identity provider matching by email).
            models.Index(Lower("value"), "attribute", name="profile_value_ci_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.attribute}: {self.value or self.formatted or self.locality}"


class Team(models.Model):
    """A team of the LMS; SCIM calls it a Group."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="teams")
    display_name = models.CharField(max_length=255)
    external_id = models.CharField(max_length=255, null=True, blank=True)  # noqa: DJ001
    members: "models.ManyToManyField[User, TeamMembership]" = models.ManyToManyField(
        User, through="TeamMembership", related_name="teams"
    )
    created_at = models.DateTimeField(default=now, editable=False)
    updated_at = models.DateTimeField(default=now)
    # When the name last changed. Every member shows the team's name, so a member's
    # lastModified is the latest of their own and this (accounts.versions): renaming a team of
    # 10,000 people writes one row, not 10,000.
    renamed_at = models.DateTimeField(default=now)

    class Meta:
        verbose_name = "team"
        verbose_name_plural = "teams"
        constraints = [
            models.UniqueConstraint(
                Lower("display_name"),
                "organisation",
                name="team_display_name_ci_unique_per_organisation",
                violation_error_message="This organisation already has a team with this name.",
            ),
            models.CheckConstraint(
                condition=~Q(display_name=""), name="team_display_name_not_empty"
            ),
        ]

    def __str__(self) -> str:
        return self.display_name


class TeamMembership(models.Model):
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    # When the person joined: part of their lastModified (accounts.versions), so that adding
    # 256 people to a team writes no row of theirs. Memberships older than this column say
    # 2000-01-01: their joining was already counted in the person's updated_at.
    created_at = models.DateTimeField(default=now)
    # The member's SCIM id and whether they are deleted, kept on the membership so that a
    # team's members are read from its memberships alone (scim.groups.members_of), at the same
    # cost whatever the directory's size: joined to the people table, each member cost a probe
    # of its index, whose pages grow with the directory (a 10,000-member team's GET 1.33x
    # slower at a million people than at 100,000; bench/README.md, "The scale mode"). A
    # person's id never changes; triggers keep the two in step with the person's row, whoever
    # writes (accounts/migrations/0012 says which).
    user_public_id = models.UUIDField(editable=False)
    user_deleted = models.BooleanField(default=False, editable=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["team", "user"], name="team_membership_unique"),
        ]
        indexes = [
            # For incremental imports, ``meta.lastModified gt "…"``: the people who joined a
            # team since then (accounts.versions.last_modified_is).
            models.Index(fields=["created_at"], name="membership_created_at_idx"),
            # A team's live members' SCIM ids in id order, by an index-only scan.
            models.Index(
                fields=["team", "user"],
                include=["user_public_id"],
                condition=models.Q(user_deleted=False),
                name="membership_live_members_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.team}"


class AttributeType(models.TextChoices):
    """SCIM's simple types (RFC 7643 §2.3) that an organisation's own attributes may have."""

    STRING = "string", "Text"
    BOOLEAN = "boolean", "Yes or no"
    INTEGER = "integer", "Whole number"
    DECIMAL = "decimal", "Decimal number"
    DATETIME = "dateTime", "Date and time"


# SCIM's ATTRNAME (RFC 7643 §2.1): a letter, then letters, digits, "-" and "_".
ATTRIBUTE_NAME_PATTERN = r"^[A-Za-z][A-Za-z0-9_-]{0,63}$"
attribute_name_validator = RegexValidator(
    ATTRIBUTE_NAME_PATTERN,
    "Use 1 to 64 letters, digits, hyphens and underscores, starting with a letter "
    "(SCIM's attribute name grammar).",
)


class CustomAttribute(models.Model):
    """An attribute an organisation adds to its people's profile (cost centre codes, a learning
    track, a hire date…): set by Okta and Entra over SCIM as one schema extension of User, and
    by SAML attribute statements. Its values live in ``User.custom_attributes``."""

    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="custom_attributes"
    )
    name = models.CharField(max_length=64, validators=[attribute_name_validator])
    type = models.CharField(max_length=10, choices=AttributeType.choices)
    description = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=now, editable=False)

    class Meta:
        ordering = ["organisation", "name"]
        constraints = [
            # SCIM attribute names are case-insensitive (RFC 7643 §2.1).
            models.UniqueConstraint(
                Lower("name"),
                "organisation",
                name="custom_attribute_name_ci_unique",
                violation_error_message="This organisation already has an attribute of this name.",
            ),
            models.CheckConstraint(
                condition=Q(name__regex=ATTRIBUTE_NAME_PATTERN),
                name="custom_attribute_name_format",
            ),
            models.CheckConstraint(
                condition=Q(type__in=AttributeType.values), name="custom_attribute_type_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.type})"


class ActorKind(models.TextChoices):
    ADMIN = "admin", "Admin user"
    SCIM = "scim", "SCIM key"
    SAML = "saml", "SAML sign-in"
    SYSTEM = "system", "System"


class AuditEvent(models.Model):
    """One change of domain state: who did what to which object, and which fields changed."""

    organisation = models.ForeignKey(
        Organisation, null=True, blank=True, on_delete=models.CASCADE, related_name="audit_events"
    )
    created_at = models.DateTimeField(default=now, db_index=True)
    actor_kind = models.CharField(max_length=10, choices=ActorKind.choices)
    actor_user = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # What identifies the actor for people reading the log: a username, a key prefix, a NameID.
    actor_label = models.CharField(max_length=255, blank=True)
    action = models.CharField(max_length=50)
    target_type = models.CharField(max_length=30)
    target_id = models.CharField(max_length=64)
    target_label = models.CharField(max_length=255, blank=True)
    # {field: [old, new]} for updates; the initial values for creations.
    changes = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = "audit event"
        verbose_name_plural = "audit events"
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["organisation", "-created_at"], name="audit_org_created_idx"),
            models.Index(fields=["target_type", "target_id"], name="audit_target_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.action} {self.target_label or self.target_id}"


# Rows of PeopleCount per organisation. Concurrent creates in one organisation change different
# rows (a person's row is their id modulo this), so they do not queue for one row lock; reading
# the number sums at most this many rows.
PEOPLE_COUNT_SLOTS = 16


class PeopleCount(models.Model):
    """How many people an organisation has (support staff and deleted people not counted), as
    the sum of its rows. Kept by database triggers on the person table (migration 0008), inside
    the transaction of every insert, delete or change of ``deleted_at`` or ``organisation``,
    whatever makes it (services, bulk loads, the admin, raw SQL): it cannot drift, and keeping it
    sends no statement of its own. An unfiltered SCIM list answers its exact totalResults from it
    with one small indexed read instead of counting a million rows on every page.

    Nothing writes to it from Python. The organisation is a plain column (no foreign key): the
    trigger may add a row while the organisation's people are being deleted with it; a trigger
    on the organisation table removes its rows when it goes."""

    organisation_id = models.BigIntegerField()
    slot = models.PositiveSmallIntegerField()
    people = models.BigIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organisation_id", "slot"], name="people_count_slot"),
        ]

    def __str__(self) -> str:
        return f"organisation {self.organisation_id}, slot {self.slot}: {self.people}"

    @classmethod
    def of(cls, organisation_id: int) -> int:
        rows = _PEOPLE_IN(organisation_id=organisation_id)
        return int(rows[0][0]) if rows else 0

    @staticmethod
    def total_in(organisation_id: int) -> models.QuerySet[Any, tuple[Any]]:
        """The organisation's people as one value (no row when it has none), for a subquery."""
        return (
            PeopleCount.objects.filter(organisation_id=organisation_id)
            .values("organisation_id")
            .annotate(total=models.Sum("people"))
            .values_list("total")
        )


# A list page asks it: compiled once (auzlearn/compiled_reads.py), as building and compiling
# the aggregate took a fifteenth of a page of 100 (cProfile, bench/README.md).
_PEOPLE_IN = CompiledValues(PeopleCount.total_in, organisation_id=-1)
