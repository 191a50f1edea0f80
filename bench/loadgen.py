"""A small asyncio HTTP/1.1 load generator: fixed concurrency (closed loop) or a fixed arrival
rate (open loop), to 127.0.0.1 only.

One connection per request: gunicorn's sync workers, as in production, answer with
``Connection: close``. Parsing is minimal on purpose, so that on a 2-core machine the generator
costs far less than the server it measures (and the same for the floor as for the endpoints).
"""

import asyncio
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from bench.middleware import QUERY_COUNT_HEADER, SERVER_TIME_HEADER
from bench.server import HOST

TIMEOUT_SECONDS = 60.0


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    label: str  # the endpoint it measures; "" for a helper step that restores state
    variant: str = ""  # e.g. "hit" / "miss": query counts are compared per variant
    body: bytes = b""
    content_type: str = ""
    headers: tuple[tuple[str, str], ...] = ()
    expect: tuple[int, ...] = (200,)


# A job is a few requests sent one after another by one client: a measured request and the
# helper requests that undo it (remove the member just added), so that it can be repeated.
Job = Sequence[Request]


@dataclass(frozen=True)
class Sample:
    label: str
    variant: str
    status: int  # 0 when no response came
    seconds: float  # as the client saw it
    queries: int | None
    error: str = ""
    server_seconds: float | None = None  # inside the worker (bench.middleware)

    @property
    def ok(self) -> bool:
        return not self.error


@dataclass(frozen=True)
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes


async def send(port: int, request: Request) -> Reply:
    reader, writer = await asyncio.open_connection(HOST, port)
    try:
        lines = [
            f"{request.method} {request.path} HTTP/1.1",
            f"Host: {HOST}:{port}",
            "Connection: close",
            *(f"{name}: {value}" for name, value in request.headers),
        ]
        if request.body or request.method in ("POST", "PUT", "PATCH"):
            lines += [
                f"Content-Type: {request.content_type}",
                f"Content-Length: {len(request.body)}",
            ]
        writer.write("\r\n".join(lines).encode() + b"\r\n\r\n" + request.body)
        await writer.drain()
        raw = await reader.read()  # to the end: the server closes the connection
    finally:
        writer.close()
    return _parse(raw)


def _parse(raw: bytes) -> Reply:
    head, _, body = raw.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in header_lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    if headers.get("transfer-encoding", "").lower() == "chunked":
        body = _unchunk(body)
    return Reply(status=int(status_line.split()[1]), headers=headers, body=body)


def _unchunk(body: bytes) -> bytes:
    out, rest = bytearray(), body
    while rest:
        size_line, _, rest = rest.partition(b"\r\n")
        size = int(size_line.split(b";")[0], 16)
        if size == 0:
            break
        out += rest[:size]
        rest = rest[size + 2 :]
    return bytes(out)


async def timed(port: int, request: Request, started: float | None = None) -> Sample:
    """Send and time one request. ``started``: when it was due (open loop), so that a late
    start counts against the latency rather than hiding it."""
    begin = time.perf_counter() if started is None else started
    try:
        reply = await asyncio.wait_for(send(port, request), TIMEOUT_SECONDS)
    except (OSError, TimeoutError, ValueError, IndexError) as failure:
        return Sample(
            request.label, request.variant, 0, time.perf_counter() - begin, None, repr(failure)
        )
    seconds = time.perf_counter() - begin
    count = reply.headers.get(QUERY_COUNT_HEADER.lower())
    server_ms = reply.headers.get(SERVER_TIME_HEADER.lower())
    error = ""
    if reply.status not in request.expect:
        error = f"{request.method} {request.path[:80]}: {reply.status} {reply.body[:300]!r}"
    return Sample(
        request.label,
        request.variant,
        reply.status,
        seconds,
        int(count) if count else None,
        error,
        float(server_ms) / 1000 if server_ms else None,
    )


async def closed_loop(
    jobs: Iterable[Job],
    *,
    port: int,
    concurrency: int,
    on_job: Callable[[], None] = lambda: None,
) -> list[Sample]:
    """Run the jobs with ``concurrency`` clients, each starting its next job as soon as its
    last request is answered."""
    pending = iter(jobs)
    samples: list[Sample] = []

    async def client() -> None:
        for job in pending:  # shared: each job goes to exactly one client
            for request in job:
                samples.append(await timed(port, request))
            on_job()

    await asyncio.gather(*(client() for _ in range(concurrency)))
    return samples


async def open_loop(
    schedule: Sequence[tuple[float, Request]],
    *,
    port: int,
    on_sample: Callable[[Sample], None] = lambda sample: None,
) -> list[Sample]:
    """Send each request at its time (seconds from now), whether or not earlier ones have been
    answered: the way an identity provider sends at its own rate."""
    start = time.perf_counter() + 0.05
    tasks = []

    async def fire(due: float, request: Request) -> Sample:
        sample = await timed(port, request, started=due)
        on_sample(sample)
        return sample

    for offset, request in schedule:
        delay = start + offset - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(fire(start + offset, request)))
    return list(await asyncio.gather(*tasks))
