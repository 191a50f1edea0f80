"""The session engine: Django's database sessions, a new one written with a single INSERT.

Django writes a new session as soon as its key is made (signing in makes one, against session
fixation), after asking the database whether the random key is taken, and then writes it again
when the response is sent: a SELECT, an INSERT and an UPDATE on the path of every sign-in.
Here a new session is written once, when the response saves it.
The key is not looked up first: 32 characters from 36 do not collide, and should two ever
meet, the INSERT fails on the primary key and the session takes another key; it never takes
over someone else's.
"""

from django.contrib.sessions.backends.base import VALID_KEY_CHARS, CreateError
from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore
from django.utils.crypto import get_random_string


class SessionStore(DatabaseSessionStore):
    _unwritten = False  # a key made here that the database does not hold yet

    def create(self) -> None:
        self._session_key = get_random_string(32, VALID_KEY_CHARS)
        self._unwritten = True
        self.modified = True

    def save(self, must_create: bool = False) -> None:
        if self.session_key is None:
            self.create()
        try:
            super().save(must_create=must_create or self._unwritten)
        except CreateError:
            if not self._unwritten:
                raise
            self.create()
            super().save(must_create=True)
        self._unwritten = False
