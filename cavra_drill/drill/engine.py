"""The drill engine: baseline on Go, optional incident, rollback to Python, verify, clean up.

Timing rules (design.md, "Process and time"): the recovery clock is `time.monotonic_ns()`
only; "ready" is an event (the service's READY line, a reply on its socket), never a sleep;
cleanup always runs, shielded from cancellation and bounded in time.

A rollback that does not work is data: the engine returns a `fail` outcome. It raises only
when the drill could not start (`BaselineUnreachable`, exit 4) or was interrupted.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import anyio
import psutil

from cavra_drill.contract.timestamps import format_utc
from cavra_drill.drill import processes
from cavra_drill.drill.outcome import FAIL, PASS, DrillOutcome, PhaseRecord
from cavra_drill.drill.policy import DEFAULT_POLICY, PROBE_REQUESTS, evaluate
from cavra_drill.drill.sandbox import Sandbox, create_sandbox
from cavra_drill.drill.service_client import ServiceError, ServiceHandle, start_service
from cavra_drill.errors import EnvironmentFault

DISABLED_REASON = "go backend pilot is disabled"
# How long a stopping service gets between SIGTERM and SIGKILL.
STOP_GRACE_SECONDS = 3.0
# The baseline is not timed against the target, but a service that cannot start in this
# long means the machine cannot run the drill at all.
BASELINE_READY_SECONDS = 20.0
# Waiting a hair past the target makes "not recovered in time" unambiguous on the record:
# the measured time then always rounds to more than the target.
DEADLINE_MARGIN_SECONDS = 0.01
CLEANUP_BUDGET_SECONDS = 15.0


class BaselineUnreachable(EnvironmentFault):
    """The service never served Go decisions in promoted mode: the drill did not start."""


@dataclass(frozen=True)
class DrillPlan:
    """Everything the engine needs; built by the CLI from flags, environment and the plan."""

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


ProgressCallback = Callable[[PhaseRecord], None]


class _VerifyFailed(Exception):
    """The restarted service answered, but not as a Python-only service must."""


@dataclass
class _Recorder:
    on_phase: ProgressCallback | None
    phases: list[PhaseRecord] = field(default_factory=list)

    def record(self, name: str, started_wall: datetime, started_ns: int, ok: bool, detail: str) -> PhaseRecord:
        phase = PhaseRecord(name, format_utc(started_wall), (time.monotonic_ns() - started_ns) / 1e9, ok, detail)
        self.phases.append(phase)
        if self.on_phase is not None:
            self.on_phase(phase)
        return phase


def _same_decision(a: Mapping[str, object], b: Mapping[str, object]) -> bool:
    """CAVRA's parity: decision, rule_id and severity are equal."""
    return all(a.get(key) == b.get(key) for key in ("decision", "rule_id", "severity"))


def _evaluation(answer: Mapping[str, object]) -> Mapping[str, object]:
    value = answer.get("evaluation")
    return value if isinstance(value, Mapping) else {}


async def _probe_all(
    service: ServiceHandle, probes: tuple[Mapping[str, object], ...], *, concurrency: int
) -> list[dict[str, object]]:
    """Send the probes `concurrency` at a time and keep their order.

    In promoted mode each decision is a new runtime process: the baseline sends one per core
    so that start-up contention cannot push a healthy runtime past CAVRA's per-call timeout;
    the incident sends all at once, since a hanging runtime costs wall time, not CPU.
    """
    answers: list[dict[str, object]] = [{} for _ in probes]
    limiter = anyio.CapacityLimiter(max(1, concurrency))

    async def one(index: int, request: Mapping[str, object]) -> None:
        async with limiter:
            answers[index] = await service.decide(dict(request))

    async with anyio.create_task_group() as group:
        for index, request in enumerate(probes):
            group.start_soon(one, index, request)
    return answers


def _service_env(sandbox: Sandbox, plan: DrillPlan, mode: str, fault: str | None) -> dict[str, str]:
    return sandbox.service_env(mode, fault=fault, drill_id=plan.drill_id, timeout_seconds=plan.runtime_timeout_seconds)


