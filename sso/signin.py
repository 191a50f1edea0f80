"""Starting a SAML sign-in and deciding what a response at the ACS leads to (DESIGN §6)."""

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from onelogin.saml2.auth import OneLogin_Saml2_Auth

from accounts import services
from accounts.audit import Actor
from accounts.errors import AccountsError
from accounts.models import User
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
        return Result(record.test())
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
    actor = Actor.saml(verdict.name_id)
    if user is not None and (not user.is_active or user.is_deleted):
        return Result(record.refused(ACCESS_REMOVED, "This person's access was removed."))
    try:
        if user is None:
            if not connection.jit_allowed:
                return Result(
                    record.refused(UNKNOWN_USER, "No account with this NameID in the organisation.")
                )
            user = services.user_create(
                organisation=organisation,
                actor=actor,
                username=verdict.name_id,
                email=profile.get("email") or (verdict.name_id if "@" in verdict.name_id else ""),
                given_name=profile.get("given_name", ""),
                family_name=profile.get("family_name", ""),
            )
        else:
            changed = {
                name: value for name, value in profile.items() if getattr(user, name) != value
            }
            if changed:  # most sign-ins change nothing: no need to open a savepoint for them
                services.user_update(user=user, actor=actor, **changed)
    except (AccountsError, ValidationError) as error:
        return Result(record.refused("profile", f"The attributes could not be used: {error}"))
    return Result(record.signed_in(user), user=user)


class _Recorder:
    """Writes the SignInAttempt of this response."""

    def __init__(self, connection: SamlConnection, verdict: Verdict, ip: str | None) -> None:
        self.connection, self.verdict, self.ip = connection, verdict, ip

    def _save(
        self, outcome: str, code: str = "", reason: str = "", user: User | None = None
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
            checks=[check.as_dict() for check in self.verdict.checks],
            clock_difference_seconds=self.verdict.clock_difference_seconds,
        )

    def test(self) -> SignInAttempt:
        failure = self.verdict.failure
        if failure is None:
            return self._save(SignInOutcome.TEST_PASSED)
        return self._save(SignInOutcome.TEST_FAILED, failure.code, failure.detail)

    def refused(self, code: str, reason: str) -> SignInAttempt:
        return self._save(SignInOutcome.REFUSED, code, reason)

    def signed_in(self, user: User) -> SignInAttempt:
        return self._save(SignInOutcome.SIGNED_IN, user=user)
