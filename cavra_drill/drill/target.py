"""What the engine drills: a `Target` takes the rollback steps; the engine times and records them.

The engine owns the clock, the deadline, the phase record and cleanup's guarantees; a target
owns what each step means for its deployment (the simulated sandbox, or operator commands).

    baseline()       before the clock: prove the Go backend serves (BaselineUnreachable if not)
    incident(kind)   optional, before the clock: make the Go runtime misbehave, observe fallback
    rollback_steps() the timed steps (set the mode, stop, start... or switch, restart)
    verify(left)     the timed proof that Python serves; returns the deployment's own stamp of
                     its last answer when it has one (for measurement accuracy)
    cleanup()        always, shielded by the engine: stop what the drill started, return survivors
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Protocol

from cavra_drill.errors import EnvironmentFault


class BaselineUnreachable(EnvironmentFault):
    """The deployment never served Go decisions in promoted mode: the drill did not start."""


class VerifyFailed(Exception):
    """The deployment answered, but not as a Python-only deployment must. The message says how."""


@dataclass(frozen=True)
class StepResult:
    ok: bool
    detail: str


@dataclass(frozen=True)
class RollbackStep:
    """One timed step; `run` gets the seconds left before the recovery deadline."""

    name: str
    run: Callable[[float], Awaitable[StepResult]]


@dataclass(frozen=True)
class IncidentReport:
    result: StepResult
    observations: list[dict[str, object]] = field(default_factory=list)


class Target(Protocol):
    async def baseline(self) -> str: ...

    async def incident(self, kind: str) -> IncidentReport: ...

    def rollback_steps(self) -> list[RollbackStep]: ...

    async def verify(self, seconds_left: float) -> int | None: ...

    async def cleanup(self) -> tuple[list[int], str]: ...
