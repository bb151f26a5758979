"""A real deployment as a drill target, driven by the operator's runbook commands.

Each step runs one program (directly, or through /bin/sh when the runbook asks) in its own
session, with its own timeout; on timeout its whole process group is stopped. Its output goes
to files under `<workdir>/logs/<drill id>/`, never into evidence: phase details say only what
happened (exit code, duration, HTTP status), since command output can hold anything.

What the commands start on purpose (a restarted service) is the deployment, not the drill's:
cleanup stops the commands themselves, not what they daemonised. A real deployment offers no
event to wait on, so `verify` is retried every `retry_interval_seconds` until it passes or the
recovery target is reached; each attempt is bounded by its own timeout.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import anyio

from cavra_drill.drill import processes
from cavra_drill.drill.http_check import HttpCheckError, http_get
from cavra_drill.drill.processes import OWNER_ENV
from cavra_drill.drill.runbook import Check, CommandCheck, CommandsTarget, HttpCheck
from cavra_drill.drill.target import BaselineUnreachable, IncidentReport, RollbackStep, StepResult, VerifyFailed

KILL_GRACE_SECONDS = 2.0


class CommandDrillTarget:
    """Implements `Target` with the switch-mode, restart and verify steps of a `commands` runbook."""

    def __init__(self, *, settings: CommandsTarget, drill_id: str, logs_dir: Path) -> None:
        self.settings = settings
        self.drill_id = drill_id
        self.logs_dir = logs_dir
        self.running: set[int] = set()
        self._attempts = 0

    async def run_command(self, name: str, check: CommandCheck, seconds_left: float) -> StepResult:
        self._attempts += 1
        self.logs_dir.mkdir(parents=True, exist_ok=True)
        stem = self.logs_dir / f"{self._attempts:02d}-{name}"
        env = {
            **os.environ,
            **check.env,
            "CAVRA_DRILL_ID": self.drill_id,
            "CAVRA_DRILL_STEP": name,
            "CAVRA_DRILL_TARGET_MODE": "disabled",
            OWNER_ENV: str(os.getpid()),
        }
        # Through the launcher, so that the command dies with cavra-drill (see launch.py).
        command = [sys.executable, "-m", "cavra_drill.drill.launch", *check.command]
        timeout = min(check.timeout_seconds, max(seconds_left, 0.0))
        started = time.monotonic()
        with open(f"{stem}.out", "wb") as out, open(f"{stem}.err", "wb") as err:
            try:
                process = await anyio.open_process(
                    command, stdin=None, stdout=out, stderr=err, env=env, start_new_session=True
                )
            except OSError as exc:
                return StepResult(False, f"{name}: could not start the command ({exc.strerror or type(exc).__name__})")
            self.running.add(process.pid)
            try:
                created = _create_time(process.pid)
                with anyio.move_on_after(timeout) as scope:
                    code = await process.wait()
                if scope.cancelled_caught:
                    await self._stop(process.pid, created)
                    with anyio.CancelScope(shield=True):
                        await process.wait()
                    return StepResult(False, f"{name}: timed out after {timeout:g} s; its process group was stopped")
            finally:
                if process.returncode is None:  # cancelled from outside (deadline, Ctrl-C)
                    with anyio.CancelScope(shield=True):
                        await self._stop(process.pid, created)
                        await process.wait()
                self.running.discard(process.pid)
        took = time.monotonic() - started
        if code != 0:
            return StepResult(False, f"{name}: exited with code {code} after {took:.3f} s (output in the drill's logs)")
        return StepResult(True, f"{name}: exited 0 after {took:.3f} s")

    async def _stop(self, pid: int, create_time: float | None = None) -> None:
        # create_time guards against a recycled pid: only the process we started is signalled.
        await anyio.to_thread.run_sync(
            lambda: processes.stop_tree(pid, grace=KILL_GRACE_SECONDS, create_time=create_time)
        )

    async def run_http(self, name: str, check: HttpCheck, seconds_left: float) -> StepResult:
        try:
            answer = await http_get(check.url, timeout=min(check.timeout_seconds, max(seconds_left, 0.0)))
        except HttpCheckError as exc:
            # The URL is not echoed: it names a host, which evidence must never hold.
            return StepResult(False, f"{name}: GET failed: {exc}")
        if answer.status != check.expect_status:
            return StepResult(False, f"{name}: GET returned {answer.status}, expected {check.expect_status}")
        if check.expect_body_contains is not None and check.expect_body_contains.encode() not in answer.body:
            return StepResult(False, f"{name}: GET returned {answer.status} without the expected body text")
        found = " with the expected body text" if check.expect_body_contains else ""
        return StepResult(True, f"{name}: GET returned {answer.status}{found}")

    async def run_check(self, name: str, check: Check, seconds_left: float) -> StepResult:
        if isinstance(check, HttpCheck):
            return await self.run_http(name, check, seconds_left)
        return await self.run_command(name, check, seconds_left)

    async def baseline(self) -> str:
        if self.settings.baseline is None:
            return "no baseline check in the runbook; promoted mode assumed"
        result = await self.run_check("baseline", self.settings.baseline, self.settings.baseline.timeout_seconds)
        if not result.ok:
            raise BaselineUnreachable(f"baseline not reached: {result.detail}")
        return result.detail

    async def incident(self, kind: str) -> IncidentReport:
        # Refused earlier, at the command line; a runbook cannot break a real Go runtime for us.
        return IncidentReport(StepResult(False, f"{kind}: incidents exist only in the sandbox"))

    def rollback_steps(self) -> list[RollbackStep]:
        async def switch(left: float) -> StepResult:
            return await self.run_command("switch-mode", self.settings.switch_mode, left)

        async def restart(left: float) -> StepResult:
            return await self.run_command("restart", self.settings.restart, left)

        return [RollbackStep("switch-mode", switch), RollbackStep("restart", restart)]

    async def verify(self, seconds_left: float) -> int | None:
        deadline = time.monotonic() + seconds_left
        attempts = 0
        while True:
            attempts += 1
            result = await self.run_check("verify", self.settings.verify, deadline - time.monotonic())
            if result.ok:
                return None
            if time.monotonic() + self.settings.retry_interval_seconds >= deadline:
                raise VerifyFailed(f"not verified after {attempts} attempt(s); last: {result.detail}")
            await anyio.sleep(self.settings.retry_interval_seconds)

    async def cleanup(self) -> tuple[list[int], str]:
        for pid in list(self.running):
            await self._stop(pid)
        survivors = [pid for pid in self.running if _alive(pid)]
        detail = "every runbook command has exited" if not survivors else f"{len(survivors)} command(s) survived"
        return survivors, detail + f"; command output in {self.logs_dir.name}/"


def _create_time(pid: int) -> float | None:
    import psutil

    try:
        return float(psutil.Process(pid).create_time())
    except psutil.Error:
        return None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