async def _baseline(sandbox: Sandbox, plan: DrillPlan, rec: _Recorder) -> tuple[ServiceHandle, list[dict[str, object]]]:
    wall, start = datetime.now(UTC), time.monotonic_ns()
    fault = "stop-ignores-sigterm" if plan.stop_ignores_sigterm else None
    try:
        service = await start_service(
            sandbox, _service_env(sandbox, plan, "promoted", fault), ready_timeout=BASELINE_READY_SECONDS
        )
    except (ServiceError, OSError) as exc:
        rec.record("baseline", wall, start, False, f"service did not start in promoted mode: {exc}")
        raise BaselineUnreachable(f"the decision service did not start in promoted mode: {exc}") from None
    expected = [evaluate(DEFAULT_POLICY, request) for request in plan.probes]
    try:
        answers = await _probe_all(service, plan.probes, concurrency=os.cpu_count() or 1)
    except (ServiceError, OSError) as exc:
        rec.record("baseline", wall, start, False, f"probes failed in promoted mode: {exc}")
        await service.stop(STOP_GRACE_SECONDS)
        raise BaselineUnreachable(f"baseline not reached: probes failed in promoted mode: {exc}") from None
    for request, answer, want in zip(plan.probes, answers, expected, strict=True):
        evaluation = _evaluation(answer)
        if evaluation.get("selected_backend") != "go" or evaluation.get("parity_match") is not True:
            reason = evaluation.get("fallback_reason")
            detail = f"probe {request.get('action_type')} was not served by Go in parity ({reason})"
            rec.record("baseline", wall, start, False, detail)
            await service.stop(STOP_GRACE_SECONDS)
            raise BaselineUnreachable(f"baseline not reached: {detail}")
        if not _same_decision(answer, want):
            rec.record("baseline", wall, start, False, "Go decisions differ from the compiled policy")
            await service.stop(STOP_GRACE_SECONDS)
            raise BaselineUnreachable("baseline not reached: Go decisions differ from the compiled policy")
    calls = len(sandbox.runtime_invocations())
    rec.record(
        "baseline",
        wall,
        start,
        True,
        f"promoted mode: {len(answers)} probes decided by the Go runtime in parity; {calls} runtime invocations",
    )
    return service, answers


async def _incident(
    service: ServiceHandle, sandbox: Sandbox, plan: DrillPlan, rec: _Recorder
) -> list[dict[str, object]]:
    assert plan.incident is not None
    wall, start = datetime.now(UTC), time.monotonic_ns()
    sandbox.set_incident(plan.incident.removeprefix("go-runtime-"))
    try:
        answers = await _probe_all(service, plan.probes, concurrency=len(plan.probes))
    except (ServiceError, OSError) as exc:
        # The service itself failed under the incident: a finding, and the rollback still runs.
        rec.record("incident", wall, start, False, f"{plan.incident}: the service failed under the incident: {exc}")
        return []
    observations = [
        {
            "action_type": request.get("action_type"),
            "selected_backend": _evaluation(answer).get("selected_backend"),
            "fallback_used": _evaluation(answer).get("fallback_used"),
            "fallback_reason": _evaluation(answer).get("fallback_reason"),
        }
        for request, answer in zip(plan.probes, answers, strict=True)
    ]
    fell_back = sum(1 for o in observations if o["fallback_used"] is True)
    ok = fell_back == len(observations)
    # Reasons carry per-decision details after the colon; the phase names the kinds only.
    reasons = sorted({str(o["fallback_reason"]).split(":")[0] for o in observations if o["fallback_reason"]})
    rec.record(
        "incident",
        wall,
        start,
        ok,
        f"{plan.incident}: {fell_back}/{len(observations)} decisions fell back to Python"
        + (f" ({'; '.join(reasons)})" if reasons else ""),
    )
    return observations


async def _verify(
    service: ServiceHandle, sandbox: Sandbox, plan: DrillPlan, baseline: list[dict[str, object]], calls_before: int
) -> int:
    """Prove Python serves, in parity with the baseline, with the Go runtime out of the path.

    Returns the service's own stamp of its last answer. Raises _VerifyFailed on any wrong answer.
    """
    status = await service.status()
    if status.get("mode") != "disabled":
        raise _VerifyFailed(f"restarted service reports mode {status.get('mode')!r}, not 'disabled'")
    stub_path = str(sandbox.runtime_path)
    alive = [p.pid for p in processes.find_marked(plan.drill_id) if stub_path in " ".join(_cmdline(p))]
    if alive:
        raise _VerifyFailed(f"{len(alive)} Go runtime process(es) still alive after the rollback")
    last_answered = 0
    for request, want in zip(plan.probes, baseline, strict=True):
        answer = await service.decide(dict(request))
        evaluation = _evaluation(answer)
        if evaluation.get("selected_backend") != "python" or evaluation.get("fallback_used") is not False:
            raise _VerifyFailed(
                f"probe {request.get('action_type')} was decided by {evaluation.get('selected_backend')!r}, not Python"
            )
        if evaluation.get("fallback_reason") != DISABLED_REASON:
            raise _VerifyFailed(f"probe {request.get('action_type')} does not report the disabled Go pilot")
        if not _same_decision(answer, want):
            raise _VerifyFailed(f"probe {request.get('action_type')} lost parity with the baseline decision")
        stamp = answer.get("answered_monotonic_ns")
        last_answered = stamp if isinstance(stamp, int) else 0
    calls_after = len(sandbox.runtime_invocations())
    if calls_after != calls_before:
        raise _VerifyFailed(f"the Go runtime was invoked {calls_after - calls_before} time(s) after the rollback")
    return last_answered


def _cmdline(proc: psutil.Process) -> list[str]:
    try:
        return list(proc.cmdline())
    except (psutil.Error, OSError):  # vanished, or not ours to read: no stub of ours in it
        return []


@dataclass(frozen=True)
class _Recovery:
    service: ServiceHandle | None
    started_ns: int
    ended_ns: int
    last_answer_ns: int | None
    failure: str | None


