"""Real `cavra-drill run` drills in subprocesses for tests, and a leak check.

Each drill's children carry `CAVRA_DRILL_MARKER=<owner pid>:<drill id>`. The owner is the
`cavra-drill` process a test started, so after every test we look for any process marked
with one of those owners: there must be none, whatever happened to the drill.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from clirun import CliResult, clean_env

from cavra_drill.drill import processes


@dataclass
class Drills:
    """Starts `cavra-drill run` subprocesses in one work directory and remembers their pids."""

    cwd: Path
    owners: set[int] = field(default_factory=set)

    def start(self, *args: str, env: Mapping[str, str] | None = None) -> subprocess.Popen[str]:
        proc = subprocess.Popen(
            [sys.executable, "-m", "cavra_drill", "run", *args],
            cwd=self.cwd,
            env=clean_env({"CAVRA_DRILL_ACTOR": "test-runner", **(env or {})}),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.owners.add(proc.pid)
        return proc

    def run(self, *args: str, env: Mapping[str, str] | None = None, timeout: float = 60) -> CliResult:
        proc = self.start(*args, env=env)
        try:
            out, err = proc.communicate(timeout=timeout)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.communicate()
        return CliResult(proc.returncode, out, err)

    @property
    def out(self) -> Path:
        return self.cwd / "cavra-drill-out"

    def evidence(self) -> dict[str, Any]:
        return json.loads((self.out / "go-backend-rollback-rehearsal.json").read_text())  # type: ignore[no-any-return]

    def history(self) -> dict[str, Any]:
        return json.loads((self.out / "go-backend-rollback-drills.json").read_text())  # type: ignore[no-any-return]

    def leaked(self) -> list[int]:
        found = []
        for proc in processes.find_marked():
            try:
                marker = processes.parse_marker(proc.environ().get(processes.MARKER_ENV, ""))
            except Exception:  # noqa: S112 - vanished while we looked: not a leak
                continue
            if marker is not None and marker[0] in self.owners:
                found.append(proc.pid)
        return found


def drills_with_leak_check(cwd: Path) -> Iterator[Drills]:
    """Yield a `Drills` in `cwd`; afterwards fail if any drill process it started still runs."""
    runner = Drills(cwd=cwd)
    yield runner
    leaked = runner.leaked()
    if leaked:
        for pid in leaked:
            processes.stop_tree(pid, grace=0.5)
    assert not leaked, f"drill processes still running after the test: {leaked}"
