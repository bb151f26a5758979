"""The decision service: the process that uses CAVRA, as the drill's sandbox runs it.

    python -m cavra_drill.drill.service --socket PATH

It reads CAVRA's settings from its environment once, at start, exactly as a real deployment
does; that is why a rollback is "set CAVRA_GO_BACKEND_MODE=disabled, restart the process".
Once listening on the Unix socket it prints one line, `READY {"pid", "mode",
"ready_monotonic_ns"}`, on stdout: the readiness event its supervisor waits for.

Protocol: newline-delimited JSON, any number of requests per connection, one thread per
connection. `{"op": "decide", "request": {...}}` answers a decision with CAVRA's evaluation
fields; `{"op": "status"}` answers mode, pid, start time and the number of runtime calls.
Anything else gets `{"error": ...}` and the connection stays usable.

Modes, as CAVRA behaves (contract §7):
- `promoted`: the Go runtime is called per decision; its answer is used when it agrees with
  Python on decision, rule_id and severity; on a runtime error, timeout, bad JSON or
  divergence the Python decision is used and `fallback_reason` says why.
- `disabled`: the Go runtime is never called; Python decides.
- `shadow` / `enforce`: simplified here: Python decides and Go is called only to report
  parity. (CAVRA's enforce mode has finer rules; the drill never runs in these modes.)

Faults (`CAVRA_DRILL_SERVICE_FAULT`, comma-separated), so the drill can rehearse a bad day:
- `stop-ignores-sigterm`: SIGTERM is ignored; a supervisor must escalate to SIGKILL.
- `slow-restart=SECONDS`: wait before listening, as a service with a slow warm-up would.
- `fallback-broken`: run as `promoted` whatever the configured mode says, as a restart that
  did not pick up the new environment would.

Exit codes: 0 stopped by SIGTERM/SIGINT, 2 bad configuration, 3 the owner (the drill that
started us) was already gone, 4 the socket is in use by a live service or cannot be bound.

Startup is on the drill's timed recovery path: only light modules are imported up front and
`subprocess` is imported on the first runtime call (never, in disabled mode).
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import select
import signal
import socket
import stat
import sys
import threading
import time
from typing import TYPE_CHECKING, NamedTuple

from cavra_drill.contract.settings import (
    DEFAULT_RUNTIME_TIMEOUT_SECONDS,
    ENV_MODE,
    ENV_RUNTIME_PATH,
    ENV_RUNTIME_POLICY,
    ENV_RUNTIME_TIMEOUT,
    normalize_mode,
    parse_float_setting,
)
from cavra_drill.drill.policy import DECISIONS, evaluate
from cavra_drill.drill.processes import CALLER_ENV, OWNER_ENV, set_parent_death_signal

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from types import FrameType

FAULT_ENV = "CAVRA_DRILL_SERVICE_FAULT"
FAULT_IGNORE_SIGTERM = "stop-ignores-sigterm"
FAULT_SLOW_RESTART = "slow-restart"
FAULT_FALLBACK_BROKEN = "fallback-broken"
DISABLED_REASON = "go backend pilot is disabled"
READY_PREFIX = "READY "

EXIT_OK = 0
EXIT_CONFIG = 2
EXIT_ORPHANED = 3
EXIT_SOCKET = 4

_MAX_LINE_BYTES = 1 << 20
_MAX_REASON_DETAIL = 160


class Faults(NamedTuple):
    ignore_sigterm: bool = False
    slow_restart_seconds: float = 0.0
    fallback_broken: bool = False


class Config(NamedTuple):
    socket_path: str
    configured_mode: str
    mode: str
    runtime_path: str
    policy_path: str
    timeout_seconds: float
    faults: Faults


class ConfigError(Exception):
    pass


def parse_faults(raw: str | None) -> Faults:
    """The faults named in `raw`; an unknown one is an error, not ignored.

    A drill that asked for a fault and silently got a healthy service would record a
    rehearsal of something that never happened.
    """
    faults = Faults()
    for item in (raw or "").split(","):
        name, sep, value = item.strip().partition("=")
        if not name:
            continue
        if name == FAULT_IGNORE_SIGTERM and not sep:
            faults = faults._replace(ignore_sigterm=True)
        elif name == FAULT_FALLBACK_BROKEN and not sep:
            faults = faults._replace(fallback_broken=True)
        elif name == FAULT_SLOW_RESTART and sep:
            seconds = parse_float_setting(value, -1.0)
            if not math.isfinite(seconds) or seconds < 0:
                raise ConfigError(f"{FAULT_SLOW_RESTART} needs a non-negative number of seconds")
            faults = faults._replace(slow_restart_seconds=seconds)
        else:
            raise ConfigError(f"unknown fault {item.strip()[:40]!r}")
    return faults


def load_config(argv: Sequence[str], env: Mapping[str, str]) -> Config:
    socket_path = _parse_socket_arg(argv)
    configured = normalize_mode(env.get(ENV_MODE))
    faults = parse_faults(env.get(FAULT_ENV))
    timeout = parse_float_setting(env.get(ENV_RUNTIME_TIMEOUT), DEFAULT_RUNTIME_TIMEOUT_SECONDS)
    if not math.isfinite(timeout) or timeout <= 0:
        timeout = DEFAULT_RUNTIME_TIMEOUT_SECONDS
    policy_path = env.get(ENV_RUNTIME_POLICY, "").strip()
    if not policy_path:
        raise ConfigError(f"{ENV_RUNTIME_POLICY} is not set")
    return Config(
        socket_path=socket_path,
        configured_mode=configured,
        mode="promoted" if faults.fallback_broken else configured,
        runtime_path=env.get(ENV_RUNTIME_PATH, "").strip(),
        policy_path=policy_path,
        timeout_seconds=timeout,
        faults=faults,
    )


class DecisionService:
    """Answers protocol messages; safe to call from many connection threads at once."""

    def __init__(self, config: Config, policy: Mapping[str, object], started_ns: int) -> None:
        self.config = config
        self.policy = policy
        self.started_ns = started_ns
        self._lock = threading.Lock()
        self._runtime_calls = 0

    @property
    def runtime_calls(self) -> int:
        with self._lock:
            return self._runtime_calls

    def handle_line(self, line: bytes) -> dict[str, object]:
        try:
            message = json.loads(line)
        except ValueError:
            return {"error": "message is not valid JSON"}
        if not isinstance(message, dict):
            return {"error": "message is not a JSON object"}
        op = message.get("op")
        if op == "status":
            return self.status()
        if op == "decide":
            request = message.get("request")
            if not isinstance(request, dict):
                return {"error": "decide needs a request object"}
            return self.decide(request)
        return {"error": f"unknown op {str(op)[:40]!r}"}

    def status(self) -> dict[str, object]:
        return {
            "mode": self.config.mode,
            "pid": os.getpid(),
            "started_monotonic_ns": self.started_ns,
            "runtime_calls": self.runtime_calls,
        }

    def decide(self, request: Mapping[str, object]) -> dict[str, object]:
        python_decision = evaluate(self.policy, request)
        mode = self.config.mode
        go_decision: dict[str, str] | None = None
        parity: bool | None = None
        selected = python_decision
        backend = "python"
        fallback_used = False
        fallback_reason: str | None = None

        if mode == "disabled":
            fallback_reason = DISABLED_REASON
        else:
            go_decision, failure = self._call_go(request)
            if go_decision is not None:
                parity = _in_parity(go_decision, python_decision)
                if not parity:
                    failure = (
                        "go decision diverged from python: "
                        f"go {_triple(go_decision)}, python {_triple(python_decision)}"
                    )
            if mode == "promoted":
                if parity and go_decision is not None:
                    selected, backend = go_decision, "go"
                else:
                    fallback_used, fallback_reason = True, failure

        return {
            "decision": selected["decision"],
            "rule_id": selected["rule_id"],
            "severity": selected["severity"],
            "reason": selected["reason"],
            "evaluation": {
                "mode": mode,
                "selected_backend": backend,
                "fallback_used": fallback_used,
                "fallback_reason": fallback_reason,
                "parity_match": parity,
                "go_decision": go_decision,
                "python_decision": python_decision,
            },
            "service_pid": os.getpid(),
        }

    def _call_go(self, request: Mapping[str, object]) -> tuple[dict[str, str] | None, str]:
        """The Go runtime's decision, or None and why there is none."""
        import subprocess  # here, not at the top: see the module docstring

        runtime = self.config.runtime_path
        if not runtime:
            return None, f"go runtime error: {ENV_RUNTIME_PATH} is not set"
        with self._lock:
            self._runtime_calls += 1
        timeout = self.config.timeout_seconds
        try:
            # run() kills the runtime (SIGKILL) when the timeout expires, as CAVRA does.
            completed = subprocess.run(
                [runtime, "--policy", self.config.policy_path],
                input=json.dumps(request).encode(),
                capture_output=True,
                timeout=timeout,
                check=False,
                # The stub checks that its parent is still us once its death signal is armed.
                env={**os.environ, CALLER_ENV: str(os.getpid())},
            )
        except subprocess.TimeoutExpired:
            return None, f"go runtime timeout after {timeout:g}s"
        except OSError as exc:
            return None, f"go runtime error: cannot start ({exc.strerror or type(exc).__name__})"
        if completed.returncode != 0:
            how = (
                f"killed by signal {-completed.returncode}"
                if completed.returncode < 0
                else f"exit code {completed.returncode}"
            )
            detail = _last_line(completed.stderr)
            return None, f"go runtime error: {how}" + (f": {detail}" if detail else "")
        try:
            answer = json.loads(completed.stdout)
        except ValueError:
            return None, "go runtime returned invalid JSON"
        decision = _decision_from(answer)
        if decision is None:
            return None, "go runtime returned invalid JSON: not a decision object"
        return decision, ""


