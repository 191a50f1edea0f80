"""Password sign-in, scoped to an organisation.

userName is unique only within an organisation, so a person signs in with their organisation,
their userName (or email) and password. Without an organisation (the Django admin login) only
support staff are looked up.
"""

from typing import Any

from django.contrib.auth.backends import BaseBackend
from django.http import HttpRequest

from accounts.models import Organisation, Role, User


class OrganisationBackend(BaseBackend):
    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        organisation: Organisation | None = None,
        **kwargs: Any,
    ) -> User | None:
        if not username or not password:
            return None
        user = self._find(organisation, username)
        if user is None:
            # Run the hasher anyway so response time does not reveal who exists.
            User().set_password(password)
            return None
        if user.check_password(password) and self.user_can_authenticate(user):
            return user
        return None

    def get_user(self, user_id: int) -> User | None:
        user = User.objects.select_related("organisation").filter(pk=user_id).first()
        return user if user is not None and self.user_can_authenticate(user) else None

    def user_can_authenticate(self, user: User) -> bool:
        """Deactivated and deleted people cannot sign in, and their sessions stop working."""
        return user.is_active and not user.is_deleted

    def _find(self, organisation: Organisation | None, login: str) -> User | None:
        user = find_person(organisation, login)
        if (
            user is not None
            and organisation is not None
            and organisation.sso_required
            and user.role != Role.PRIMARY_ADMIN
        ):
            # Primary admins keep password sign-in as the break-glass path when SSO is required.
            return None
        return user


def find_person(organisation: Organisation | None, login: str) -> User | None:
    """Whom a sign-in name names: a userName, else an email only one live person has; support
    staff by userName when there is no organisation. Whether they may sign in is not asked."""
    if organisation is None:
        return User.objects.support_staff().with_username(login).first()
    people = User.objects.for_organisation(organisation).select_related("organisation")
    user = people.with_username(login).first()
    if user is None:
        by_email = list(people.not_deleted().with_email(login)[:2])
        user = by_email[0] if len(by_email) == 1 else None  # a shared email names nobody
    return user
