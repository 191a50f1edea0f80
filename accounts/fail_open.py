"""Protections that must not stop the service when the shared cache is down (DESIGN §8: Redis
down degrades, never stops provisioning or sign-in). Their cache calls fail open: the call's
default is used and the request goes on. The outage is logged once per process when it starts
and once when it ends, not once per request."""

import logging
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


class FailOpen:
    def __init__(self, logger: logging.Logger, *, off: str, on: str) -> None:
        self.logger = logger
        self.off = off  # what the outage means, logged when it starts
        self.on = on  # logged when the cache answers again
        self.down = False

    def call(self, work: Callable[[], T], *, default: T) -> T:
        try:
            result = work()
        except Exception:  # every backend raises its client's own errors (redis, OSError…)
            if not self.down:
                self.down = True
                self.logger.warning(self.off, exc_info=True)
            return default
        if self.down:
            self.down = False
            self.logger.warning(self.on)
        return result
