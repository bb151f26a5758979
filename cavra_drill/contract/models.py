"""Pydantic models of what cavra-drill *writes*, and the source of its JSON Schemas.

Judging is done rule by rule on raw JSON elsewhere (a strict model would reject a whole file
where CAVRA judges field by field). These models are strict on purpose: a bool is not a
number, a string is not a number, NaN and Infinity are refused, unknown fields are refused.
Imported lazily: pydantic costs ~40 ms of start-up that `readiness` does not pay.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from cavra_drill.contract.history import HISTORY_SCHEMA
from cavra_drill.contract.plan import PLAN_SCHEMA
from cavra_drill.contract.rehearsal import REHEARSAL_SCHEMA
from cavra_drill.contract.schedule import SCHEDULE_SCHEMA

PositiveNumber = Annotated[float, Field(gt=0, allow_inf_nan=False)]
NonNegativeNumber = Annotated[float, Field(ge=0, allow_inf_nan=False)]
NonEmptyText = Annotated[str, Field(min_length=1)]
Sha256 = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]


class _Strict(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)


class PlanApproval(_Strict):
    status: str
    approval_id: str = ""


class RollbackPlan(_Strict):
    """`cavra.go-backend-rollback-plan.v1` (contract §3), as `run` writes its default plan."""

    schema_version: Literal["cavra.go-backend-rollback-plan.v1"] = PLAN_SCHEMA  # type: ignore[assignment]
    status: Literal["ready"] = "ready"
    target_mode: Literal["disabled"] = "disabled"
    approved: bool
    approval: PlanApproval | None = None
    approval_id: str
    max_recovery_minutes: PositiveNumber
    controls: list[str]
    rollback_steps: Annotated[list[str], Field(min_length=1)]
    evidence_refs: list[str] = []


class Phase(_Strict):
    """One step of a drill: when it started (UTC), how long it took (monotonic), whether it held."""

    name: NonEmptyText
    started_at: NonEmptyText
    duration_seconds: NonNegativeNumber
    ok: bool
    detail: str


class RehearsalEvidence(_Strict):
    """`cavra.go-backend-rollback-rehearsal.v1` (contract §4) plus documented additive fields."""

    schema_version: Literal["cavra.go-backend-rollback-rehearsal.v1"] = REHEARSAL_SCHEMA  # type: ignore[assignment]
    status: Literal["pass", "fail"]
    plan_approval_id: str
    simulated: bool
    fallback_verified: bool
    recovery_minutes: PositiveNumber
    max_recovery_minutes: PositiveNumber
    runbook_ref: NonEmptyText
    evidence_refs: Annotated[list[NonEmptyText], Field(min_length=1)]
    # Additive fields: CAVRA ignores them; auditors and `history` use them.
    drill_id: NonEmptyText
    executed_at: NonEmptyText
    environment: NonEmptyText
    actor: NonEmptyText
    recovery_seconds: PositiveNumber
    incident: str | None = None
    faults: list[str] = []
    phases: list[Phase]


class DrillRecord(_Strict):
    """One entry of the drill history (contract §5) as `run` appends it."""

    drill_id: NonEmptyText
    executed_at: NonEmptyText
    actor: NonEmptyText
    environment: NonEmptyText
    source_mode: Literal["promoted"]
    target_mode: Literal["disabled"]
    status: Literal["pass", "fail"]
    fallback_verified: bool
    recovery_minutes: PositiveNumber
    max_recovery_minutes: PositiveNumber
    runbook_ref: NonEmptyText
    evidence_refs: Annotated[list[NonEmptyText], Field(min_length=1)]
    evidence_sha256: Sha256
    # The tamper-evident chain (contract.integrity), added under the history lock on append.
    previous_record_sha256: Sha256 | None
    record_sha256: Sha256


class DrillHistory(_Strict):
    """`cavra.go-backend-rollback-drill-history.v1` (contract §5)."""

    schema_version: Literal["cavra.go-backend-rollback-drill-history.v1"] = HISTORY_SCHEMA  # type: ignore[assignment]
    environment: NonEmptyText
    drills: list[DrillRecord]


class DrillSchedule(_Strict):
    """`cavra.go-backend-rollback-drill-schedule.v1` (contract §6)."""

    schema_version: Literal["cavra.go-backend-rollback-drill-schedule.v1"] = SCHEDULE_SCHEMA  # type: ignore[assignment]
    schedule_id: NonEmptyText
    environment: str
    status: Literal["active"] = "active"
    interval_days: PositiveNumber
    next_due_at: str | None = None
    owners: Annotated[list[str], Field(min_length=1)]
    notification_providers: Annotated[list[str], Field(min_length=1)]
    owner_routes: dict[str, object] | list[object] = {}
    maintenance_windows: list[object] = []
    owner_calendars: dict[str, object] = {}
    runbook_ref: NonEmptyText


SCHEMA_MODELS: dict[str, type[BaseModel]] = {
    "plan": RollbackPlan,
    "rehearsal": RehearsalEvidence,
    "drill": DrillRecord,
    "history": DrillHistory,
    "schedule": DrillSchedule,
}
