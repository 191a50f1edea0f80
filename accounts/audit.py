"""Who changed what: the actor passed to every service, and the audit rows they write."""

from dataclasses import dataclass
from typing import Any

from accounts.models import ActorKind, AuditEvent, Organisation, Team, User


@dataclass(frozen=True)
class Actor:
    kind: ActorKind
    user: User | None = None
    label: str = ""

    @classmethod
    def admin(cls, user: User) -> "Actor":
        return cls(kind=ActorKind.ADMIN, user=user, label=user.username)

    @classmethod
    def scim_key(cls, key_prefix: str) -> "Actor":
        return cls(kind=ActorKind.SCIM, label=f"SCIM key {key_prefix}")

    @classmethod
    def saml(cls, name_id: str) -> "Actor":
        return cls(kind=ActorKind.SAML, label=f"SAML sign-in {name_id}")

    @classmethod
    def system(cls, reason: str) -> "Actor":
        return cls(kind=ActorKind.SYSTEM, label=reason)


@dataclass(frozen=True)
class Subject:
    """What a row can be about that is not a row of ours: a client address, or a sign-in name
    that names nobody (kept as typed, so that support staff can see what was tried)."""

    kind: str
    id: str
    label: str = ""
    organisation: Organisation | None = None


def event(
    *,
    actor: Actor,
    action: str,
    target: Organisation | User | Team | Subject,
    changes: dict[str, Any] | None = None,
) -> AuditEvent:
    """An unsaved audit row, for callers that write many at once with bulk_create."""
    organisation_id: int | None
    if isinstance(target, Organisation):
        organisation_id, target_id, label = target.pk, target.public_id, target.slug
    elif isinstance(target, Subject):
        organisation_id = target.organisation.pk if target.organisation is not None else None
        target_id, label = target.id[:64], target.label or target.id
    elif isinstance(target, User):
        organisation_id, target_id, label = (
            target.organisation_id,
            str(target.public_id),
            target.username,
        )
    else:
        organisation_id, target_id, label = (
            target.organisation_id,
            str(target.public_id),
            target.display_name,
        )
    return AuditEvent(
        organisation_id=organisation_id,
        actor_kind=actor.kind,
        actor_user=actor.user,
        actor_label=actor.label[:255],
        action=action,
        target_type=target.kind if isinstance(target, Subject) else type(target).__name__.lower(),
        target_id=target_id,
        target_label=label[:255],
        changes=changes or {},
    )


def record(
    *,
    actor: Actor,
    action: str,
    target: Organisation | User | Team | Subject,
    changes: dict[str, Any] | None = None,
) -> AuditEvent:
    audit_event = event(actor=actor, action=action, target=target, changes=changes)
    audit_event.save()
    return audit_event
