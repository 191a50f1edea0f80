"""Running manage.py as a separate process, to see real exit statuses and output streams."""

import os
import subprocess
import sys
from pathlib import Path

from django.conf import settings

PROJECT_ROOT = Path(settings.BASE_DIR)


def manage(*args: str, database_url: str) -> subprocess.CompletedProcess[str]:
    """``manage.py *args`` with the test settings on ``database_url``: a database of its own,
    since a subprocess cannot see the test's transaction."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DEBUG", "DATABASE_URL", "DJANGO_SETTINGS_MODULE"}
    }
    env.update(DJANGO_SETTINGS_MODULE="tests.settings", DATABASE_URL=database_url)
    return subprocess.run(  # noqa: S603 - fixed arguments, our own manage.py
        [sys.executable, str(PROJECT_ROOT / "manage.py"), *args],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def migrated_database(folder: Path) -> str:
    """The URL of a new, migrated SQLite database in ``folder``."""
    database_url = f"sqlite:///{folder / 'commands.sqlite3'}"
    migrated = manage("migrate", "--noinput", database_url=database_url)
    assert migrated.returncode == 0, migrated.stderr
    return database_url
