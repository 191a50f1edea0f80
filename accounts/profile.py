"""What the landing page and /me.json show of the signed-in person."""

from dataclasses import dataclass
from typing import Any

from accounts.models import User


@dataclass(frozen=True)
class Profile:
    user: User
    manager: User | None
    teams: list[str]

    def as_json(self) -> dict[str, Any]:
        user, manager = self.user, self.manager
        return {
            "organisation": user.organisation.slug if user.organisation else None,
            "username": user.username,
            "email": user.email,
            "first_name": user.given_name,
            "last_name": user.family_name,
            "manager": None
            if manager is None
            else {
                "username": manager.username,
                "email": manager.email,
                "name": manager.get_full_name(),
            },
            "teams": self.teams,
        }


def profile_of(user: User) -> Profile:
    manager = None
    if user.manager_id is not None:
        # A deleted manager is shown as nobody's (DESIGN §4); the link stays for their revival.
        manager = User.objects.filter(pk=user.manager_id, deleted_at__isnull=True).first()
    teams = sorted(user.teams.values_list("display_name", flat=True), key=str.lower)
    return Profile(user=user, manager=manager, teams=teams)
