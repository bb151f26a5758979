"""The readiness reports CAVRA computes (contract §8), with its ids, order and statuses.

Every check is `{"id", "status": "pass"|"warn", "message", ...extras}`; CAVRA never says
`fail`. A report is requested when the mode is `promoted` or its own file path is set.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

from cavra_drill.contract import history as hist
from cavra_drill.contract import plan as pln
from cavra_drill.contract import rehearsal as reh
from cavra_drill.contract import schedule as sch
from cavra_drill.contract.documents import Document
from cavra_drill.contract.findings import Failure

ROLLBACK_REPORT = "cavra.go-backend-pilot.rollback-readiness.v1"
REHEARSAL_REPORT = "cavra.go-backend-pilot.rollback-rehearsal.v1"
HISTORY_REPORT = "cavra.go-backend-pilot.rollback-drill-history.v1"
SCHEDULE_REPORT = "cavra.go-backend-pilot.rollback-drill-schedule.v1"
PRODUCTION_REPORT = "cavra.deployment.production_readiness.v1"

NOT_REQUESTED = "not_requested"
READY = "ready"
DUE_SOON = "due_soon"
NEEDS_ATTENTION = "needs_attention"

Report = dict[str, object]
Check = dict[str, object]


def check(check_id: str, ok: bool, passed: str, warned: str, **extras: object) -> Check:
    return {
        "id": check_id,
        "status": "pass" if ok else "warn",
        "message": passed if ok else warned,
        **extras,
    }


def _requested_check(check_id: str, what: str, env_name: str, mode: str, requested: bool) -> Check:
    return check(
        check_id,
        requested,
        f"Go backend {what} was requested.",
        f"Go backend {what} is not requested; set CAVRA_GO_BACKEND_MODE=promoted or {env_name}.",
        mode=mode,
    )


def _status(requested: bool, checks: list[Check]) -> str:
    if not requested:
        return NOT_REQUESTED
    return READY if all(c["status"] == "pass" for c in checks) else NEEDS_ATTENTION


@dataclass(frozen=True)
class Judgements:
    """Everything judged once for one moment; each report is a view of it."""

    mode: str
    now: datetime
    plan: pln.PlanJudgement
    rehearsal: reh.RehearsalJudgement
    history: hist.HistoryJudgement
    schedule: sch.ScheduleJudgement
    due_soon_days: float

    def requested(self, document: Document) -> bool:
        return self.mode == "promoted" or document.path != ""

    def failures(self, *artifacts: str) -> list[tuple[str, Failure]]:
        """Every failed rule of the requested artifacts (all four when none are named), for human output (§9)."""
        named = (
            ("plan", self.plan.document, self.plan.failures),
            ("rehearsal", self.rehearsal.document, self.rehearsal.failures),
            ("history", self.history.document, self.history.failures),
            ("schedule", self.schedule.document, self.schedule.failures),
        )
        return [
            (name, f)
            for name, doc, fails in named
            if self.requested(doc) and (not artifacts or name in artifacts)
            for f in fails
        ]


def judge_all(
    *,
    mode: str,
    now: datetime,
    plan: Document,
    rehearsal: Document,
    history: Document,
    schedule: Document,
    max_age_days: float,
    due_soon_days: float,
) -> Judgements:
    plan_j = pln.judge_plan(plan)
    # Binding uses the configured plan only; with no plan path every approval id matches.
    rehearsal_j = reh.judge_rehearsal(rehearsal, plan_j if plan.path else None)
    history_j = hist.judge_history(history, now=now, max_age_days=max_age_days)
    schedule_j = sch.judge_schedule(schedule, history_j, now=now, due_soon_days=due_soon_days)
    return Judgements(mode, now, plan_j, rehearsal_j, history_j, schedule_j, due_soon_days)


def rollback_report(j: Judgements) -> Report:
    plan = j.plan
    requested = j.requested(plan.document)
    checks = [
        _requested_check(
            "go_rollback_requested",
            "rollback readiness",
            "CAVRA_GO_ROLLBACK_PLAN",
            j.mode,
            requested,
        ),
        check(
            "python_fallback_available",
            True,
            "Python backend remains available as the fallback for every decision.",
            "",
        ),
        check(
            "go_rollback_plan",
            plan.valid,
            plan.message,
            plan.message,
            path=plan.document.path or None,
            rollback_schema=pln.PLAN_SCHEMA,
        ),
        check(
            "go_rollback_approval",
            plan.approved,
            "Rollback plan approval is recorded.",
            "rollback plan must be approved (approved=true or approval.status=approved)",
            approval_id=plan.approval_id or None,
        ),
        check(
            "go_rollback_disable_path",
            plan.target_mode == "disabled",
            "Rollback returns to Python-only mode (target_mode=disabled).",
            "rollback plan must set target_mode=disabled",
            target_mode=plan.target_mode,
        ),
        check(
            "go_rollback_controls",
            not plan.missing_controls,
            "Required rollback controls are recorded.",
            "rollback plan is missing required controls: " + ", ".join(plan.missing_controls),
            missing_controls=plan.missing_controls,
        ),
    ]
    return {
        "schema_version": ROLLBACK_REPORT,
        "mode": j.mode,
        "status": _status(requested, checks),
        "rollback_plan_path": plan.document.path or None,
        "checks": checks,
        "rollback": pln.plan_summary(plan),
        "operator_notes": [
            "To roll back: set CAVRA_GO_BACKEND_MODE=disabled and restart the process using CAVRA.",
            "In disabled mode the Go runtime is never called; every decision comes from Python.",
        ],
    }


def rehearsal_report(j: Judgements) -> Report:
    r = j.rehearsal
    requested = j.requested(r.document)
    checks = [
        _requested_check(
            "go_rollback_rehearsal_requested",
            "rollback rehearsal evidence",
            "CAVRA_GO_ROLLBACK_REHEARSAL_EVIDENCE",
            j.mode,
            requested,
        ),
        check(
            "go_rollback_rehearsal_evidence",
            r.valid,
            r.message,
            r.message,
            path=r.document.path or None,
            rehearsal_schema=reh.REHEARSAL_SCHEMA,
        ),
        check("go_rollback_rehearsal_simulated", r.simulated, reh.SIMULATED_PASS, reh.SIMULATED_FAIL),
        check(
            "go_rollback_rehearsal_fallback_verified",
            r.fallback_verified,
            reh.FALLBACK_PASS,
            reh.FALLBACK_FAIL,
        ),
        check(
            "go_rollback_rehearsal_recovery_sla",
            r.recovery_sla_met,
            reh.SLA_PASS,
            reh.SLA_FAIL,
            recovery_minutes=r.recovery_minutes,
            max_recovery_minutes=r.max_recovery_minutes,
        ),
        check(
            "go_rollback_rehearsal_evidence_refs",
            r.evidence_refs_ok,
            reh.REFS_PASS,
            reh.REFS_FAIL,
            evidence_refs=reh.rehearsal_summary(r)["evidence_refs"],
        ),
    ]
    return {
        "schema_version": REHEARSAL_REPORT,
        "mode": j.mode,
        "status": _status(requested, checks),
        "rollback_rehearsal_path": r.document.path or None,
        "checks": checks,
        "rehearsal": reh.rehearsal_summary(r),
        "operator_notes": [
            "Rehearse the rollback outside CAVRA (cavra-drill run) and point "
            "CAVRA_GO_ROLLBACK_REHEARSAL_EVIDENCE at the evidence it writes.",
            "Evidence must bind to the approved rollback plan through plan_approval_id.",
        ],
    }


def drill_history_report(j: Judgements) -> Report:
    h = j.history
    requested = j.requested(h.document)
    summary = hist.history_summary(h)
    checks = [
        _requested_check(
            "go_rollback_drill_history_requested",
            "rollback drill history",
            "CAVRA_GO_ROLLBACK_DRILL_HISTORY",
            j.mode,
            requested,
        ),
        check(
            "go_rollback_drill_history_file",
            h.valid,
            h.message,
            h.message,
            path=h.document.path or None,
            history_schema=hist.HISTORY_SCHEMA,
        ),
        check(
            "go_rollback_drill_latest_passed",
            h.passed,
            hist.STATUS_PASS,
            hist.STATUS_FAIL,
            latest_drill_id=summary["latest_drill_id"],
        ),
        check(
            "go_rollback_drill_disabled_target",
            h.target_disabled,
            hist.TARGET_PASS,
            hist.TARGET_FAIL,
            target_mode=summary["latest_target_mode"],
        ),
        check(
            "go_rollback_drill_fallback_verified",
            h.fallback_verified,
            hist.FALLBACK_PASS,
            hist.FALLBACK_FAIL,
        ),
        check(
            "go_rollback_drill_recovery_sla",
            h.recovery_sla_met,
            hist.SLA_PASS,
            hist.SLA_FAIL,
            recovery_minutes=summary["recovery_minutes"],
            max_recovery_minutes=summary["max_recovery_minutes"],
        ),
        check(
            "go_rollback_drill_freshness",
            h.fresh,
            hist.FRESH_PASS,
            hist.FRESH_FAIL,
            max_age_days=_echo_float(h.max_age_days),
            age_days=h.age_days,
        ),
    ]
    return {
        "schema_version": HISTORY_REPORT,
        "mode": j.mode,
        "status": _status(requested, checks),
        "rollback_drill_history_path": h.document.path or None,
        "rollback_drill_max_age_days": _echo_float(h.max_age_days),
        "checks": checks,
        "history": summary,
        "operator_notes": [
            "Only the latest drill is judged; run a fresh drill before it ages past the window.",
            "Record every drill, passing or failing, in the history.",
        ],
    }


def schedule_report(j: Judgements) -> Report:
    s = j.schedule
    requested = j.requested(s.document)
    summary = sch.schedule_summary(s)
    checks = [
        _requested_check(
            "go_rollback_drill_schedule_requested",
            "rollback drill schedule",
            "CAVRA_GO_ROLLBACK_DRILL_SCHEDULE",
            j.mode,
            requested,
        ),
        check(
            "go_rollback_drill_schedule_file",
            s.valid,
            s.message,
            s.message,
            path=s.document.path or None,
            schedule_schema=sch.SCHEDULE_SCHEMA,
        ),
        check(
            "go_rollback_drill_schedule_active",
            s.active,
            "Rollback drill schedule is active.",
            sch.MSG_STATUS,
        ),
        check(
            "go_rollback_drill_schedule_cadence",
            s.cadence_ok,
            "Rollback drill cadence is recorded.",
            sch.MSG_INTERVAL,
            interval_days=summary["interval_days"],
        ),
        check(
            "go_rollback_drill_schedule_next_due",
            s.due_at is not None,
            "Next rollback drill due date is known.",
            sch.MSG_NO_DUE,
            next_due_at=summary["next_due_at"],
            days_until_due=s.days_until_due,
        ),
        check(
            "go_rollback_drill_schedule_not_stale",
            not s.stale,
            "Rollback drill schedule is not overdue.",
            sch.MSG_STALE,
            stale=s.stale,
        ),
        check(
            "go_rollback_drill_notification_routes",
            s.routes_ok,
            "Rollback drill owners and notification routes are recorded.",
            "rollback drill schedule must include owners, notification_providers and well-formed routes",
            notification_providers=summary["notification_providers"],
            owners=summary["owners"],
        ),
    ]
    if not requested:
        status = NOT_REQUESTED
    elif s.valid and not s.stale:
        status = DUE_SOON if s.due_soon else READY
    else:
        status = NEEDS_ATTENTION
    return {
        "schema_version": SCHEDULE_REPORT,
        "mode": j.mode,
        "status": status,
        "rollback_drill_schedule_path": s.document.path or None,
        "rollback_drill_due_soon_days": _echo_float(j.due_soon_days),
        "checks": checks,
        "schedule": summary,
        "history": hist.history_summary(j.history),
        "operator_notes": [
            "Schedule drills so the next one is due before the latest drill goes stale.",
            "Route due and overdue notices to the owners named in the schedule.",
        ],
    }


def production_report(j: Judgements) -> Report:
    """The rollback part of CAVRA's production readiness report."""
    sections: list[tuple[str, str, str, Report, tuple[str, ...]]] = [
        (
            "go_backend_rollback",
            "go_backend_rollback_controls",
            "go_rollback_status",
            rollback_report(j),
            (NOT_REQUESTED, READY),
        ),
        (
            "go_backend_rollback_rehearsal",
            "go_backend_rollback_rehearsal",
            "go_rollback_rehearsal_status",
            rehearsal_report(j),
            (NOT_REQUESTED, READY),
        ),
        (
            "go_backend_rollback_drill_history",
            "go_backend_rollback_drill_history",
            "go_rollback_drill_history_status",
            drill_history_report(j),
            (NOT_REQUESTED, READY),
        ),
        (
            "go_backend_rollback_drill_schedule",
            "go_backend_rollback_drill_schedule",
            "go_rollback_drill_schedule_status",
            schedule_report(j),
            (NOT_REQUESTED, READY, DUE_SOON),
        ),
    ]
    checks: list[Check] = []
    for _, check_id, status_key, report, acceptable in sections:
        status = str(report["status"])
        ok = status in acceptable
        title = check_id.replace("go_backend_", "Go backend ").replace("_", " ")
        checks.append(
            check(
                check_id,
                ok,
                f"{title[0].upper()}{title[1:]} is {status}.",
                f"{title} needs attention before the Go backend can be promoted ({status}).",
                mode=j.mode,
                **{status_key: status},
            )
        )
    production: Report = {
        "schema_version": PRODUCTION_REPORT,
        "status": READY if all(c["status"] == "pass" for c in checks) else NEEDS_ATTENTION,
        "checks": checks,
    }
    for key, _, _, section, _ in sections:
        production[key] = section
    return production


REPORTS = {
    "production": production_report,
    "rollback": rollback_report,
    "rehearsal": rehearsal_report,
    "drills": drill_history_report,
    "schedule": schedule_report,
}


def exit_ok(report: Report) -> bool:
    """Whether a report's status lets a gate through (due_soon only exists for the schedule)."""
    return report["status"] in (READY, NOT_REQUESTED, DUE_SOON)


def _echo_float(value: float) -> float | None:
    """Settings echo as numbers; a non-finite one (from `inf` in the environment) as null."""
    return value if math.isfinite(value) else None
