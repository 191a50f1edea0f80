from collections.abc import Callable
from typing import Any

from django.core.cache import caches
from django.core.cache.backends.locmem import LocMemCache
from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts import audit, throttle
from accounts.client import address_block
from accounts.models import Organisation, User

USAGE = "ORG_SLUG LOGIN, or --staff LOGIN, or --address IP"


class Command(BaseCommand):
    help = (
        "Clear the sign-in back-off of an account (ORG_SLUG LOGIN, LOGIN being the userName or "
        "email as the person types it), of a support staff account (--staff LOGIN) or of a client "
        "address (--address IP), so that password sign-in works again at once."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("organisation", nargs="?", metavar="ORG_SLUG")
        parser.add_argument("login", nargs="?", metavar="LOGIN")
        parser.add_argument("--staff", metavar="LOGIN", help="a support staff userName")
        parser.add_argument("--address", metavar="IP", help="a client address")

    def handle(self, *args: Any, **options: Any) -> None:
        slug: str | None = options["organisation"]
        login: str | None = options["login"]
        staff: str | None = options["staff"]
        address: str | None = options["address"]
        account_given = slug is not None and login is not None
        whose = [slug is not None or login is not None, staff is not None, address is not None]
        if whose.count(True) != 1 or (whose[0] and not account_given):
            raise CommandError(f"Say whose back-off to clear: {USAGE}.")

        target: User | audit.Subject
        if address is not None:
            block = address_block(address)
            name, action = f"address {block}", "address.sign_in_unlocked"
            target = audit.Subject(kind="address", id=block)
            cleared = _cleared(lambda: throttle.clear_address(address))
        else:
            organisation = (slug or "").strip().lower()
            login = login if account_given else staff
            assert login is not None
            if organisation and not Organisation.objects.filter(slug=organisation).exists():
                raise CommandError(f"No organisation has the slug {organisation!r}.")
            name = f"{organisation} / {login}" if organisation else f"support staff {login}"
            action = "user.sign_in_unlocked"
            target = throttle.account_target(organisation, login)
            cleared = _cleared(lambda: throttle.clear_account(organisation, login))
        audit.record(
            actor=audit.Actor.system("manage.py sign_in_unlock"),
            action=action,
            target=target,
            changes={"failures": cleared.failures, "locked_seconds": cleared.locked_seconds},
        )
        if cleared.locked_seconds:
            state = f"was locked out for {throttle.in_minutes(cleared.locked_seconds)} more"
        else:
            state = "was not locked out"
        self.stdout.write(
            f"Cleared the sign-in back-off of {name}: it {state}, after {cleared.failures} "
            "recent failed attempts. Password sign-in works again now."
        )
        if isinstance(caches["default"], LocMemCache):
            # The default cache lives in each process: this one's is not the server's.
            self.stderr.write(
                "CACHE_URL is per-process memory (locmemcache://), so the running server's "
                "counters were not touched; restart it to clear them."
            )


def _cleared(clear: Callable[[], throttle.Cleared]) -> throttle.Cleared:
    try:
        cleared = clear()
    except Exception as error:  # the cache backend's own errors (redis.ConnectionError...)
        raise CommandError(f"The cache (CACHE_URL) cannot be reached: {error}") from None
    return cleared
