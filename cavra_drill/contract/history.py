"""The drill history (contract §5): only the latest drill is judged, and it must be fresh."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cavra_drill.contract.documents import Document
from cavra_drill.contract.findings import FILE_FIELD, Failure
from cavra_drill.contract.timestamps import days_between, parse_timestamp
from cavra_drill.contract.values import (
    is_json_true,
    is_nonempty_string,
    is_nonempty_string_list,
    is_positive_number,
    positive_or_none,
    string_list_or_empty,
    string_or_none,
)

HISTORY_SCHEMA = "cavra.go-backend-rollback-drill-history.v1"

MSG_SCHEMA = "rollback drill history has an invalid schema_version"
MSG_DRILLS = "rollback drill history must include a non-empty drills list"
MSG_NO_PARSEABLE = "rollback drill history has no parseable drills"
MSG_VALID = "Rollback drill history records a passing, fresh Python fallback drill."
STATUS_PASS = "Latest rollback drill passed."
STATUS_FAIL = "latest rollback drill must record status=pass"
TARGET_PASS = "Latest rollback drill returned to Python-only mode."
TARGET_FAIL = "latest rollback drill must set target_mode=disabled"
FALLBACK_PASS = "Latest rollback drill verified Python fallback restoration."
FALLBACK_FAIL = "latest rollback drill must verify Python fallback restoration"
SLA_PASS = "Latest rollback drill met the recovery target."
SLA_FAIL = "latest rollback drill recovery_minutes must be positive and less than or equal to max_recovery_minutes"
FRESH_PASS = "Latest rollback drill is within the freshness window."
FRESH_FAIL = "latest rollback drill is missing, invalid, or stale"
# Rules CAVRA applies inside the file check without a message of their own:
REFS_FAIL = "latest rollback drill must include evidence_refs as a non-empty list of strings"
RUNBOOK_FAIL = "latest rollback drill must include runbook_ref"


@dataclass(frozen=True)
class HistoryJudgement:
    document: Document
    valid: bool
    drill_count: int
    latest_index: int | None
    latest: dict[str, Any] | None
    latest_executed_at: datetime | None
    age_days: float | None
    passed: bool
    target_disabled: bool
    fallback_verified: bool
    recovery_sla_met: bool
    fresh: bool
    max_age_days: float
    message: str
    failures: list[Failure]

    def latest_get(self, key: str) -> object:
        return None if self.latest is None else self.latest.get(key)


def find_latest(drills: list[Any]) -> int | None:
    """Index of the latest drill: greatest parseable executed_at, first on a tie; else the last object."""
    best: int | None = None
    best_at: datetime | None = None
    last_object: int | None = None
    for index, entry in enumerate(drills):
        if not isinstance(entry, dict):
            continue
        last_object = index
        executed_at = parse_timestamp(entry.get("executed_at"))
        if executed_at is not None and (best_at is None or executed_at > best_at):
            best, best_at = index, executed_at
    return best if best is not None else last_object


def judge_history(document: Document, *, now: datetime, max_age_days: float) -> HistoryJudgement:
    def result(**values: Any) -> HistoryJudgement:
        base: dict[str, Any] = {
            "document": document,
            "valid": False,
            "drill_count": 0,
            "latest_index": None,
            "latest": None,
            "latest_executed_at": None,
            "age_days": None,
            "passed": False,
            "target_disabled": False,
            "fallback_verified": False,
            "recovery_sla_met": False,
            "fresh": False,
            "max_age_days": max_age_days,
        }
        base.update(values)
        return HistoryJudgement(**base)

    if document.data is None:
        error = document.error or "metadata file is missing"
        return result(message=error, failures=[Failure(FILE_FIELD, error)])

    failures: list[Failure] = []
    if document.get("schema_version") != HISTORY_SCHEMA:
        failures.append(Failure("schema_version", MSG_SCHEMA))
    drills = document.get("drills")
    drill_list: list[Any] = drills if isinstance(drills, list) else []
    if not drill_list:
        failures.append(Failure("drills", MSG_DRILLS))
    latest_index = find_latest(drill_list)
    if drill_list and latest_index is None:
        failures.append(Failure("drills", MSG_NO_PARSEABLE))
    if latest_index is None:
        message = "; ".join(f.message for f in failures)
        return result(drill_count=len(drill_list), message=message, failures=failures)

    latest: dict[str, Any] = drill_list[latest_index]
    at = f"drills[{latest_index}]."
    executed_at = parse_timestamp(latest.get("executed_at"))
    age = days_between(executed_at, now) if executed_at is not None else None
    passed = latest.get("status") == "pass"
    target_disabled = latest.get("target_mode") == "disabled"
    fallback = is_json_true(latest.get("fallback_verified"))
    recovery = positive_or_none(latest.get("recovery_minutes"))
    own_max = positive_or_none(latest.get("max_recovery_minutes"))  # no fallback to the plan
    sla = recovery is not None and own_max is not None and recovery <= own_max
    refs_ok = is_nonempty_string_list(latest.get("evidence_refs"))
    runbook_ok = is_nonempty_string(latest.get("runbook_ref"))
    fresh = age is not None and is_positive_number(max_age_days) and age <= max_age_days

    for ok, field, text in (
        (passed, "status", STATUS_FAIL),
        (target_disabled, "target_mode", TARGET_FAIL),
        (fallback, "fallback_verified", FALLBACK_FAIL),
        (sla, "recovery_minutes", SLA_FAIL),
        (refs_ok, "evidence_refs", REFS_FAIL),
        (runbook_ok, "runbook_ref", RUNBOOK_FAIL),
        (fresh, "executed_at", FRESH_FAIL),
    ):
        if not ok:
            failures.append(Failure(at + field, text))
    valid = not failures
    message = MSG_VALID if valid else "; ".join(f.message for f in failures)
    return result(
        valid=valid,
        drill_count=len(drill_list),
        latest_index=latest_index,
        latest=latest,
        latest_executed_at=executed_at,
        age_days=age,
        passed=passed,
        target_disabled=target_disabled,
        fallback_verified=fallback,
        recovery_sla_met=sla,
        fresh=fresh,
        message=message,
        failures=failures,
    )


def history_summary(history: HistoryJudgement) -> dict[str, object]:
    """The `history` section of the drill-history and schedule reports (contract §8)."""
    doc = history.document
    get = history.latest_get
    return {
        "valid": history.valid,
        "schema_version": doc.schema_version,
        "environment": string_or_none(doc.get("environment")),
        "drill_count": history.drill_count,
        "latest_drill_id": string_or_none(get("drill_id")),
        "latest_status": string_or_none(get("status")),
        "latest_target_mode": string_or_none(get("target_mode")),
        "latest_executed_at": string_or_none(get("executed_at")),
        "age_days": history.age_days,
        "fresh": history.fresh,
        "fallback_verified": history.fallback_verified,
        "recovery_sla_met": history.recovery_sla_met,
        "recovery_minutes": positive_or_none(get("recovery_minutes")),
        "max_recovery_minutes": positive_or_none(get("max_recovery_minutes")),
        "runbook_ref": string_or_none(get("runbook_ref")),
        "evidence_refs": string_list_or_empty(get("evidence_refs")),
        "message": history.message,
    }
