"""An HTTP check whose server keeps sending, slowly: the drill must still end.

command_target.run_http passes `timeout_seconds` to urllib, where it bounds each socket
operation, not the request: a server that sends a byte now and then (a streaming endpoint, a
stalled proxy) keeps `response.read()` going. The baseline runs under no deadline at all, and the
GET runs in an AnyIO worker thread, which is not a daemon thread: even after Ctrl-C is handled
("interrupted ... cleanup done") the interpreter waits for that thread before it exits.
"""

from __future__ import annotations

import signal
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from drillrun import Drills

from review.support import command_runbook


@dataclass(frozen=True)
class Trickler:
    url: str
    connected: threading.Event


@pytest.fixture
def trickling_server() -> Iterator[Trickler]:
    """An HTTP server that answers 200 with a long body, one byte every 0.3 s, until the test ends."""
    stop = threading.Event()
    connected = threading.Event()
    server = socket.socket()
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("127.0.0.1", 0))
    server.listen()
    server.settimeout(0.1)

    def trickle(conn: socket.socket) -> None:
        with conn:
            try:
                conn.recv(65536)
                connected.set()
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 100000\r\n\r\n")
                while not stop.wait(0.3):
                    conn.sendall(b"x")
            except OSError:
                return

    def accept() -> None:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except TimeoutError:
                continue
            threading.Thread(target=trickle, args=(conn,), daemon=True).start()

    acceptor = threading.Thread(target=accept, daemon=True)
    acceptor.start()
    yield Trickler(f"http://127.0.0.1:{server.getsockname()[1]}/health", connected)
    stop.set()
    acceptor.join(timeout=5)
    server.close()


def _finish(proc: subprocess.Popen[str], within: float) -> tuple[float, str]:
    started = time.monotonic()
    try:
        _, err = proc.communicate(timeout=within)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        raise
    return time.monotonic() - started, err


def test_a_trickling_baseline_check_is_bounded_by_its_timeout(
    drills: Drills, tmp_path: Path, trickling_server: Trickler
) -> None:
    runbook = command_runbook(tmp_path / "rb.toml", baseline_url=trickling_server.url, baseline_timeout=1)
    proc = drills.start("--runbook", str(runbook), "--environment", "staging")
    # timeout_seconds = 1: the baseline should give up after about a second (exit 4).
    _, err = _finish(proc, within=20)
    assert proc.returncode == 4, err[-1500:]


def test_ctrl_c_during_a_trickling_check_exits(drills: Drills, tmp_path: Path, trickling_server: Trickler) -> None:
    # A long timeout, so that the GET is still trickling when Ctrl-C arrives.
    runbook = command_runbook(tmp_path / "rb.toml", baseline_url=trickling_server.url, baseline_timeout=60)
    proc = drills.start("--runbook", str(runbook), "--environment", "staging")
    assert trickling_server.connected.wait(30), "the drill never made its GET"
    proc.send_signal(signal.SIGINT)
    _, err = _finish(proc, within=15)
    assert proc.returncode == 130, err[-1500:]
