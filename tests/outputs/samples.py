"""Small, hand-built runs for the renderer tests: evidence and a production readiness report.

Shaped like what `cavra-drill run` produces (same keys, check ids and statuses), but small
enough that each test can say exactly which check warns in which section.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

PHASES = ["baseline", "set-mode", "stop-service", "start-service", "verify", "cleanup"]
SECTION_CHECKS = {
    "go_backend_rollback": ("go_backend_rollback_controls", ["go_rollback_requested", "go_rollback_plan"]),
    "go_backend_rollback_rehearsal": (
        "go_backend_rollback_rehearsal",
        ["go_rollback_rehearsal_requested", "go_rollback_rehearsal_fallback_verified"],
    ),
    "go_backend_rollback_drill_history": (
        "go_backend_rollback_drill_history",
        ["go_rollback_drill_history_requested", "go_rollback_drill_latest_passed"],
    ),
    "go_backend_rollback_drill_schedule": (
        "go_backend_rollback_drill_schedule",
        ["go_rollback_drill_schedule_requested", "go_rollback_drill_schedule_file"],
    ),
}


def evidence(*, failed_phase: str | None = None, status: str | None = None) -> dict[str, Any]:
    phases = [
        {
            "name": name,
            "started_at": f"2026-05-21T15:40:0{i}.000000+00:00",
            "duration_seconds": 0.25,
            "ok": name != failed_phase,
            "detail": f"{name} done" if name != failed_phase else f"{name} failed: service reports mode 'promoted'",
        }
        for i, name in enumerate(PHASES)
    ]
    passed = failed_phase is None if status is None else status == "pass"
    return {
        "schema_version": "cavra.go-backend-rollback-rehearsal.v1",
        "status": "pass" if passed else "fail",
        "plan_approval_id": "apr_go_backend_rollback",
        "simulated": True,
        "fallback_verified": failed_phase is None,
        "recovery_minutes": 0.0125,
        "max_recovery_minutes": 15,
        "runbook_ref": "runbooks/go-backend-python-fallback.md",
        "evidence_refs": ["go-rollback-rehearsal://ci/fallback-restored"],
        "drill_id": "drill_20260521T154000Z_abc123",
        "executed_at": "2026-05-21T15:40:00Z",
        "environment": "production-pilot",
        "actor": "release-agent",
        "recovery_seconds": 0.75,
        "incident": None,
        "faults": [],
        "phases": phases,
    }


def readiness(statuses: dict[str, str] | None = None, *, warn: dict[str, str] | None = None) -> dict[str, Any]:
    """A production report. `statuses` sets a section's status (default ready, schedule
    not_requested); `warn` maps a check id to the message it warns with."""
    statuses = {"go_backend_rollback_drill_schedule": "not_requested", **(statuses or {})}
    warn = warn or {}
    report: dict[str, Any] = {"schema_version": "cavra.deployment.production_readiness.v1", "checks": []}
    for section, (production_id, check_ids) in SECTION_CHECKS.items():
        status = statuses.get(section, "ready")
        checks = [
            {"id": cid, "status": "warn" if cid in warn else "pass", "message": warn.get(cid, f"{cid} holds.")}
            for cid in check_ids
        ]
        report[section] = {"schema_version": "x", "mode": "promoted", "status": status, "checks": checks}
        ok = status in ("ready", "not_requested", "due_soon")
        report["checks"].append(
            {
                "id": production_id,
                "status": "pass" if ok else "warn",
                "message": f"{production_id} is {status}." if ok else f"{production_id} needs attention ({status}).",
                "mode": "promoted",
            }
        )
    report["status"] = "ready" if all(c["status"] == "pass" for c in report["checks"]) else "needs_attention"
    return report


def blocked_readiness() -> dict[str, Any]:
    """Rehearsal needs attention (one warn); the unrequested schedule warns too, harmlessly."""
    return readiness(
        {"go_backend_rollback_rehearsal": "needs_attention"},
        warn={
            "go_rollback_rehearsal_fallback_verified": "rollback rehearsal must verify Python fallback restoration",
            "go_rollback_drill_schedule_requested": "Go backend rollback drill schedule is not requested.",
        },
    )


def parse_junit(text: str) -> ET.Element:
    return ET.fromstring(text)  # noqa: S314 - the text is cavra-drill's own output, not untrusted input
