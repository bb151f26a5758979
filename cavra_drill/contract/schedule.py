"""The drill schedule (contract §6): cadence, due date, staleness and who gets told."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from cavra_drill.contract.documents import Document
from cavra_drill.contract.findings import FILE_FIELD, Failure
from cavra_drill.contract.history import HistoryJudgement
from cavra_drill.contract.timestamps import days_between, format_utc, parse_timestamp
from cavra_drill.contract.values import (
    is_nonempty_string,
    is_nonempty_string_list,
    is_positive_number,
    positive_or_none,
    string_list_or_empty,
    string_or_none,
)

SCHEDULE_SCHEMA = "cavra.go-backend-rollback-drill-schedule.v1"

MSG_VALID = "Rollback drill schedule is active and current."
MSG_SCHEMA = "rollback drill schedule has an invalid schema_version"
MSG_ID = "rollback drill schedule must include schedule_id"
MSG_STATUS = "rollback drill schedule must record status=active"
MSG_INTERVAL = "rollback drill schedule must include positive interval_days"
MSG_NO_DUE = "rollback drill schedule has no due date (next_due_at or a drill in the history)"
MSG_STALE = "rollback drill schedule is overdue"
MSG_OWNERS = "rollback drill schedule must include owners as a non-empty list of strings"
MSG_PROVIDERS = "rollback drill schedule must include notification_providers as a non-empty list of strings"
MSG_ROUTES = "rollback drill schedule owner_routes must be an object or a list"
MSG_WINDOWS = "rollback drill schedule maintenance_windows must be a list"
MSG_CALENDARS = "rollback drill schedule owner_calendars must be an object"
MSG_RUNBOOK = "rollback drill schedule must include runbook_ref"


@dataclass(frozen=True)
class ScheduleJudgement:
    document: Document
    valid: bool
    active: bool
    cadence_ok: bool
    due_at: datetime | None
    days_until_due: float | None
    stale: bool
    due_soon: bool
    routes_ok: bool
    message: str
    failures: list[Failure]


def _routes(data: dict[str, Any]) -> list[tuple[str, object]]:
    """`owner_routes` and its alias `routing_rules`, each that is present; absent means no routes.

    When both are present both are judged: the contract does not say which one CAVRA reads
    (it may fall back to the alias when owner_routes is empty), so never be more lenient.
    """
    names = ("owner_routes", "routing_rules")
    present: list[tuple[str, object]] = [(name, data[name]) for name in names if name in data]
    return present or [("owner_routes", {})]


def _add_days(moment: datetime, days: float) -> datetime | None:
    """`moment` + `days`, or None when the sum is beyond the calendar (no due date, so stale)."""
    try:
        return moment + timedelta(days=days)
    except OverflowError:
        return None


def judge_schedule(
    document: Document, history: HistoryJudgement, *, now: datetime, due_soon_days: float
) -> ScheduleJudgement:
    if document.data is None:
        error = document.error or "metadata file is missing"
        return ScheduleJudgement(
            document,
            False,
            False,
            False,
            None,
            None,
            True,
            False,
            False,
            error,
            [Failure(FILE_FIELD, error)],
        )
    get = document.get
    interval = positive_or_none(get("interval_days"))
    due_at = parse_timestamp(get("next_due_at"))
    if due_at is None and interval is not None and history.latest_executed_at is not None:
        due_at = _add_days(history.latest_executed_at, interval)
    days_until_due = days_between(now, due_at) if due_at is not None else None
    stale = days_until_due is None or days_until_due < 0
    due_soon = not stale and days_until_due is not None and days_until_due <= due_soon_days

    data = document.data
    shape_rules = (
        *((isinstance(routes, dict | list), field, MSG_ROUTES) for field, routes in _routes(data)),
        (isinstance(data.get("maintenance_windows", []), list), "maintenance_windows", MSG_WINDOWS),
        (isinstance(data.get("owner_calendars", {}), dict), "owner_calendars", MSG_CALENDARS),
    )
    owners_ok = is_nonempty_string_list(get("owners"))
    providers_ok = is_nonempty_string_list(get("notification_providers"))
    rules = (
        (get("schema_version") == SCHEDULE_SCHEMA, "schema_version", MSG_SCHEMA),
        (is_nonempty_string(get("schedule_id")), "schedule_id", MSG_ID),
        (get("status") == "active", "status", MSG_STATUS),
        (is_positive_number(get("interval_days")), "interval_days", MSG_INTERVAL),
        (due_at is not None, "next_due_at", MSG_NO_DUE),
        (due_at is None or not stale, "next_due_at", MSG_STALE),
        (owners_ok, "owners", MSG_OWNERS),
        (providers_ok, "notification_providers", MSG_PROVIDERS),
        *shape_rules,
        (is_nonempty_string(get("runbook_ref")), "runbook_ref", MSG_RUNBOOK),
    )
    failures = [Failure(field, text) for ok, field, text in rules if not ok]
    valid = not failures
    return ScheduleJudgement(
        document=document,
        valid=valid,
        active=get("status") == "active",
        cadence_ok=interval is not None,
        due_at=due_at,
        days_until_due=days_until_due,
        stale=stale,
        due_soon=due_soon,
        routes_ok=owners_ok and providers_ok and all(ok for ok, _, _ in shape_rules),
        message=MSG_VALID if valid else "; ".join(f.message for f in failures),
        failures=failures,
    )


def schedule_summary(schedule: ScheduleJudgement) -> dict[str, object]:
    """The `schedule` section of the schedule report (contract §6)."""
    doc = schedule.document
    return {
        "valid": schedule.valid,
        "schema_version": doc.schema_version,
        "schedule_id": string_or_none(doc.get("schedule_id")),
        "environment": string_or_none(doc.get("environment")),
        "status": string_or_none(doc.get("status")),
        "interval_days": positive_or_none(doc.get("interval_days")),
        "next_due_at": format_utc(schedule.due_at) if schedule.due_at is not None else None,
        "days_until_due": schedule.days_until_due,
        "stale": schedule.stale,
        "due_soon": schedule.due_soon,
        "owners": string_list_or_empty(doc.get("owners")),
        "notification_providers": string_list_or_empty(doc.get("notification_providers")),
        "runbook_ref": string_or_none(doc.get("runbook_ref")),
        "message": schedule.message,
    }