def main(argv: Sequence[str] | None = None) -> int:
    started_ns = time.monotonic_ns()
    # Armed before anything slow: a service must never outlive the drill that started it.
    set_parent_death_signal(signal.SIGKILL)
    owner = os.environ.get(OWNER_ENV, "")
    if owner.isdigit() and os.getppid() != int(owner):
        return _fail("the drill that started this service is gone", EXIT_ORPHANED)

    try:
        config = load_config(sys.argv[1:] if argv is None else argv, os.environ)
    except ConfigError as exc:
        return _fail(str(exc), EXIT_CONFIG)
    policy = _load_policy(config.policy_path)
    if policy is None:
        return _fail(f"{ENV_RUNTIME_POLICY} is not a readable JSON object", EXIT_CONFIG)

    stopper = _Stopper(ignore_sigterm=config.faults.ignore_sigterm)
    if config.faults.slow_restart_seconds > 0 and stopper.wait(config.faults.slow_restart_seconds):
        return EXIT_OK

    try:
        listener, inode = _listen(config.socket_path)
    except ConfigError as exc:
        return _fail(str(exc), EXIT_SOCKET)
    service = DecisionService(config, policy, started_ns)
    try:
        ready = {"pid": os.getpid(), "mode": config.mode, "ready_monotonic_ns": time.monotonic_ns()}
        sys.stdout.write(READY_PREFIX + json.dumps(ready) + "\n")
        sys.stdout.flush()
        _accept_loop(listener, service, stopper)
    except BrokenPipeError:
        return _fail("nobody is reading the readiness line", EXIT_SOCKET)
    finally:
        listener.close()
        _unlink_if_ours(config.socket_path, inode)
    return EXIT_OK


