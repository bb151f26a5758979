"""A toy service to try a command runbook on before you write one for your own service.

It behaves like a deployment that uses CAVRA: it reads CAVRA_GO_BACKEND_MODE once, at start,
from an environment file (as a systemd unit would), and answers `GET /backend` on
127.0.0.1:8765 with the backend that serves its decisions:

    {"mode": "promoted", "selected_backend": "go"}       before the rollback
    {"mode": "disabled", "selected_backend": "python"}   after it

    python3 docs/examples/toy-service.py start               start it in promoted mode
    python3 docs/examples/toy-service.py set-mode disabled   what the runbook's switch_mode runs
    python3 docs/examples/toy-service.py restart             what the runbook's restart runs
    python3 docs/examples/toy-service.py stop                stop it

Its state (the environment file and the pid) lives in cavra-drill-out/toy-service/. Standard
library only; Linux or macOS.
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

PORT = 8765
STATE = Path("cavra-drill-out") / "toy-service"
ENV_FILE = STATE / "environment"
PID_FILE = STATE / "pid"


def read_mode() -> str:
    for line in ENV_FILE.read_text(encoding="utf-8").splitlines() if ENV_FILE.exists() else []:
        name, _, value = line.partition("=")
        if name.strip() == "CAVRA_GO_BACKEND_MODE":
            return value.strip().lower()
    return "disabled"


def serve() -> None:
    mode = read_mode()  # once, at start: a new mode needs a restart, as in CAVRA
    backend = "go" if mode == "promoted" else "python"
    body = json.dumps({"mode": mode, "selected_backend": backend}).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            found = self.path == "/backend"
            self.send_response(200 if found else 404)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body if found else b"{}")

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", PORT), Handler)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    PID_FILE.write_text(str(os.getpid()), encoding="utf-8")
    try:
        server.serve_forever(poll_interval=0.05)
    finally:
        server.server_close()


def stop() -> None:
    if not PID_FILE.exists():
        return
    pid = int(PID_FILE.read_text(encoding="utf-8"))
    PID_FILE.unlink()
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        if not alive(pid):
            return
        time.sleep(0.02)
    os.kill(pid, signal.SIGKILL)


def alive(pid: int) -> bool:
    """Whether `pid` still runs; an exited process waiting to be reaped (a zombie) does not."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # Linux: the state after the command name in /proc/PID/stat
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def start() -> None:
    # A session of its own: the service outlives the command that started it, like a daemon.
    subprocess.Popen(
        [sys.executable, __file__, "serve"],
        start_new_session=True,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 10
    while not PID_FILE.exists():  # written once the socket is bound
        if time.monotonic() > deadline:
            sys.exit("toy service did not start (is port 8765 free?)")
        time.sleep(0.02)


def main() -> None:
    command = sys.argv[1] if len(sys.argv) > 1 else ""
    STATE.mkdir(parents=True, exist_ok=True)
    if command == "serve":
        serve()
    elif command == "start":
        stop()
        ENV_FILE.write_text("CAVRA_GO_BACKEND_MODE=promoted\n", encoding="utf-8")
        start()
    elif command == "set-mode" and len(sys.argv) == 3:
        ENV_FILE.write_text(f"CAVRA_GO_BACKEND_MODE={sys.argv[2]}\n", encoding="utf-8")
    elif command == "restart":
        stop()
        start()
    elif command == "stop":
        stop()
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
