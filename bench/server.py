"""The real app under gunicorn, as in production (sync workers, DEBUG off), on a loopback port,
with bench.settings for the floor route and the query count."""

import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

HOST = "127.0.0.1"  # the benchmark never sends a request anywhere else
WORKERS = 2
READY_TIMEOUT_SECONDS = 60


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


class Server:
    """``with Server(port, env, log) as server:`` starts gunicorn, waits until it answers and
    stops it (and only it) afterwards."""

    def __init__(self, port: int, env: dict[str, str], log_path: Path) -> None:
        self.port = port
        self.env = env
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> "Server":
        log = self.log_path.open("ab")
        command = [
            sys.executable, "-m", "gunicorn", "auzlearn.wsgi",
            "--workers", str(WORKERS),
            "--bind", f"{HOST}:{self.port}",
            # gunicorn also reads the project's gunicorn.conf.py, as production runs it; but
            # its workers' replacement after so many requests would measure a cold worker now
            # and then, and take the worker whose memory is being watched away mid-phase.
            "--max-requests", "0",
            "--error-logfile", "-",
        ]  # fmt: skip
        self.process = subprocess.Popen(  # noqa: S603 (our own interpreter and arguments)
            command, env=self.env, stdout=log, stderr=subprocess.STDOUT, cwd=_project_root()
        )
        log.close()
        try:
            self._wait_ready()
        except BaseException:  # a server that never became ready is stopped all the same:
            self.__exit__(None, None, None)  # its workers would go on using the machine
            raise
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)  # gunicorn's graceful stop of its workers
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + READY_TIMEOUT_SECONDS
        url = f"http://{HOST}:{self.port}/scim/limits/"
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited at start; see {self.log_path}")
            try:
                with urllib.request.urlopen(url, timeout=2):
                    pass
                if len(self.worker_pids()) == WORKERS:
                    return
            except OSError:  # not listening yet, or a first request slow to answer (URLError,
                pass  # ConnectionError and TimeoutError are all OSErrors)
            time.sleep(0.2)
        raise RuntimeError(f"gunicorn did not answer within {READY_TIMEOUT_SECONDS} s")

    @property
    def base_url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def worker_pids(self) -> list[int]:
        assert self.process is not None
        pid = self.process.pid
        children = Path(f"/proc/{pid}/task/{pid}/children")
        return [int(child) for child in children.read_text().split()]


@dataclass(frozen=True)
class Memory:
    """Resident memory of one process, in bytes: now, and the peak since the last reset."""

    rss: int
    peak: int


def memory(pid: int) -> Memory:
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            fields[name] = int(value.split()[0]) * 1024  # reported in kB
    return Memory(rss=fields["VmRSS"], peak=fields["VmHWM"])


def reset_peak(pid: int) -> None:
    """Start measuring the peak afresh: writing 5 to clear_refs resets VmHWM to the current
    resident size (Linux 4.0+; we own the process)."""
    Path(f"/proc/{pid}/clear_refs").write_text("5")


def _project_root() -> Path:
    return Path(__file__).resolve().parent.parent
