"""Starting a SAML sign-in and deciding what a response at the ACS leads to (DESIGN §6)."""

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import cast

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from onelogin.saml2.auth import OneLogin_Saml2_Auth

from accounts import services
from accounts.audit import Actor
from accounts.errors import AccountsError
from accounts.models import CustomAttribute, User
from sso import mapping
from sso.attributes import profile_from
from sso.models import (
    AcceptedAssertion,
    PendingSignIn,
    SamlConnection,
    SignInAttempt,
    SignInOutcome,
)
from sso.saml_settings import path_of, request_data, saml_settings
from sso.validation import Check, Expectation, Verdict, validate

PENDING_LIFETIME = timedelta(minutes=10)
ACCESS_REMOVED = "access_removed"
UNKNOWN_USER = "unknown_user"


def browser_digest(nonce: str) -> str:
    return hashlib.sha256(nonce.encode()).hexdigest()


@dataclass(frozen=True)
class Started:
    redirect_url: str  # the IdP, with our AuthnRequest
    nonce: str  # for the browser's cookie; only its digest is stored


def start(
    connection: SamlConnection, *, relay_state: str = "", tested_by: User | None = None
) -> Started:
    """An SP-initiated sign-in: an AuthnRequest over HTTP-Redirect, its id stored single-use
    for this browser."""
    auth = OneLogin_Saml2_Auth(
        request_data(path_of(connection.login_url)), saml_settings(connection)
    )
    # An empty RelayState rather than python3-saml's default (the login URL itself).
    redirect_url = auth.login(return_to=relay_state)
    nonce = secrets.token_urlsafe(32)
    PendingSignIn.objects.create(
        connection=connection,
        request_id=auth.get_last_request_id(),
        browser_digest=browser_digest(nonce),
        relay_state=relay_state,
        tested_by=tested_by,
    )
    return Started(redirect_url=redirect_url, nonce=nonce)


def claim_pending(connection: SamlConnection, nonce: str | None) -> PendingSignIn | None:
    """This browser's most recent unexpired request for this connection, marked used."""
    if not nonce:
        return None
    pending = (
        PendingSignIn.objects.filter(
            connection=connection,
            browser_digest=browser_digest(nonce),
            used_at__isnull=True,
            created_at__gt=timezone.now() - PENDING_LIFETIME,
        )
        .order_by("-created_at")
        .first()
    )
    if pending is None:
        return None
    claimed = PendingSignIn.objects.filter(pk=pending.pk, used_at__isnull=True).update(
        used_at=timezone.now()
    )
    return pending if claimed else None


@dataclass(frozen=True)
class Result:
    attempt: SignInAttempt
    user: User | None = None  # set when the person is to be signed in

    @property
    def is_test(self) -> bool:
        return self.attempt.outcome in (SignInOutcome.TEST_PASSED, SignInOutcome.TEST_FAILED)


def consume(
    connection: SamlConnection,
    encoded: str,
    *,
    pending: PendingSignIn | None,
    ip: str | None,
) -> Result:
    """Validate a response and decide: sign someone in, refuse with a reason, or, for a Test
    sign-in, only report the checks."""
    expectation = Expectation(
        request_id=pending.request_id if pending else None,
        allow_idp_initiated=connection.allow_idp_initiated,
        skew=timedelta(seconds=settings.SAML_CLOCK_SKEW_SECONDS),
        now=timezone.now(),
    )
    verdict = validate(connection, encoded, expectation)
    if verdict.assertion_id and not _first_use(connection, verdict):
        _mark_replayed(verdict)
    record = _Recorder(connection, verdict, ip)
    if pending is not None and pending.tested_by is not None:
        # What each mapped attribute would set, shown with the checks; nothing changes.
        readings = _mapped(connection, verdict.attributes)
        return Result(record.test([mapping.check(r, applied=False) for r in readings]))
    failure = verdict.failure
    if failure is not None:
        return Result(record.refused(failure.code, failure.detail))
    return _sign_in(connection, verdict, record)


def _first_use(connection: SamlConnection, verdict: Verdict) -> bool:
    """Whether the assertion is used here for the first time. A response that passes every
    other check is stored, single-use from now on: the INSERT is the check, so two requests
    racing with the same assertion cannot both pass. One that fails is only looked up, so that
    its checks also say whether it was a replay."""
    if verdict.passed:
        return _accept_once(connection, verdict)
    return not AcceptedAssertion.objects.filter(
        connection=connection, assertion_id=verdict.assertion_id
    ).exists()


def _accept_once(connection: SamlConnection, verdict: Verdict) -> bool:
    """Store the assertion id; False when another request stored it first."""
    try:
        with transaction.atomic():
            AcceptedAssertion.objects.create(
                connection=connection,
                assertion_id=verdict.assertion_id,
                expires_at=verdict.expires_at or timezone.now(),
            )
    except IntegrityError:
        return False
    return True


def _mark_replayed(verdict: Verdict) -> None:
    for index, check in enumerate(verdict.checks):
        if check.code == "replay":
            verdict.checks[index] = Check(
                "replay",
                check.name,
                False,
                "This assertion was already used to sign in; each is accepted once.",
            )