async def _rollback(
    service: ServiceHandle, sandbox: Sandbox, plan: DrillPlan, baseline: list[dict[str, object]], rec: _Recorder
) -> _Recovery:
    """The timed part: from the first rollback step to the last proof that Python serves."""
    deadline_seconds = plan.target_seconds + DEADLINE_MARGIN_SECONDS
    t0 = time.monotonic_ns()
    new_service: ServiceHandle | None = None
    failure: str | None = None
    last_answer: int | None = None
    recovered_at: int | None = None
    # The phase in progress, so that the one the deadline interrupts is recorded as failed.
    current: tuple[str, datetime, int] | None = None

    def begin(name: str) -> None:
        nonlocal current
        current = (name, datetime.now(UTC), time.monotonic_ns())

    def end(ok: bool, detail: str) -> None:
        nonlocal current
        assert current is not None
        rec.record(*current, ok, detail)
        current = None

    with anyio.move_on_after(deadline_seconds) as scope:
        begin("set-mode")
        env = _service_env(sandbox, plan, "disabled", _restart_fault(plan))
        end(True, "CAVRA_GO_BACKEND_MODE=disabled for the next start")

        begin("stop-service")
        report = await service.stop(STOP_GRACE_SECONDS)
        how = "escalated to SIGKILL after the SIGTERM grace" if report.escalated else "exited on SIGTERM"
        end(not report.survivors, f"service tree stopped: {how}; {len(report.stopped)} process(es)")
        calls_before = len(sandbox.runtime_invocations())

        begin("start-service")
        try:
            new_service = await start_service(sandbox, env, ready_timeout=deadline_seconds)
            end(True, "service restarted in disabled mode and reported ready")
        except (ServiceError, OSError) as exc:
            failure = f"restarted service failed: {exc}"
            end(False, failure)
        if new_service is not None:
            begin("verify")
            try:
                last_answer = await _verify(new_service, sandbox, plan, baseline, calls_before)
                recovered_at = time.monotonic_ns()
                end(
                    True,
                    f"{len(plan.probes)} probes decided by Python in parity with the baseline; "
                    "Go runtime not invoked; no runtime process alive; mode disabled",
                )
            except (_VerifyFailed, ServiceError, OSError) as exc:
                failure = f"verification failed: {exc}"
                end(False, failure)
    ended = recovered_at if recovered_at is not None else time.monotonic_ns()
    if scope.cancelled_caught and recovered_at is None:
        failure = f"Python fallback was not verified within the recovery target of {plan.target_seconds:g} s"
        if current is not None:
            end(False, failure)
    return _Recovery(new_service, t0, ended, last_answer, failure)


def _restart_fault(plan: DrillPlan) -> str | None:
    if plan.fallback_broken:
        return "fallback-broken"
    if plan.slow_restart_seconds is not None:
        return f"slow-restart={plan.slow_restart_seconds:g}"
    return None


async def _cleanup(
    services: list[ServiceHandle], sandbox: Sandbox | None, plan: DrillPlan, rec: _Recorder
) -> list[int]:
    """Always runs; shielded and time-boxed. Returns pids that survived (should be none)."""
    wall, start = datetime.now(UTC), time.monotonic_ns()
    leftovers: list[int] = []
    with anyio.CancelScope(shield=True), anyio.move_on_after(CLEANUP_BUDGET_SECONDS):
        for service in services:
            await service.stop(STOP_GRACE_SECONDS)
        await anyio.to_thread.run_sync(processes.sweep_drill, plan.drill_id)
        leftovers = [p.pid for p in await anyio.to_thread.run_sync(processes.find_marked, plan.drill_id)]
        if sandbox is not None and not plan.keep_sandbox:
            await anyio.to_thread.run_sync(sandbox.remove)
            with contextlib.suppress(OSError):  # not empty: another drill is using it
                plan.sandbox_root.parent.rmdir()
    detail = "no drill process left running" if not leftovers else f"{len(leftovers)} process(es) survived cleanup"
    if plan.keep_sandbox:
        detail += "; sandbox kept"
    rec.record("cleanup", wall, start, not leftovers, detail)
    return leftovers


async def run_drill(plan: DrillPlan, *, on_phase: ProgressCallback | None = None) -> DrillOutcome:
    """Run one drill. Cancel it (SIGINT, SIGTERM) and cleanup still runs before the cancel propagates."""
    rec = _Recorder(on_phase)
    await anyio.to_thread.run_sync(processes.sweep_orphans)
    sandbox: Sandbox | None = None
    services: list[ServiceHandle] = []
    try:
        sandbox = await anyio.to_thread.run_sync(lambda: create_sandbox(plan.sandbox_root, drill_id=plan.drill_id))
        service, baseline = await _baseline(sandbox, plan, rec)
        services.append(service)
        observations: list[dict[str, object]] = []
        if plan.incident is not None:
            observations = await _incident(service, sandbox, plan, rec)
        recovery = await _rollback(service, sandbox, plan, baseline, rec)
        if recovery.service is not None:
            services.append(recovery.service)
    finally:
        leftovers = await _cleanup(services, sandbox, plan, rec)
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
