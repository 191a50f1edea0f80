from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand
from django.utils import timezone

from sso.models import AcceptedAssertion, PendingSignIn, SignInAttempt
from sso.signin import PENDING_LIFETIME


class Command(BaseCommand):
    help = (
        "Delete what SAML sign-in no longer needs: expired entries of the replay store, "
        "sign-in requests that were never answered, and sign-in attempts older than "
        "SCIM_REQUEST_RETENTION_DAYS (the Activity tab's retention). Run daily from cron."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        now = timezone.now()
        skew = timedelta(seconds=settings.SAML_CLOCK_SKEW_SECONDS)
        # An assertion past its expiry (plus the skew we allow) is refused by the validity
        # check anyway, so the replay store no longer needs to remember it.
        assertions, _ = AcceptedAssertion.objects.filter(expires_at__lt=now - skew).delete()
        pending, _ = PendingSignIn.objects.filter(created_at__lt=now - PENDING_LIFETIME).delete()
        retention = timedelta(days=settings.SCIM_REQUEST_RETENTION_DAYS)
        attempts, _ = SignInAttempt.objects.filter(created_at__lt=now - retention).delete()
        self.stdout.write(
            f"Deleted {assertions} expired assertion id(s), {pending} unanswered sign-in "
            f"request(s) and {attempts} sign-in attempt(s) older than "
            f"{settings.SCIM_REQUEST_RETENTION_DAYS} days."
        )
