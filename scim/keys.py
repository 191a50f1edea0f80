"""Issuing, rotating, revoking and verifying SCIM Secret Keys.

An organisation has a current key and, for a while after Generate Key, the previous one: the
identity provider keeps sending the previous key until the admin pastes the new one in, so
``rotate`` keeps it working until the new key is first used (``note_use``) or for
SCIM_KEY_OVERLAP_HOURS, whichever comes first. ``issue`` (``manage.py scim_key``) replaces the
keys at once; ``revoke`` stops them all. Validity is read from the database on every request, never
cached in a process, so a revoked key stops on every app server at once.
"""

import hashlib
import hmac
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from accounts import audit
from accounts.audit import Actor
from accounts.models import Organisation, User
from auzlearn import db_faults
from auzlearn.compiled_reads import CompiledRead
from auzlearn.kept_connections import first_read
from scim.models import KEY_PREFIX_LENGTH, ScimKey

# last_used_at is informational; writing it on every request would turn each read into a write.
LAST_USED_RESOLUTION = timedelta(minutes=1)

# What the audit trail says when a key stops (the "reason" of a scim.key_revoke event).
REPLACED_AT_ONCE = "replaced at once by a new key"
REPLACED_BY_USE = "replaced: the new key was used"
STOPPED_EARLY = "stopped before the new key was used"
NEVER_USED = "replaced before it was ever used"


def now() -> datetime:
    """The time every key decision is taken at: the one thing tests move, so that overlap
    expiry is tested through the real checks rather than by patching them."""
    return timezone.now()


@dataclass(frozen=True)
class IssuedKey:
    """A new key: ``secret`` is shown once and never stored."""

    secret: str
    record: ScimKey


@dataclass(frozen=True)
class RotationPlan:
    """What Generate Key does to the keys an organisation has: ``keep`` goes on working for the
    overlap, ``drop`` stops at once."""

    keep: ScimKey | None
    drop: ScimKey | None
    keep_until: datetime


def digest(secret: str) -> str:
    return hmac.new(settings.SCIM_KEY_SECRET.encode(), secret.encode(), hashlib.sha256).hexdigest()


def live_keys(organisation: Organisation) -> tuple[ScimKey | None, ScimKey | None]:
    """The organisation's current key and its previous key while that still works: one read."""
    rows = ScimKey.objects.select_related("created_by").filter(
        organisation=organisation, revoked_at__isnull=True
    )
    current, previous = _split(list(rows))
    if previous is not None and not _works(previous, now()):
        previous = None
    return current, previous


def plan_rotation(current: ScimKey | None, previous: ScimKey | None) -> RotationPlan:
    """The key the identity provider may be using is the one kept. That is the current key,
    unless it was never used while the previous one still works: then the admin generated
    again before pasting the last new key anywhere (lost it, say), and the identity provider
    still has the previous one."""
    moment = now()
    until = moment + timedelta(hours=settings.SCIM_KEY_OVERLAP_HOURS)
    if (
        current is not None
        and current.last_used_at is None
        and previous is not None
        and _works(previous, moment)
    ):
        return RotationPlan(keep=previous, drop=current, keep_until=until)
    return RotationPlan(keep=current, drop=previous, keep_until=until)


@transaction.atomic
def rotate(*, organisation: Organisation, actor: Actor, created_by: User | None) -> IssuedKey:
    """Generate Key: a new current key, and the key in use keeps working until the new one is
    first used or for SCIM_KEY_OVERLAP_HOURS at most (``plan_rotation``)."""
    current, previous = _split(list(_locked(organisation)))
    plan = plan_rotation(current, previous)
    if plan.drop is not None:
        reason = NEVER_USED if plan.drop is current else REPLACED_AT_ONCE
        _revoke([plan.drop], organisation=organisation, actor=actor, reason=reason)
    if plan.keep is not None:
        plan.keep.retires_at = plan.keep_until
        plan.keep.save(update_fields=["retires_at"])
        audit.record(
            actor=actor,
            action="scim.key_retire",
            target=organisation,
            changes={"prefix": plan.keep.prefix, "until": plan.keep_until.isoformat()},
        )
    return _create(
        organisation=organisation, actor=actor, created_by=created_by, replaces=plan.keep
    )


@transaction.atomic
def issue(*, organisation: Organisation, actor: Actor, created_by: User | None) -> IssuedKey:
    """A new key for the organisation; the ones it had stop working at once."""
    _revoke(list(_locked(organisation)), organisation=organisation, actor=actor, reason="")
    return _create(organisation=organisation, actor=actor, created_by=created_by, replaces=None)


@transaction.atomic
def revoke(*, organisation: Organisation, actor: Actor) -> list[str]:
    """Stop every key of the organisation, the previous one too; returns the revoked prefixes."""
    return _revoke(list(_locked(organisation)), organisation=organisation, actor=actor, reason="")


