"""A small stand-in for a deployment that uses CAVRA, for command-runbook tests.

    python mode_service.py serve  STATE_DIR   run the HTTP service (foreground)
    python mode_service.py set-mode STATE_DIR MODE   what a runbook's switch_mode step runs
    python mode_service.py restart STATE_DIR  stop the running service, start a new one, wait until it listens
    python mode_service.py noop STATE_DIR     do nothing (a broken restart step)

The service reads its mode from STATE_DIR/config at start, as CAVRA reads
CAVRA_GO_BACKEND_MODE, and serves `GET /backend` -> {"mode", "selected_backend"} on
127.0.0.1:<port from STATE_DIR/port>. It writes STATE_DIR/pid once it listens.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


def serve(state: Path) -> None:
    mode = (state / "config").read_text().strip() if (state / "config").exists() else "promoted"
    port = int((state / "port").read_text())
    body = json.dumps({"mode": mode, "selected_backend": "go" if mode == "promoted" else "python"}).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            status = 200 if self.path == "/backend" else 404
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body if status == 200 else b"{}")

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(SystemExit(0)))
    (state / "pid").write_text(str(os.getpid()))
    try:
        server.serve_forever(poll_interval=0.05)
    finally:
        server.server_close()


def stop(state: Path) -> None:
    pid_file = state / "pid"
    if not pid_file.exists():
        return
    pid = int(pid_file.read_text())
    pid_file.unlink()
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    for _ in range(200):
        if not running(pid):
            return
        time.sleep(0.01)
    os.kill(pid, signal.SIGKILL)


def running(pid: int) -> bool:
    """Alive and not a zombie: an exited orphan stays a zombie until init gets round to it."""
    try:
        return "State:\tZ" not in Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False


def start(state: Path) -> None:
    """Start the service detached (its own session: it is the deployment, not the command)."""
    subprocess.Popen(
        [sys.executable, __file__, "serve", str(state)],
        start_new_session=True,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    for _ in range(500):  # until it listens: the pid file is written after bind
        if (state / "pid").exists():
            return
        time.sleep(0.01)
    raise SystemExit("service did not start")


def main() -> None:
    command, state = sys.argv[1], Path(sys.argv[2])
    if command == "serve":
        serve(state)
    elif command == "set-mode":
        (state / "config").write_text(sys.argv[3])
    elif command == "restart":
        stop(state)
        start(state)
    elif command == "stop":
        stop(state)
    elif command == "noop":  # a restart step that forgets to restart
        pass
    else:
        raise SystemExit(f"unknown command {command}")


if __name__ == "__main__":
    main()
