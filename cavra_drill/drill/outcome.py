"""What a drill observed: its phases and verdict, as plain data for evidence and renderers."""

from __future__ import annotations

from dataclasses import dataclass, field

PASS = "pass"
FAIL = "fail"


@dataclass(frozen=True)
class PhaseRecord:
    """One step of the drill. `started_at` is wall-clock UTC for people; the duration is monotonic."""

    name: str
    started_at: str
    duration_seconds: float
    ok: bool
    detail: str

    def as_json(self) -> dict[str, object]:
        return {
            "name": self.name,
            "started_at": self.started_at,
            "duration_seconds": round(self.duration_seconds, 6),
            "ok": self.ok,
            "detail": self.detail,
        }


@dataclass(frozen=True)
class DrillOutcome:
    """The verdict of the rollback itself, before any file is written."""

    status: str
    fallback_verified: bool
    recovery_ns: int
    """Monotonic nanoseconds from the rollback start to the last proof of Python serving."""
    target_seconds: float
    phases: list[PhaseRecord]
    failure: str | None = None
    last_probe_answered_ns: int | None = None
    """The restarted service's own monotonic stamp of its last verification answer."""
    recovery_end_ns: int | None = None
    """The drill's monotonic stamp at which it stopped the recovery clock."""
    incident_observations: list[dict[str, object]] = field(default_factory=list)
    leftover_pids: list[int] = field(default_factory=list)

    @property
    def recovery_seconds(self) -> float:
        return self.recovery_ns / 1e9


def recovery_minutes(recovery_ns: int) -> float:
    """Minutes rounded UP to 4 decimals, in integer arithmetic: never understated, never 0.

    One ten-thousandth of a minute is 6,000,000 ns.
    """
    ticks = max(1, -(-recovery_ns // 6_000_000))
    return ticks / 10_000
