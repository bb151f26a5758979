"""The drill engine: baseline on Go, optional incident, timed rollback to Python, verify, clean up.

Timing rules (design.md, "Process and time"): the recovery clock is `time.monotonic_ns()`
only; "ready" is an event wherever the target offers one (the sandbox service's READY line,
a reply on its socket); cleanup always runs, shielded from cancellation and bounded in time.

What each step means belongs to the target (`target.py`): the simulated sandbox or a real
deployment's runbook commands. The engine owns the clock, the deadline and the record.

A rollback that does not work is data: the engine returns a `fail` outcome. It raises only
when the drill could not start (`BaselineUnreachable`, exit 4) or was interrupted.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import anyio

from cavra_drill.contract.timestamps import format_utc
from cavra_drill.drill import processes
from cavra_drill.drill.outcome import FAIL, PASS, DrillOutcome, PhaseRecord
from cavra_drill.drill.policy import PROBE_REQUESTS
from cavra_drill.drill.runbook import CommandsTarget, Runbook, load_runbook
from cavra_drill.drill.sandbox_target import SandboxDrillTarget, SandboxFaults
from cavra_drill.drill.target import BaselineUnreachable, IncidentReport, StepResult, Target, VerifyFailed

__all__ = ["BaselineUnreachable", "DrillPlan", "run_drill"]

# Waiting a hair past the target makes "not recovered in time" unambiguous on the record:
# the measured time then always rounds to more than the target.
DEADLINE_MARGIN_SECONDS = 0.01
CLEANUP_BUDGET_SECONDS = 15.0


@dataclass(frozen=True)
class DrillPlan:
    """Everything the engine needs; built by the CLI from flags, environment, plan and runbook."""

    drill_id: str
    sandbox_root: Path
    target_seconds: float
    runtime_timeout_seconds: float
    incident: str | None = None
    stop_ignores_sigterm: bool = False
    slow_restart_seconds: float | None = None
    fallback_broken: bool = False
    keep_sandbox: bool = False
    probes: tuple[Mapping[str, object], ...] = PROBE_REQUESTS
    runbook: Runbook | None = None
    """None: the built-in sandbox runbook."""
    logs_dir: Path | None = None
    """Where a command runbook's output goes (default: next to the sandbox root)."""


ProgressCallback = Callable[[PhaseRecord], None]


def make_target(plan: DrillPlan) -> Target:
    runbook = plan.runbook or load_runbook(None)
    if isinstance(runbook.target, CommandsTarget):
        logs = plan.logs_dir or plan.sandbox_root.parent.parent / "logs" / plan.drill_id
        return _commands_target(runbook.target, plan.drill_id, logs)
    return SandboxDrillTarget(
        root=plan.sandbox_root,
        drill_id=plan.drill_id,
        settings=runbook.target,
        runtime_timeout_seconds=plan.runtime_timeout_seconds,
        faults=SandboxFaults(plan.stop_ignores_sigterm, plan.slow_restart_seconds, plan.fallback_broken),
        keep=plan.keep_sandbox,
        probes=plan.probes,
    )


def _commands_target(settings: CommandsTarget, drill_id: str, logs: Path) -> Target:
    from cavra_drill.drill.command_target import CommandDrillTarget

    return CommandDrillTarget(settings=settings, drill_id=drill_id, logs_dir=logs)


@dataclass
class _Recorder:
    on_phase: ProgressCallback | None
    phases: list[PhaseRecord] = field(default_factory=list)
    current: tuple[str, datetime, int] | None = None

    def begin(self, name: str) -> None:
        self.current = (name, datetime.now(UTC), time.monotonic_ns())

    def end(self, ok: bool, detail: str) -> None:
        assert self.current is not None
        name, wall, start = self.current
        self.current = None
        phase = PhaseRecord(name, format_utc(wall), (time.monotonic_ns() - start) / 1e9, ok, detail)
        self.phases.append(phase)
        if self.on_phase is not None:
            self.on_phase(phase)


@dataclass(frozen=True)
class _Recovery:
    started_ns: int
    ended_ns: int
    last_answer_ns: int | None
    failure: str | None


