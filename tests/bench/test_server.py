"""The bench's gunicorn (bench/server.py) is stopped whether or not it became ready."""

import os
import socket
from pathlib import Path

import pytest

from bench import server


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_a_server_that_is_not_ready_in_time_is_stopped(tmp_path: Path, monkeypatch):
    monkeypatch.setattr(server, "READY_TIMEOUT_SECONDS", 0.0)
    bench_server = server.Server(_free_port(), dict(os.environ), tmp_path / "gunicorn.log")

    with pytest.raises(RuntimeError, match="did not answer"):
        bench_server.__enter__()

    assert bench_server.process is not None
    assert bench_server.process.poll() is not None  # no gunicorn left running
