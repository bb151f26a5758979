"""The simulated deployment a drill runs in: one directory, everything the service needs.

<root>/bin/cavra-runtime           the stub Go runtime (an executable script)
<root>/policy.json                 the compiled policy both backends evaluate
<root>/runtime/invocations.jsonl   one line per runtime call, appended by the stub
<root>/runtime/incident            the injected runtime fault, when there is one
<root>/logs/                       the service's stderr, one file per start
<root>/service.sock                the service's socket (or a short private directory)
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
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


def create_sandbox(root: Path, *, drill_id: str) -> Sandbox:
    """Lay out a fresh sandbox in `root`, resetting what a previous drill left there."""
    root = root.absolute()
    runtime_dir = root / "runtime"
    logs_dir = root / "logs"
    for directory in (root, root / "bin", runtime_dir, logs_dir):
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
    )
