"""The WSGI application gunicorn serves (gunicorn.conf.py).

Only web requests run with the web's database timeouts (auzlearn/db_timeouts.py): management
commands and migrations never import this module, and keep their own.
"""

import os

from django.conf import settings
from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "auzlearn.settings")

application = get_wsgi_application()

from auzlearn import db_timeouts  # noqa: E402 (needs the settings loaded above)

db_timeouts.use_for_web_requests(
    lock_timeout_ms=settings.WEB_DB_LOCK_TIMEOUT_MS,
    statement_timeout_ms=settings.WEB_DB_STATEMENT_TIMEOUT_MS,
)
