"""The simulated deployment as a drill target: stub Go runtime, decision service, probes."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import anyio
import psutil

from cavra_drill.drill import processes
from cavra_drill.drill.policy import DEFAULT_POLICY, PROBE_REQUESTS, evaluate
from cavra_drill.drill.runbook import SandboxTarget as SandboxSettings
from cavra_drill.drill.sandbox import Sandbox, create_sandbox, remove_stale_sandboxes
from cavra_drill.drill.service_client import ServiceError, ServiceHandle, start_service
from cavra_drill.drill.target import BaselineUnreachable, IncidentReport, RollbackStep, StepResult, VerifyFailed

DISABLED_REASON = "go backend pilot is disabled"


@dataclass(frozen=True)
class SandboxFaults:
    """Faults in the rollback path, to rehearse failure honestly (`--fault`)."""

    stop_ignores_sigterm: bool = False
    slow_restart_seconds: float | None = None
    fallback_broken: bool = False

    def for_restart(self) -> str | None:
        if self.fallback_broken:
            return "fallback-broken"
        if self.slow_restart_seconds is not None:
            return f"slow-restart={self.slow_restart_seconds:g}"
        return None


def _same_decision(a: Mapping[str, object], b: Mapping[str, object]) -> bool:
    """CAVRA's parity: decision, rule_id and severity are equal."""
    return all(a.get(key) == b.get(key) for key in ("decision", "rule_id", "severity"))


def _evaluation(answer: Mapping[str, object]) -> Mapping[str, object]:
    value = answer.get("evaluation")
    return value if isinstance(value, Mapping) else {}


def _cmdline(proc: psutil.Process) -> list[str]:
    try:
        return list(proc.cmdline())
    except (psutil.Error, OSError):  # vanished, or not ours to read: no stub of ours in it
        return []


