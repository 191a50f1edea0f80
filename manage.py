#!/usr/bin/env python
"""Django's command-line utility for administrative tasks."""

import os
import sys

# Commands that only compare the models with the migration files: they serve nobody and use
# no secret, so with nothing configured they run on the local defaults (DEBUG on), and a fresh
# checkout can run `makemigrations --check` as it is. Every other command, the server's
# included, still refuses to start without its secrets when DEBUG is off.
MODELS_ONLY_COMMANDS = {"makemigrations"}


def main() -> None:
    """Run administrative tasks."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "auzlearn.settings")
    if sys.argv[1:2] and sys.argv[1] in MODELS_ONLY_COMMANDS:
        os.environ.setdefault("DEBUG", "true")
    try:
        from django.conf import settings
        from django.core.exceptions import ImproperlyConfigured
        from django.core.management import execute_from_command_line
    except ImportError as exc:
        raise ImportError(
            "Couldn't import Django. Are you sure it's installed and "
            "available on your PYTHONPATH environment variable? Did you "
            "forget to activate a virtual environment?"
        ) from exc
    try:
        # Read the environment now: Django would otherwise swallow a bad setting and fail
        # later with an unrelated traceback ("Models aren't loaded yet").
        settings.INSTALLED_APPS  # noqa: B018
    except ImproperlyConfigured as error:
        sys.exit(f"Configuration error: {error}")
    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