@transaction.atomic
def stop_previous(*, organisation: Organisation, actor: Actor) -> str | None:
    """Stop the previous key now, before its overlap ends (a leaked key); its prefix, or None
    when there is none."""
    previous = _split(list(_locked(organisation)))[1]
    if previous is None:
        return None
    _revoke([previous], organisation=organisation, actor=actor, reason=STOPPED_EARLY)
    return previous.prefix


# The key and its organisation, by prefix (unique): the first read of every SCIM request, its SQL
# compiled once per process (auzlearn/compiled_reads.py).
_BY_PREFIX = CompiledRead(
    lambda prefix: ScimKey.objects.select_related("organisation").filter(
        prefix=prefix, revoked_at__isnull=True
    ),
    prefix="\x00a key prefix",
)


def verify(secret: str) -> ScimKey | None:
    """The working key ``secret`` is, or None. One indexed read, no write; constant-time
    comparison."""
    if len(secret) < KEY_PREFIX_LENGTH or len(secret) > 200:
        return None
    # The request's first query: it also stands in for the connection's health check.
    found = first_read(lambda: _BY_PREFIX(prefix=secret[:KEY_PREFIX_LENGTH]))
    if not found:
        return None
    key = found[0]
    if not hmac.compare_digest(key.digest, digest(secret)):
        return None
    if not _works(key, now()):
        return None
    return key


def note_use(key: ScimKey) -> None:
    """A request authenticated with ``key`` against its own Tenant URL was accepted. The first
    such request of a new key ends the previous key's overlap: the identity provider has the
    new key, so the old one, perhaps leaked, need not work a minute longer."""
    moment = now()
    if key.last_used_at is not None and moment - key.last_used_at <= LAST_USED_RESOLUTION:
        return
    # Only a record: when the database takes no writes (read-only after a failover), the
    # request it belongs to (a GET, say) goes on without it, and a later request writes it.
    db_faults.skip_if_unwritable(lambda: _note_use(key, moment), default=None, outage=_unnoted)


_unnoted = db_faults.Outage(logging.getLogger(__name__), "SCIM keys' last use not recorded")


def _note_use(key: ScimKey, moment: datetime) -> None:
    first_use = key.last_used_at is None
    ScimKey.objects.filter(pk=key.pk).update(last_used_at=moment)
    replaced = key.replaces_id
    if first_use and replaced is not None:
        _stop_replaced(key, replaced)
    key.last_used_at = moment


# --- helpers ------------------------------------------------------------------------------------


@transaction.atomic
def _stop_replaced(key: ScimKey, replaced: int) -> None:
    # Locked, so that two app servers seeing the new key's first use at the same moment stop
    # the previous key (and audit it) once.
    previous = list(_locked(key.organisation).filter(pk=replaced))
    _revoke(
        previous,
        organisation=key.organisation,
        actor=Actor.scim_key(key.prefix),
        reason=REPLACED_BY_USE,
    )


def _locked(organisation: Organisation) -> QuerySet[ScimKey]:
    return (
        ScimKey.objects.select_for_update()
        .filter(organisation=organisation, revoked_at__isnull=True)
        .order_by("pk")
    )


def _split(rows: list[ScimKey]) -> tuple[ScimKey | None, ScimKey | None]:
    current = next((key for key in rows if key.retires_at is None), None)
    previous = next((key for key in rows if key.retires_at is not None), None)
    return current, previous


def _works(key: ScimKey, moment: datetime) -> bool:
    return key.revoked_at is None and (key.retires_at is None or moment < key.retires_at)


def _create(
    *, organisation: Organisation, actor: Actor, created_by: User | None, replaces: ScimKey | None
) -> IssuedKey:
    secret = secrets.token_urlsafe(32)  # 256 bits
    record = ScimKey.objects.create(
        organisation=organisation,
        prefix=secret[:KEY_PREFIX_LENGTH],
        digest=digest(secret),
        created_by=created_by,
        replaces=replaces,
    )
    audit.record(
        actor=actor, action="scim.key_issue", target=organisation, changes={"prefix": record.prefix}
    )
    return IssuedKey(secret=secret, record=record)


def _revoke(
    keys: list[ScimKey], *, organisation: Organisation, actor: Actor, reason: str
) -> list[str]:
    """Revoke these (locked) keys with one audit event; their prefixes."""
    if not keys:
        return []
    moment = now()
    prefixes = [key.prefix for key in keys]
    ScimKey.objects.filter(pk__in=[key.pk for key in keys]).update(revoked_at=moment)
    for key in keys:
        key.revoked_at = moment
    changes: dict[str, object] = {"prefix": prefixes}
    if reason:
        changes["reason"] = reason
    audit.record(actor=actor, action="scim.key_revoke", target=organisation, changes=changes)
    return prefixes
