from datetime import timedelta
from io import StringIO

from django.core.management import call_command
from django.utils import timezone

from sso import services
from sso.models import AcceptedAssertion, PendingSignIn, SignInAttempt, SignInOutcome


def test_prune_keeps_what_is_still_needed_and_deletes_the_rest(org):
    connection = services.connection_for(organisation=org, provider="okta")
    now = timezone.now()
    expired = AcceptedAssertion.objects.create(
        connection=connection, assertion_id="_old", expires_at=now - timedelta(hours=1)
    )
    live = AcceptedAssertion.objects.create(
        connection=connection, assertion_id="_live", expires_at=now + timedelta(minutes=5)
    )
    stale = PendingSignIn.objects.create(
        connection=connection,
        request_id="_stale",
        browser_digest="x",
        created_at=now - timedelta(hours=1),
    )
    fresh = PendingSignIn.objects.create(
        connection=connection, request_id="_fresh", browser_digest="y"
    )
    old = SignInAttempt.objects.create(
        organisation=org, outcome=SignInOutcome.REFUSED, created_at=now - timedelta(days=31)
    )
    recent = SignInAttempt.objects.create(organisation=org, outcome=SignInOutcome.SIGNED_IN)

    out = StringIO()
    call_command("prune_sign_in_records", stdout=out)

    assert set(AcceptedAssertion.objects.all()) == {live}
    assert set(PendingSignIn.objects.all()) == {fresh}
    assert set(SignInAttempt.objects.all()) == {recent}
    assert not AcceptedAssertion.objects.filter(pk=expired.pk).exists()
    assert not PendingSignIn.objects.filter(pk=stale.pk).exists()
    assert not SignInAttempt.objects.filter(pk=old.pk).exists()
    assert (
        "Deleted 1 expired assertion id(s), 1 unanswered sign-in request(s) and 1" in out.getvalue()
    )