class SandboxDrillTarget:
    """Implements `Target` for the sandbox: one decision service, restarted in disabled mode."""

    def __init__(
        self,
        *,
        root: Path,
        drill_id: str,
        settings: SandboxSettings,
        runtime_timeout_seconds: float,
        faults: SandboxFaults,
        keep: bool,
        probes: tuple[Mapping[str, object], ...] = PROBE_REQUESTS,
    ) -> None:
        self.root = root
        self.drill_id = drill_id
        self.settings = settings
        self.runtime_timeout = runtime_timeout_seconds
        self.faults = faults
        self.keep = keep
        self.probes = probes
        self.sandbox: Sandbox | None = None
        self.services: list[ServiceHandle] = []
        self.baseline_answers: list[dict[str, object]] = []
        self.calls_before_restart = 0
        self._next_env: dict[str, str] = {}

    @property
    def box(self) -> Sandbox:
        assert self.sandbox is not None, "baseline() lays out the sandbox first"
        return self.sandbox

    def _env(self, mode: str, fault: str | None) -> dict[str, str]:
        return self.box.service_env(mode, fault=fault, drill_id=self.drill_id, timeout_seconds=self.runtime_timeout)

    async def _probe_all(self, service: ServiceHandle, *, concurrency: int) -> list[dict[str, object]]:
        """Send the probes `concurrency` at a time and keep their order.

        In promoted mode each decision is a new runtime process: the baseline sends one per
        core so that start-up contention cannot push a healthy runtime past CAVRA's per-call
        timeout; the incident sends all at once, since a hanging runtime costs wall time, not CPU.
        """
        answers: list[dict[str, object]] = [{} for _ in self.probes]
        errors: list[ServiceError | OSError] = []
        limiter = anyio.CapacityLimiter(max(1, concurrency))

        async def one(index: int, request: Mapping[str, object]) -> None:
            try:
                async with limiter:
                    answers[index] = await service.decide(dict(request))
            except (ServiceError, OSError) as exc:
                # Kept, not raised: out of a task group it would arrive as an ExceptionGroup
                # that the callers' `except ServiceError` would never match.
                errors.append(exc)

        async with anyio.create_task_group() as group:
            for index, request in enumerate(self.probes):
                group.start_soon(one, index, request)
        if errors:
            raise errors[0]
        return answers

    async def baseline(self) -> str:
        def lay_out() -> Sandbox:
            # What drills that died (SIGKILL) left behind goes first; live ones hold their lock.
            remove_stale_sandboxes(self.root.parent)
            return create_sandbox(self.root, drill_id=self.drill_id)

        self.sandbox = await anyio.to_thread.run_sync(lay_out)
        fault = "stop-ignores-sigterm" if self.faults.stop_ignores_sigterm else None
        try:
            service = await start_service(
                self.box, self._env("promoted", fault), ready_timeout=self.settings.baseline_ready_seconds
            )
        except (ServiceError, OSError) as exc:
            raise BaselineUnreachable(f"the decision service did not start in promoted mode: {exc}") from None
        self.services.append(service)
        try:
            answers = await self._probe_all(service, concurrency=os.cpu_count() or 1)
        except (ServiceError, OSError) as exc:
            raise BaselineUnreachable(f"baseline not reached: probes failed in promoted mode: {exc}") from None
        for request, answer in zip(self.probes, answers, strict=True):
            evaluation = _evaluation(answer)
            if evaluation.get("selected_backend") != "go" or evaluation.get("parity_match") is not True:
                action, reason = request.get("action_type"), evaluation.get("fallback_reason")
                raise BaselineUnreachable(
                    f"baseline not reached: probe {action} was not served by Go in parity ({reason})"
                )
            if not _same_decision(answer, evaluate(DEFAULT_POLICY, request)):
                raise BaselineUnreachable("baseline not reached: Go decisions differ from the compiled policy")
        self.baseline_answers = answers
        calls = len(self.box.runtime_invocations())
        return f"promoted mode: {len(answers)} probes decided by the Go runtime in parity; {calls} runtime invocations"

    async def incident(self, kind: str) -> IncidentReport:
        self.box.set_incident(kind.removeprefix("go-runtime-"))
        try:
            answers = await self._probe_all(self.services[-1], concurrency=len(self.probes))
        except (ServiceError, OSError) as exc:
            # The service itself failed under the incident: a finding; the rollback still runs.
            return IncidentReport(StepResult(False, f"{kind}: the service failed under the incident: {exc}"))
        observations: list[dict[str, object]] = [
            {
                "action_type": request.get("action_type"),
                "selected_backend": _evaluation(answer).get("selected_backend"),
                "fallback_used": _evaluation(answer).get("fallback_used"),
                "fallback_reason": _evaluation(answer).get("fallback_reason"),
            }
            for request, answer in zip(self.probes, answers, strict=True)
        ]
        fell_back = sum(1 for o in observations if o["fallback_used"] is True)
        # Reasons carry per-decision details after the colon; the phase names the kinds only.
        reasons = sorted({str(o["fallback_reason"]).split(":")[0] for o in observations if o["fallback_reason"]})
        detail = f"{kind}: {fell_back}/{len(observations)} decisions fell back to Python"
        if reasons:
            detail += f" ({'; '.join(reasons)})"
        return IncidentReport(StepResult(fell_back == len(observations), detail), observations)

    def rollback_steps(self) -> list[RollbackStep]:
        return [
            RollbackStep("set-mode", self._set_mode),
            RollbackStep("stop-service", self._stop),
            RollbackStep("start-service", self._start),
        ]

    async def _set_mode(self, _left: float) -> StepResult:
        self._next_env = self._env("disabled", self.faults.for_restart())
        return StepResult(True, "CAVRA_GO_BACKEND_MODE=disabled for the next start")

    async def _stop(self, _left: float) -> StepResult:
        report = await self.services[-1].stop(self.settings.stop_grace_seconds)
        self.calls_before_restart = len(self.box.runtime_invocations())
        how = "escalated to SIGKILL after the SIGTERM grace" if report.escalated else "exited on SIGTERM"
        return StepResult(not report.survivors, f"service tree stopped: {how}; {len(report.stopped)} process(es)")

    async def _start(self, left: float) -> StepResult:
        try:
            self.services.append(await start_service(self.box, self._next_env, ready_timeout=left))
        except (ServiceError, OSError) as exc:
            return StepResult(False, f"restarted service failed: {exc}")
        return StepResult(True, "service restarted in disabled mode and reported ready")

    async def verify(self, seconds_left: float) -> int | None:
        """Python serves, in parity with the baseline, with the Go runtime out of the path."""
        service = self.services[-1]
        try:
            status = await service.status()
            if status.get("mode") != "disabled":
                raise VerifyFailed(f"restarted service reports mode {status.get('mode')!r}, not 'disabled'")
            stub = str(self.box.runtime_path)
            # In a worker thread: scanning every process's environment must not stall the loop.
            marked = await anyio.to_thread.run_sync(processes.find_marked, self.drill_id)
            alive = [p.pid for p in marked if stub in " ".join(_cmdline(p))]
            if alive:
                raise VerifyFailed(f"{len(alive)} Go runtime process(es) still alive after the rollback")
            last_answered = 0
            for request, want in zip(self.probes, self.baseline_answers, strict=True):
                answer = await service.decide(dict(request))
                evaluation = _evaluation(answer)
                action = request.get("action_type")
                if evaluation.get("selected_backend") != "python" or evaluation.get("fallback_used") is not False:
                    raise VerifyFailed(
                        f"probe {action} was decided by {evaluation.get('selected_backend')!r}, not Python"
                    )
                if evaluation.get("fallback_reason") != DISABLED_REASON:
                    raise VerifyFailed(f"probe {action} does not report the disabled Go pilot")
                if not _same_decision(answer, want):
                    raise VerifyFailed(f"probe {action} lost parity with the baseline decision")
                stamp = answer.get("answered_monotonic_ns")
                last_answered = stamp if isinstance(stamp, int) else 0
        except (ServiceError, OSError) as exc:
            raise VerifyFailed(f"the restarted service failed: {exc}") from None
        calls_after = len(self.box.runtime_invocations())
        if calls_after != self.calls_before_restart:
            raise VerifyFailed(
                f"the Go runtime was invoked {calls_after - self.calls_before_restart} time(s) after the rollback"
            )
        return last_answered

    async def cleanup(self) -> tuple[list[int], str]:
        for service in self.services:
            await service.stop(self.settings.stop_grace_seconds)
        await anyio.to_thread.run_sync(processes.sweep_drill, self.drill_id)
        leftovers = [p.pid for p in await anyio.to_thread.run_sync(processes.find_marked, self.drill_id)]
        if self.sandbox is not None:
            await anyio.to_thread.run_sync(self.sandbox.keep if self.keep else self.sandbox.remove)
        if not self.keep:
            with contextlib.suppress(OSError):  # not empty: another drill is using it
                self.root.parent.rmdir()
        detail = "no drill process left running" if not leftovers else f"{len(leftovers)} process(es) survived cleanup"
        return leftovers, detail + ("; sandbox kept" if self.keep else "")