class _Stopper:
    """Turns SIGTERM/SIGINT into an event the main thread can wait on.

    Python runs signal handlers in the main thread only, but the kernel may deliver the
    signal to any thread; a main thread blocked in accept() would then never notice. The
    wakeup fd makes every signal readable on a pipe that the accept loop selects on.
    """

    def __init__(self, *, ignore_sigterm: bool) -> None:
        self.requested = False
        self.read_fd, write_fd = os.pipe()
        os.set_blocking(self.read_fd, False)
        os.set_blocking(write_fd, False)
        signal.set_wakeup_fd(write_fd)
        signal.signal(signal.SIGINT, self._handle)
        signal.signal(signal.SIGTERM, signal.SIG_IGN if ignore_sigterm else self._handle)

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        self.requested = True

    def wait(self, seconds: float) -> bool:
        """Sleep up to `seconds`; True if a stop was requested meanwhile."""
        deadline = time.monotonic() + seconds
        while not self.requested:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            self.wait_readable([], remaining)
        return self.requested

    def wait_readable(self, sockets: list[socket.socket], timeout: float | None) -> bool:
        """Wait until one of `sockets` is readable; False if woken by a signal instead."""
        fds = [s.fileno() for s in sockets]
        try:
            readable, _, _ = select.select([*fds, self.read_fd], [], [], timeout)
        except InterruptedError:
            return False
        if self.read_fd in readable:
            self._drain()
        return any(fd in readable for fd in fds)

    def _drain(self) -> None:
        # The wakeup fd carries the signal numbers; reading them here does not depend on
        # when the interpreter gets round to running the Python-level handler.
        stopping = {signal.SIGINT.value}
        if signal.getsignal(signal.SIGTERM) is not signal.SIG_IGN:
            stopping.add(signal.SIGTERM.value)
        try:
            while chunk := os.read(self.read_fd, 512):
                if stopping.intersection(chunk):
                    self.requested = True
        except BlockingIOError:
            pass


