"""Helpers shared by the drill tests: real processes, started and stopped for real."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from pathlib import Path

from cavra_drill.contract.settings import ENV_RUNTIME_PATH
from cavra_drill.drill.processes import marker_env
from cavra_drill.drill.sandbox import Sandbox
from cavra_drill.drill.service_client import ServiceHandle, start_service

PACKAGE_PARENT = str(Path(__file__).resolve().parents[2])
READY_TIMEOUT = 15.0
STOP_GRACE = 2.0


def child_env(drill_id: str, owner_pid: int | None = None, **extra: str) -> dict[str, str]:
    """Our environment without CAVRA_* settings, tagged for `drill_id`, able to import us."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CAVRA_")}
    env.update(marker_env(drill_id, owner_pid))
    env["PYTHONPATH"] = PACKAGE_PARENT
    env.update(extra)
    return env


def run_stub(
    sandbox: Sandbox,
    payload: bytes,
    *args: str,
    timeout: float = 10.0,
) -> subprocess.CompletedProcess[bytes]:
    argv = list(args) if args else ["--policy", str(sandbox.policy_path)]
    return subprocess.run(
        [str(sandbox.runtime_path), *argv],
        input=payload,
        capture_output=True,
        timeout=timeout,
        env=child_env(sandbox.drill_id),
        check=False,
    )


def request_bytes(request: Mapping[str, object]) -> bytes:
    return json.dumps(request).encode()


@asynccontextmanager
async def serve(
    sandbox: Sandbox,
    mode: str,
    *,
    fault: str | None = None,
    timeout_seconds: float = 5.0,
    runtime_path: Path | None = None,
) -> AsyncIterator[ServiceHandle]:
    """A running service for the body of the block, stopped (as a tree) afterwards."""
    env = sandbox.service_env(mode, fault=fault, drill_id=sandbox.drill_id, timeout_seconds=timeout_seconds)
    if runtime_path is not None:
        env[ENV_RUNTIME_PATH] = str(runtime_path)
    handle = await start_service(sandbox, env, ready_timeout=READY_TIMEOUT)
    try:
        yield handle
    finally:
        report = await handle.stop(STOP_GRACE)
        assert not report.survivors, report


def python_child(code: str, env: Mapping[str, str], *, new_session: bool = True) -> subprocess.Popen[str]:
    """A helper process running `code`; it reports on stdout, one line per fact."""
    return subprocess.Popen(
        [sys.executable, "-c", code],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=dict(env),
        start_new_session=new_session,
    )


def read_pids(proc: subprocess.Popen[str], count: int) -> list[int]:
    """The first `count` lines of the helper's stdout, as pids (blocks until it prints them)."""
    assert proc.stdout is not None
    pids = []
    for _ in range(count):
        line = proc.stdout.readline()
        assert line, "helper exited before reporting its pids"
        pids.append(int(line))
    return pids
