"""SCIM over real HTTP, as Okta's and Entra's provisioning engines send it: the Tenant URL and
the Secret Key as a Bearer token, JSON bodies, and a 429 or 503 answered by waiting as long as
its Retry-After says and sending the same request again (both vendors do; our rate limits and
our database fault handling rely on it).

The standard library's urllib: the simulation adds no dependency to the project.
"""

import json
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any, Final
from urllib.error import HTTPError, URLError
from urllib.parse import unquote, urlsplit
from urllib.request import Request, urlopen

SCIM_TYPE: Final = "application/scim+json"
RETRY_STATUSES: Final = frozenset({429, 503})
# Attempts of one request when the server keeps asking to wait, and the longest wait honoured.
MAX_ATTEMPTS: Final = 6
MAX_WAIT_SECONDS: Final = 120.0

Document = dict[str, Any]


class Unreachable(Exception):
    """The server did not answer at all: nothing else will work either."""


@dataclass(frozen=True)
class Failure:
    what: str  # "create user ada@acme.test"
    request: str  # "POST /Users"
    status: int
    detail: str

    def __str__(self) -> str:
        return f"Could not {self.what}: {self.request} answered {self.status}: {self.detail}"


@dataclass
class ScimHttp:
    tenant_url: str
    key: str
    user_agent: str
    on_failure: Callable[[Failure], None] = lambda failure: None
    sleep: Callable[[float], None] = time.sleep
    timeout: float = 30.0
    requests: int = 0  # every request sent, repeats after a 429 or 503 included
    waits: int = 0  # how many times a 429 or 503 made it wait
    failures: list[Failure] = field(default_factory=list)

    def call(
        self,
        method: str,
        path: str,
        body: Document | None = None,
        *,
        what: str,
        ok: Collection[int] = (200,),
    ) -> Document | None:
        """Send a request; its answer's document (``{}`` without a body) when its status is one
        of ``ok``, else None, with the failure recorded and reported."""
        for attempt in range(1, MAX_ATTEMPTS + 1):
            status, document, retry_after = self._send(method, path, body)
            if status not in RETRY_STATUSES or attempt == MAX_ATTEMPTS:
                break
            self.waits += 1
            self.sleep(_wait_seconds(retry_after, attempt))
        if status in ok:
            return document
        failure = Failure(what, f"{method} {_readable(path)}", status, _detail(status, document))
        self.failures.append(failure)
        self.on_failure(failure)
        return None

    def _send(self, method: str, path: str, body: Document | None) -> tuple[int, Document, str]:
        data = json.dumps(body).encode() if body is not None else None
        url = f"{self.tenant_url}/{path}"
        request = Request(  # noqa: S310 (the Tenant URL is built from PUBLIC_BASE_URL)
            url,
            data=data,
            method=method,
            headers={
                "Authorization": f"Bearer {self.key}",
                "User-Agent": self.user_agent,
                "Accept": f"{SCIM_TYPE}, application/json",
                **({"Content-Type": f"{SCIM_TYPE}; charset=utf-8"} if data is not None else {}),
            },
        )
        self.requests += 1
        try:
            with urlopen(request, timeout=self.timeout) as answer:  # noqa: S310
                status, raw, retry_after = answer.status, answer.read(), ""
        except HTTPError as error:
            status, raw = error.code, error.read()
            retry_after = error.headers.get("Retry-After", "")
        except (URLError, OSError) as error:  # refused, unknown host, timed out
            reason = getattr(error, "reason", error)
            if isinstance(reason, TimeoutError):
                reason = f"no answer within {self.timeout:g} seconds"
            host = urlsplit(self.tenant_url)
            raise Unreachable(f"Cannot reach {host.scheme}://{host.netloc}: {reason}.") from None
        return status, _document(raw), retry_after


def _document(raw: bytes) -> Document:
    if not raw:
        return {}
    try:
        document = json.loads(raw)
    except ValueError:
        return {"detail": "The answer is not JSON (is PUBLIC_BASE_URL this server's address?)."}
    return document if isinstance(document, dict) else {"detail": "The answer is not a document."}


def _detail(status: int, document: Document) -> str:
    detail = str(document.get("detail") or "no detail given")
    scim_type = document.get("scimType")
    return f"{scim_type}: {detail}" if scim_type else detail


def _wait_seconds(retry_after: str, attempt: int) -> float:
    """Retry-After in seconds or as an HTTP date (RFC 9110 10.2.3); without one, 1, 2, 4…"""
    seconds: float
    try:
        seconds = float(int(retry_after))
    except ValueError:
        try:
            seconds = parsedate_to_datetime(retry_after).timestamp() - time.time()
        except (TypeError, ValueError):
            seconds = float(2 ** (attempt - 1))
    return min(max(seconds, 0.0), MAX_WAIT_SECONDS)


def _readable(path: str) -> str:
    return "/" + unquote(path)
