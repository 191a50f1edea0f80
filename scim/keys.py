"""Issuing, revoking and verifying SCIM Secret Keys."""

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts import audit
from accounts.audit import Actor
from accounts.models import Organisation, User
from scim.models import KEY_PREFIX_LENGTH, ScimKey

# last_used_at is informational; writing it on every request would turn each read into a write.
LAST_USED_RESOLUTION = timedelta(minutes=1)


@dataclass(frozen=True)
class IssuedKey:
    """A new key: ``secret`` is shown once and never stored."""

    secret: str
    record: ScimKey


def digest(secret: str) -> str:
    return hmac.new(settings.SCIM_KEY_SECRET.encode(), secret.encode(), hashlib.sha256).hexdigest()


@transaction.atomic
def issue(*, organisation: Organisation, actor: Actor, created_by: User | None) -> IssuedKey:
    """A new key for the organisation; the one it had stops working at once."""
    revoke(organisation=organisation, actor=actor)
    secret = secrets.token_urlsafe(32)  # 256 bits
    record = ScimKey.objects.create(
        organisation=organisation,
        prefix=secret[:KEY_PREFIX_LENGTH],
        digest=digest(secret),
        created_by=created_by,
    )
    audit.record(
        actor=actor, action="scim.key_issue", target=organisation, changes={"prefix": record.prefix}
    )
    return IssuedKey(secret=secret, record=record)


@transaction.atomic
def revoke(*, organisation: Organisation, actor: Actor) -> list[str]:
    """Revoke the organisation's active key, if any; returns the revoked prefixes."""
    active = list(
        ScimKey.objects.select_for_update()
        .filter(organisation=organisation, revoked_at__isnull=True)
        .values_list("prefix", flat=True)
    )
    if active:
        ScimKey.objects.filter(prefix__in=active).update(revoked_at=timezone.now())
        audit.record(
            actor=actor, action="scim.key_revoke", target=organisation, changes={"prefix": active}
        )
    return active


def verify(secret: str) -> ScimKey | None:
    """The active key ``secret`` is, or None. One indexed read; constant-time comparison."""
    if len(secret) < KEY_PREFIX_LENGTH or len(secret) > 200:
        return None
    try:
        # get(), not first(): the prefix is unique, and first() would sort the one row.
        key = ScimKey.objects.select_related("organisation").get(
            prefix=secret[:KEY_PREFIX_LENGTH], revoked_at__isnull=True
        )
    except ScimKey.DoesNotExist:
        return None
    if not hmac.compare_digest(key.digest, digest(secret)):
        return None
    _note_use(key)
    return key


def _note_use(key: ScimKey) -> None:
    moment = timezone.now()
    if key.last_used_at is None or moment - key.last_used_at > LAST_USED_RESOLUTION:
        ScimKey.objects.filter(pk=key.pk).update(last_used_at=moment)
        key.last_used_at = moment