def _accept_loop(listener: socket.socket, service: DecisionService, stopper: _Stopper) -> None:
    while not stopper.requested:
        if not stopper.wait_readable([listener], None):
            continue
        try:
            conn, _ = listener.accept()
        except (BlockingIOError, InterruptedError, ConnectionAbortedError):
            continue
        conn.setblocking(True)
        threading.Thread(target=_serve_connection, args=(conn, service), name="cavra-conn", daemon=True).start()


def _serve_connection(conn: socket.socket, service: DecisionService) -> None:
    with conn, conn.makefile("rb") as reader:
        while True:
            try:
                line = reader.readline(_MAX_LINE_BYTES + 1)
            except OSError:
                return
            if not line:
                return
            if len(line) > _MAX_LINE_BYTES:
                # The rest of an oversized line cannot be told apart from the next message.
                _send(conn, {"error": "message too long"})
                return
            if not line.strip():
                continue
            try:
                reply = service.handle_line(line)
            except Exception as exc:
                sys.stderr.write(f"cavra-service: internal error: {type(exc).__name__}\n")
                reply = {"error": f"internal error: {type(exc).__name__}"}
            if "decision" in reply:
                # As late as possible: the drill measures recovery against this instant.
                reply["answered_monotonic_ns"] = time.monotonic_ns()
            if not _send(conn, reply):
                return


def _send(conn: socket.socket, reply: Mapping[str, object]) -> bool:
    try:
        conn.sendall(json.dumps(reply).encode() + b"\n")
    except OSError:
        return False
    return True


def _listen(path: str) -> tuple[socket.socket, int]:
    _remove_stale_socket(path)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        listener.bind(path)
        listener.listen(64)
        listener.setblocking(False)
        inode = os.stat(path).st_ino
    except OSError as exc:
        listener.close()
        raise ConfigError(f"cannot listen on the socket: {exc.strerror}") from exc
    return listener, inode


def _remove_stale_socket(path: str) -> None:
    """Remove a socket file left by a killed service, but never a live service's socket."""
    try:
        if not stat.S_ISSOCK(os.stat(path).st_mode):
            return
    except OSError:
        return
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        probe.connect(path)
    except (ConnectionRefusedError, FileNotFoundError):
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)
        return
    except OSError:
        return
    finally:
        probe.close()
    raise ConfigError("the socket is in use by a running service")


def _unlink_if_ours(path: str, inode: int) -> None:
    # A successor may already have replaced the file; its socket is not ours to remove.
    try:
        if os.stat(path).st_ino == inode:
            os.unlink(path)
    except OSError:
        pass


def _parse_socket_arg(argv: Sequence[str]) -> str:
    args = list(argv)
    path = ""
    while args:
        arg = args.pop(0)
        name, sep, value = arg.partition("=")
        if name != "--socket":
            raise ConfigError(f"unknown argument {arg[:40]!r}; usage: --socket PATH")
        path = value if sep else (args.pop(0) if args else "")
    if not path:
        raise ConfigError("usage: --socket PATH")
    return path


def _load_policy(path: str) -> dict[str, object] | None:
    try:
        with open(path, "rb") as handle:
            policy = json.load(handle)
    except (OSError, ValueError):
        return None
    return policy if isinstance(policy, dict) else None


def _decision_from(answer: object) -> dict[str, str] | None:
    if not isinstance(answer, dict):
        return None
    decision = answer.get("decision")
    rule_id = answer.get("rule_id")
    severity = answer.get("severity")
    reason = answer.get("reason", "")
    if decision not in DECISIONS or not isinstance(rule_id, str):
        return None
    if not isinstance(severity, str) or not isinstance(reason, str):
        return None
    return {"decision": str(decision), "rule_id": rule_id, "severity": severity, "reason": reason}


def _in_parity(go: Mapping[str, str], python: Mapping[str, str]) -> bool:
    return all(go[key] == python[key] for key in ("decision", "rule_id", "severity"))


def _triple(decision: Mapping[str, str]) -> str:
    return f"{decision['decision']}/{decision['rule_id']}/{decision['severity']}"


def _last_line(data: bytes) -> str:
    lines = data.decode("utf-8", "replace").strip().splitlines()
    return lines[-1][:_MAX_REASON_DETAIL] if lines else ""


def _fail(message: str, code: int) -> int:
    sys.stderr.write(f"cavra-service: {message}\n")
    sys.stderr.flush()
    return code


if __name__ == "__main__":
    sys.exit(main())