async def _rollback(target: Target, plan: DrillPlan, rec: _Recorder) -> _Recovery:
    """The timed part: from the first rollback step to the last proof that Python serves."""
    deadline = time.monotonic() + plan.target_seconds + DEADLINE_MARGIN_SECONDS
    t0 = time.monotonic_ns()
    failure: str | None = None
    last_answer: int | None = None
    recovered_at: int | None = None
    with anyio.move_on_after(deadline - time.monotonic()) as scope:
        for step in target.rollback_steps():
            rec.begin(step.name)
            try:
                result = await step.run(deadline - time.monotonic())
            except OSError as exc:  # the machine failed the step (disk full, no such program...)
                result = StepResult(False, f"{step.name}: {exc.strerror or type(exc).__name__}")
            rec.end(result.ok, result.detail)
            if not result.ok:
                failure = result.detail
                break
        if failure is None:
            rec.begin("verify")
            try:
                last_answer = await target.verify(deadline - time.monotonic())
                recovered_at = time.monotonic_ns()
                rec.end(True, _verified_detail(target, plan))
            except (VerifyFailed, OSError) as exc:
                failure = f"verification failed: {exc}"
                rec.end(False, failure)
    ended = recovered_at if recovered_at is not None else time.monotonic_ns()
    if scope.cancelled_caught and recovered_at is None:
        failure = f"Python fallback was not verified within the recovery target of {plan.target_seconds:g} s"
        if rec.current is not None:
            rec.end(False, failure)
    return _Recovery(t0, ended, last_answer, failure)


def _verified_detail(target: Target, plan: DrillPlan) -> str:
    if isinstance(target, SandboxDrillTarget):
        return (
            f"{len(plan.probes)} probes decided by Python in parity with the baseline; "
            "Go runtime not invoked; no runtime process alive; mode disabled"
        )
    return "the runbook's verification passed"


async def _cleanup(target: Target, plan: DrillPlan, rec: _Recorder) -> tuple[list[int], bool]:
    """Always runs; shielded and time-boxed. Returns (pids that survived, whether it finished)."""
    rec.begin("cleanup")
    leftovers: list[int] = []
    finished = False
    detail = f"cleanup did not finish within {CLEANUP_BUDGET_SECONDS:g} s"
    with anyio.CancelScope(shield=True):
        with anyio.move_on_after(CLEANUP_BUDGET_SECONDS):
            try:
                leftovers, detail = await target.cleanup()
                finished = True
            except OSError as exc:
                detail = f"cleanup failed: {exc.strerror or type(exc).__name__}"
        if not finished:
            # Whatever the target did not get to, the drill's marker still finds.
            await anyio.to_thread.run_sync(processes.sweep_drill, plan.drill_id)
            leftovers = [p.pid for p in await anyio.to_thread.run_sync(processes.find_marked, plan.drill_id)]
    rec.end(finished and not leftovers, detail)
    return leftovers, finished


async def run_drill(plan: DrillPlan, *, on_phase: ProgressCallback | None = None) -> DrillOutcome:
    """Run one drill. Cancel it (SIGINT, SIGTERM) and cleanup still runs before the cancel propagates."""
    rec = _Recorder(on_phase)
    await anyio.to_thread.run_sync(processes.sweep_orphans)
    target = make_target(plan)
    observations: list[dict[str, object]] = []
    try:
        rec.begin("baseline")
        try:
            detail = await target.baseline()
        except BaselineUnreachable as exc:
            rec.end(False, exc.message)
            raise
        except OSError as exc:  # the drill could not even be laid out: it never started
            rec.end(False, str(exc))
            raise BaselineUnreachable(f"the drill could not start: {exc.strerror or exc}") from None
        rec.end(True, detail)
        if plan.incident is not None:
            rec.begin("incident")
            try:
                report = await target.incident(plan.incident)
            except OSError as exc:
                report = IncidentReport(StepResult(False, f"{plan.incident}: {exc.strerror or exc}"))
            rec.end(report.result.ok, report.result.detail)
            observations = report.observations
        recovery = await _rollback(target, plan, rec)
    finally:
        leftovers, cleaned = await _cleanup(target, plan, rec)
    recovery_ns = recovery.ended_ns - recovery.started_ns
    failure = recovery.failure
    verified = failure is None
    within = recovery_ns <= plan.target_seconds * 1e9
    if verified and not within:
        failure = (
            f"Python fallback verified after {recovery_ns / 1e9:.3f} s, beyond the target of {plan.target_seconds:g} s"
        )
    if failure is None and leftovers:
        failure = f"{len(leftovers)} drill process(es) survived cleanup"
    if failure is None and not cleaned:
        failure = "cleanup did not finish"
    return DrillOutcome(
        status=PASS if failure is None else FAIL,
        fallback_verified=verified,
        recovery_ns=recovery_ns,
        target_seconds=plan.target_seconds,
        phases=rec.phases,
        failure=failure,
        last_probe_answered_ns=recovery.last_answer_ns,
        recovery_end_ns=recovery.ended_ns,
        incident_observations=observations,
        leftover_pids=leftovers,
    )
