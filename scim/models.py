"""SCIM keys and the log of every SCIM request."""

from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Lower
from django.utils.timezone import now

from accounts.models import Organisation, User

KEY_PREFIX_LENGTH = 8


class ScimKey(models.Model):
    """A Secret Key a SCIM client (Okta, Entra) authenticates with.

    Only a keyed hash of the key is stored (HMAC-SHA256 with SCIM_KEY_SECRET), next to a short
    prefix that finds the row and identifies the key on the settings page. A cheap hash on
    purpose: the key is 256 random bits, so a slow password hasher would add nothing but cost,
    and Entra sends 25 requests per second (DESIGN §5).

    An organisation has at most two keys that work: its current key and, for a while after
    Generate Key, the previous one (``retires_at`` set), so that provisioning goes on while the
    admin pastes the new key into the identity provider (``scim.keys.rotate``).
    """

    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="scim_keys"
    )
    prefix = models.CharField(max_length=KEY_PREFIX_LENGTH, unique=True)
    digest = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=now)
    created_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Written at most once a minute, so that verification stays a read.
    last_used_at = models.DateTimeField(null=True, blank=True)
    # Set on the previous key when a new one is generated: it works until the new key is first
    # used (then it is revoked) or until this moment, whichever comes first.
    retires_at = models.DateTimeField(null=True, blank=True)
    # On a key made by rotation, the key it replaces: its first use revokes that one. Read with
    # the key itself, so that a key that replaced none costs nothing more on first use.
    replaces = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "SCIM key"
        verbose_name_plural = "SCIM keys"
        constraints = [
            models.UniqueConstraint(
                fields=["organisation"],
                condition=Q(revoked_at__isnull=True, retires_at__isnull=True),
                name="scim_key_one_current_per_organisation",
            ),
            models.UniqueConstraint(
                fields=["organisation"],
                condition=Q(revoked_at__isnull=True, retires_at__isnull=False),
                name="scim_key_one_previous_per_organisation",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.organisation.slug})"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

    @property
    def is_previous(self) -> bool:
        """The key a newer one replaces, in its overlap (or past it, if not revoked yet)."""
        return self.revoked_at is None and self.retires_at is not None


class Outcome(models.TextChoices):
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"


class ScimRequest(models.Model):
    """One SCIM request as the Activity tab shows it. Never holds a password or a key."""

    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="scim_requests"
    )
    created_at = models.DateTimeField(default=now)
    client = models.CharField(max_length=50, blank=True)
    key_prefix = models.CharField(max_length=KEY_PREFIX_LENGTH, blank=True)
    method = models.CharField(max_length=10)
    path = models.CharField(max_length=500)
    status = models.PositiveSmallIntegerField()
    outcome = models.CharField(max_length=10, choices=Outcome.choices)
    duration_ms = models.PositiveIntegerField()
    resource_type = models.CharField(max_length=10, blank=True)
    resource_id = models.CharField(max_length=64, blank=True)
    resource_label = models.CharField(max_length=255, blank=True)
    # What was asked, without secrets: attribute names and short values, member counts.
    summary = models.JSONField(default=dict, blank=True)
    # For failures, what went wrong in plain words.
    explanation = models.TextField(blank=True)
    # What the Activity tab's sentence needs beyond the columns above, taken at write time from
    # the body and the answer (scim.sentences.facts_of): a change of active, member counts, the
    # name sent, how many a lookup found. Never a secret.
    facts = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = "SCIM request"
        verbose_name_plural = "SCIM requests"
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["organisation", "-created_at"], name="scim_request_org_time_idx"),
            models.Index(
                fields=["organisation", "outcome", "-created_at"],
                name="scim_request_org_outcome_idx",
            ),
            models.Index(fields=["created_at"], name="scim_request_time_idx"),
            # The Activity tab's search: a person's or team's entries by their SCIM id, and
            # lookups by the value they looked for (scim.request_log.search).
            models.Index(
                fields=["organisation", "resource_id", "-created_at"],
                name="scim_request_org_resource_idx",
            ),
            models.Index(
                F("organisation"), Lower("resource_label"), name="scim_request_org_label_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.method} {self.path} {self.status}"


class RefusedRequestCount(models.Model):
    """How many SCIM requests to an organisation's Tenant URL were refused in one hour for want
    of a valid key. Only the count: nothing such a request sends is stored (DESIGN §5), and one
    row per organisation and hour, however many requests arrive (``scim.activity``)."""

    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="scim_refused_request_counts"
    )
    hour = models.DateTimeField()  # the start of the hour, UTC
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "hour"], name="scim_refused_one_row_per_hour"
            ),
        ]
        indexes = [models.Index(fields=["hour"], name="scim_refused_hour_idx")]

    def __str__(self) -> str:
        return f"{self.count} refused at {self.hour:%Y-%m-%d %H}:00 ({self.organisation_id})"
