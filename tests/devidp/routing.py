"""The URLconf as a DEBUG-on or DEBUG-off server loads it.

auzlearn/urls.py decides at import whether the development IdP is routed, so these tests load
it again, with DEBUG as wanted, rather than adding the routes some other way: what is tested is
the real decision.
"""

import importlib
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.urls import clear_url_caches

import auzlearn.urls


def load_urls() -> None:
    importlib.reload(auzlearn.urls)
    clear_url_caches()


@contextmanager
def urls_with_debug(settings: Any, debug: bool) -> Iterator[None]:
    """settings.DEBUG set to ``debug`` and the URLconf loaded with it; afterwards both as
    before."""
    before = settings.DEBUG
    settings.DEBUG = debug
    load_urls()
    try:
        yield
    finally:
        settings.DEBUG = before
        load_urls()