def _sign_in(connection: SamlConnection, verdict: Verdict, record: "_Recorder") -> Result:
    organisation = connection.organisation
    people = User.objects.for_organisation(organisation)
    user = people.with_username(verdict.name_id).first()
    if user is None:
        by_email = list(people.with_email(verdict.name_id)[:2])
        user = by_email[0] if len(by_email) == 1 else None
    profile = profile_from(verdict.attributes)
    readings = _mapped(connection, verdict.attributes)
    # A mapped profile field overrides the conventional names: the admin chose it.
    profile.update(
        {r.mapping.name: str(r.value) for r in readings if r.sets and not r.mapping.is_custom}
    )
    actor = Actor.saml(verdict.name_id)
    if user is not None and (not user.is_active or user.is_deleted):
        return Result(record.refused(ACCESS_REMOVED, "This person's access was removed."))
    before = _values_before(user, readings)
    try:
        if user is None:
            if not connection.jit_allowed:
                return Result(
                    record.refused(UNKNOWN_USER, "No account with this NameID in the organisation.")
                )
            profile.setdefault("email", verdict.name_id if "@" in verdict.name_id else "")
            profile.setdefault("given_name", "")
            profile.setdefault("family_name", "")
            user = services.user_create(
                organisation=organisation,
                actor=actor,
                username=verdict.name_id,
                **cast(services.UserFields, profile),
            )
        else:
            changed = {
                name: value for name, value in profile.items() if getattr(user, name) != value
            }
            if changed:  # most sign-ins change nothing: no need to open a savepoint for them
                services.user_update(user=user, actor=actor, **cast(services.UserChanges, changed))
    except (AccountsError, ValidationError) as error:
        return Result(record.refused("profile", f"The attributes could not be used: {error}"))
    checks = _apply_custom_values(user, actor, readings, before)
    return Result(record.signed_in(user, checks), user=user)


def _mapped(connection: SamlConnection, attributes: dict[str, list[str]]) -> list[mapping.Reading]:
    """What the connection's attribute mapping makes of these attributes. Nothing is read for a
    connection without a mapping (the ACS's budget), and the organisation's own attributes only
    when a mapping sets one of them."""
    mappings = mapping.mappings_of(connection.attribute_mapping)
    if not mappings:
        return []
    defined = {}
    if any(line.is_custom for line in mappings):
        defined = {
            attribute.name.lower(): attribute
            for attribute in CustomAttribute.objects.filter(organisation=connection.organisation)
        }
    return mapping.read(attributes, mappings, defined)


def _values_before(user: User | None, readings: list[mapping.Reading]) -> list[object]:
    """Each mapping's target as it was before this sign-in, for its check's words."""
    if user is None:
        return [None] * len(readings)
    return [
        user.custom_attributes.get(r.mapping.name)
        if r.mapping.is_custom
        else getattr(user, r.mapping.name, None)
        for r in readings
    ]


def _apply_custom_values(
    user: User, actor: Actor, readings: list[mapping.Reading], before: list[object]
) -> list[dict[str, object]]:
    """Set the organisation's own attributes the mapping read, when they changed; the checks
    that say what each mapping did. The values were checked against their types already, so
    only a removal of the attribute during this sign-in can refuse them: then they are skipped,
    and the sign-in goes ahead all the same."""
    changed = {
        r.mapping.name: r.value
        for r, old in zip(readings, before, strict=True)
        if r.sets and r.mapping.is_custom and old != r.value
    }
    if changed:
        try:
            services.user_set_custom_attributes(user=user, actor=actor, values=changed)
        except (AccountsError, ValidationError) as error:
            skipped = f"Could not be set: {error}"
            readings = [
                mapping.Reading(r.mapping, r.label, problem=skipped)
                if r.mapping.name in changed and r.mapping.is_custom
                else r
                for r in readings
            ]
    return [
        mapping.check(r, before=old, applied=True) for r, old in zip(readings, before, strict=True)
    ]


class _Recorder:
    """Writes the SignInAttempt of this response."""

    def __init__(self, connection: SamlConnection, verdict: Verdict, ip: str | None) -> None:
        self.connection, self.verdict, self.ip = connection, verdict, ip

    def _save(
        self,
        outcome: str,
        code: str = "",
        reason: str = "",
        user: User | None = None,
        mapped: list[dict[str, object]] | None = None,
    ) -> SignInAttempt:
        return SignInAttempt.objects.create(
            organisation=self.connection.organisation,
            connection=self.connection,
            outcome=outcome,
            reason_code=code,
            reason=reason,
            name_id=self.verdict.name_id[:255],
            attributes=self.verdict.attributes,
            user=user,
            ip=self.ip,
            # The response's checks, then what each mapped attribute did (or would do).
            checks=[check.as_dict() for check in self.verdict.checks] + (mapped or []),
            clock_difference_seconds=self.verdict.clock_difference_seconds,
        )

    def test(self, mapped: list[dict[str, object]]) -> SignInAttempt:
        failure = self.verdict.failure
        if failure is None:
            return self._save(SignInOutcome.TEST_PASSED, mapped=mapped)
        return self._save(SignInOutcome.TEST_FAILED, failure.code, failure.detail, mapped=mapped)

    def refused(self, code: str, reason: str) -> SignInAttempt:
        return self._save(SignInOutcome.REFUSED, code, reason)

    def signed_in(self, user: User, mapped: list[dict[str, object]]) -> SignInAttempt:
        return self._save(SignInOutcome.SIGNED_IN, user=user, mapped=mapped)
