"""The simulated deployment a drill runs in: one directory, everything the service needs.

<root>/bin/cavra-runtime           the stub Go runtime (an executable script)
<root>/policy.json                 the compiled policy both backends evaluate
<root>/runtime/invocations.jsonl   one line per runtime call, appended by the stub
<root>/runtime/incident            the injected runtime fault, when there is one
<root>/logs/                       the service's stderr, one file per start
<root>/service.sock                the service's socket (or a short private directory)
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from cavra_drill.contract.settings import ENV_MODE, ENV_RUNTIME_PATH, ENV_RUNTIME_POLICY, ENV_RUNTIME_TIMEOUT
from cavra_drill.drill.policy import DEFAULT_POLICY
from cavra_drill.drill.processes import marker_env
from cavra_drill.drill.service import FAULT_ENV
from cavra_drill.drill.stub_runtime import INCIDENT_KINDS, write_stub
from cavra_drill.errors import EnvironmentFault

# sun_path holds 108 bytes on Linux (104 on macOS), including the terminating NUL.
_MAX_SOCKET_PATH_BYTES = 103
_INHERITED_PREFIX = "CAVRA_"
OWNER_LOCK = ".owner.lock"
KEPT_MARKER = ".kept"
SOCKET_DIR_NOTE = "socket-dir"


@dataclass(frozen=True)
class Sandbox:
    root: Path
    drill_id: str
    runtime_path: Path
    policy_path: Path
    invocation_log: Path
    incident_file: Path
    logs_dir: Path
    socket_path: Path
    # Set when the socket lives outside `root` because `root` is too deep for a socket path.
    socket_dir: Path | None = None
    # An exclusive flock on `root/.owner.lock`, held for the drill's life: the kernel drops it
    # when the drill dies however it dies, which is how a later drill tells a stale sandbox.
    owner_fd: int | None = None

    def set_incident(self, kind: str | None) -> None:
        """Make every following runtime call misbehave as `kind`; None restores normal calls."""
        if kind is None:
            self.incident_file.unlink(missing_ok=True)
            return
        if kind not in INCIDENT_KINDS:
            raise ValueError(f"unknown incident {kind!r}; expected one of {', '.join(INCIDENT_KINDS)}")
        # Replace in one step: a runtime call running right now reads the old or the new kind,
        # never an empty or half-written file.
        partial = self.incident_file.with_name(f".{self.incident_file.name}.tmp")
        partial.write_text(kind + "\n", encoding="utf-8")
        os.replace(partial, self.incident_file)

    def runtime_invocations(self) -> list[dict[str, object]]:
        """The runtime calls logged so far, oldest first.

        A line without its newline is a call that is still being logged (or was killed while
        logging); it is left out rather than guessed at.
        """
        try:
            data = self.invocation_log.read_bytes()
        except FileNotFoundError:
            return []
        calls: list[dict[str, object]] = []
        for line in data.split(b"\n")[:-1]:
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            if isinstance(entry, dict):
                calls.append(entry)
        return calls

    def service_env(self, mode: str, *, fault: str | None, drill_id: str, timeout_seconds: float) -> dict[str, str]:
        """The service's environment: ours without inherited CAVRA_* settings, plus the sandbox's.

        An operator's own CAVRA_GO_BACKEND_MODE (or a marker from an enclosing drill) must not
        leak into the simulated deployment, or the drill would rehearse the wrong thing.
        """
        env = {key: value for key, value in os.environ.items() if not key.startswith(_INHERITED_PREFIX)}
        env.update(
            {
                ENV_MODE: mode,
                ENV_RUNTIME_PATH: str(self.runtime_path),
                ENV_RUNTIME_POLICY: str(self.policy_path),
                ENV_RUNTIME_TIMEOUT: repr(float(timeout_seconds)),
            }
        )
        env.update(marker_env(drill_id))
        if fault:
            env[FAULT_ENV] = fault
        # The service is started as `python -m cavra_drill...` from inside the sandbox: make
        # sure it runs this package's code even when cavra-drill is not installed.
        package_parent = str(Path(__file__).resolve().parents[2])
        paths = [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p and p != package_parent]
        env["PYTHONPATH"] = os.pathsep.join([package_parent, *paths])
        return env

    def remove(self) -> None:
        """Delete the sandbox and the socket directory; never raises (it runs during cleanup)."""
        shutil.rmtree(self.root, ignore_errors=True)
        if self.socket_dir is not None:
            shutil.rmtree(self.socket_dir, ignore_errors=True)
        self._release()

    def keep(self) -> None:
        """Leave the sandbox for inspection (`--keep-sandbox`): later drills will not remove it."""
        with contextlib.suppress(OSError):
            (self.root / KEPT_MARKER).write_text("kept for inspection by --keep-sandbox\n")
        self._release()

    def _release(self) -> None:
        if self.owner_fd is not None:
            with contextlib.suppress(OSError):
                os.close(self.owner_fd)


def _hold_owner_lock(root: Path) -> int:
    fd = os.open(root / OWNER_LOCK, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        raise EnvironmentFault(f"sandbox {root} is in use by another drill") from None
    return fd


def remove_stale_sandboxes(parent: Path, *, min_age_seconds: float = 300.0) -> list[Path]:
    """Remove sandboxes under `parent` left by drills that died (SIGKILL, power loss).

    A sandbox is stale when nobody holds its owner lock. Kept sandboxes stay; one without a lock
    file is left alone while young (its drill may be creating it this instant).
    """
    removed: list[Path] = []
    try:
        children = [child for child in parent.iterdir() if child.is_dir() and not child.is_symlink()]
    except OSError:
        return removed
    for child in children:
        if (child / KEPT_MARKER).exists():
            continue
        try:
            fd = os.open(child / OWNER_LOCK, os.O_RDWR | os.O_CLOEXEC)
        except FileNotFoundError:
            with contextlib.suppress(OSError):
                if time.time() - child.stat().st_mtime > min_age_seconds:
                    shutil.rmtree(child, ignore_errors=True)
                    removed.append(child)
            continue
        except OSError:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            continue  # held: a drill is using it
        else:
            socket_note = child / SOCKET_DIR_NOTE
            with contextlib.suppress(OSError):
                shutil.rmtree(socket_note.read_text().strip(), ignore_errors=True)
            shutil.rmtree(child, ignore_errors=True)
            removed.append(child)
        finally:
            os.close(fd)
    return removed


def create_sandbox(root: Path, *, drill_id: str) -> Sandbox:
    """Lay out a fresh sandbox in `root`, resetting what a previous drill left there."""
    root = root.absolute()
    runtime_dir = root / "runtime"
    logs_dir = root / "logs"
    root.mkdir(parents=True, exist_ok=True)
    owner_fd = _hold_owner_lock(root)
    for directory in (root / "bin", runtime_dir, logs_dir):
        directory.mkdir(parents=True, exist_ok=True)
    invocation_log = runtime_dir / "invocations.jsonl"
    invocation_log.write_bytes(b"")
    incident_file = runtime_dir / "incident"
    incident_file.unlink(missing_ok=True)
    policy_path = root / "policy.json"
    policy_path.write_text(json.dumps(DEFAULT_POLICY, indent=2) + "\n", encoding="utf-8")
    runtime_path = write_stub(root / "bin", invocation_log=invocation_log, incident_file=incident_file)

    socket_path = root / "service.sock"
    socket_dir: Path | None = None
    if len(os.fsencode(socket_path)) > _MAX_SOCKET_PATH_BYTES:
        socket_dir = Path(tempfile.mkdtemp(prefix="cavra-drill-"))
        socket_path = socket_dir / "service.sock"
        if len(os.fsencode(socket_path)) > _MAX_SOCKET_PATH_BYTES:
            shutil.rmtree(socket_dir, ignore_errors=True)
            raise EnvironmentFault("no directory is short enough for a Unix socket; set TMPDIR to a short path")
        # So that a later drill can remove it too if this one dies without cleaning up.
        (root / SOCKET_DIR_NOTE).write_text(f"{socket_dir}\n", encoding="utf-8")
    # A socket file left by a killed service stays: the next service removes it only after
    # checking that no live service still answers on it.
    return Sandbox(
        root=root,
        drill_id=drill_id,
        runtime_path=runtime_path,
        policy_path=policy_path,
        invocation_log=invocation_log,
        incident_file=incident_file,
        logs_dir=logs_dir,
        socket_path=socket_path,
        socket_dir=socket_dir,
        owner_fd=owner_fd,
    )
