"""One `cavra-drill run` as a list of named test cases, shared by the CI renderers.

JUnit, the Markdown step summary, GitHub annotations and the in-toto test-result attestation
all answer the same question ("which parts of the drill passed?"), so they all read this list
and agree with each other and with the exit code.

The cases, in order:

- `drill`: one case per drill phase (`evidence["phases"]`), failed when the phase is not ok,
  then `drill-verdict`, failed when the evidence status is not `pass`. The verdict has its own
  case because a drill can fail with every phase ok (Python verified, but after the target).
- `readiness.production`: the production report's own checks (one per section).
- `readiness.<section>`: each section's checks, by check id.

CAVRA never says `fail`: a check is `pass` or `warn`, and only the report's status decides
whether a `warn` matters. So a `warn` is a *failure* when its report's status blocks readiness
(`needs_attention`), and a *warning* otherwise: a section that is `not_requested` (for example
the schedule when none is configured) warns on its `..._requested` check by design, and a CI
user must not see a red build for a report CAVRA itself accepts.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final, Literal

Outcome = Literal["passed", "failed", "warned"]
PASSED: Final = "passed"
FAILED: Final = "failed"
WARNED: Final = "warned"

DRILL_GROUP = "drill"
VERDICT_CASE = "drill-verdict"
PRODUCTION_GROUP = "readiness.production"
SECTIONS = (
    "go_backend_rollback",
    "go_backend_rollback_rehearsal",
    "go_backend_rollback_drill_history",
    "go_backend_rollback_drill_schedule",
)
# Report statuses that let CAVRA's gate through (contract §8); anything else blocks.
ACCEPTABLE_STATUSES = frozenset({"ready", "not_requested", "due_soon"})


@dataclass(frozen=True)
class DrillCase:
    """One named result: a drill phase or a readiness check."""

    group: str
    name: str
    outcome: Outcome
    message: str
    seconds: float = 0.0
    details: tuple[tuple[str, str], ...] = ()
    """Extra facts (a check's extras, a phase's start time), as text, for the report body."""

    @property
    def test_name(self) -> str:
        """A name unique within one run, e.g. `drill/verify` or `readiness.go_backend_rollback/go_rollback_plan`."""
        return f"{self.group}/{self.name}"


def blocks_readiness(report: Mapping[str, object]) -> bool:
    return str(report.get("status")) not in ACCEPTABLE_STATUSES


def drill_cases(evidence: Mapping[str, object], *, failure: str | None) -> list[DrillCase]:
    cases: list[DrillCase] = []
    phases = evidence.get("phases")
    for phase in phases if isinstance(phases, list) else []:
        if not isinstance(phase, Mapping):
            continue
        seconds = phase.get("duration_seconds")
        started = phase.get("started_at")
        cases.append(
            DrillCase(
                group=DRILL_GROUP,
                name=str(phase.get("name")),
                outcome=PASSED if phase.get("ok") is True else FAILED,
                message=str(phase.get("detail", "")),
                seconds=_seconds(seconds),
                details=(("started_at", str(started)),) if isinstance(started, str) else (),
            )
        )
    passed = evidence.get("status") == "pass"
    if passed:
        verdict = "Python fallback verified within the recovery target; nothing left running."
    else:
        verdict = failure or f"drill status is {evidence.get('status')}"
    cases.append(
        DrillCase(
            group=DRILL_GROUP,
            name=VERDICT_CASE,
            outcome=PASSED if passed else FAILED,
            message=verdict,
            seconds=_seconds(evidence.get("recovery_seconds")),
            details=tuple(
                (key, _text(evidence.get(key)))
                for key in ("recovery_seconds", "recovery_minutes", "max_recovery_minutes", "fallback_verified")
            ),
        )
    )
    return cases


def readiness_cases(readiness: Mapping[str, object]) -> list[DrillCase]:
    cases = _check_cases(PRODUCTION_GROUP, readiness)
    for key in SECTIONS:
        section = readiness.get(key)
        if isinstance(section, Mapping):
            cases += _check_cases(f"readiness.{key}", section)
    return cases


def run_cases(
    evidence: Mapping[str, object], readiness: Mapping[str, object], *, failure: str | None
) -> list[DrillCase]:
    return drill_cases(evidence, failure=failure) + readiness_cases(readiness)


def _check_cases(group: str, report: Mapping[str, object]) -> list[DrillCase]:
    blocking = blocks_readiness(report)
    status = str(report.get("status"))
    cases = []
    checks = report.get("checks")
    for item in checks if isinstance(checks, list) else []:
        if not isinstance(item, Mapping):
            continue
        if item.get("status") == "pass":
            outcome: Outcome = PASSED
        else:
            outcome = FAILED if blocking else WARNED
        details = [("report_status", status)]
        details += [(str(k), _text(v)) for k, v in item.items() if k not in ("id", "status", "message")]
        cases.append(
            DrillCase(
                group=group,
                name=str(item.get("id")),
                outcome=outcome,
                message=str(item.get("message", "")),
                details=tuple(details),
            )
        )
    return cases


def _seconds(value: object) -> float:
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value) and value >= 0:
        return float(value)
    return 0.0


def _text(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return ", ".join(_text(v) for v in value) or "(none)"
    return str(value)
