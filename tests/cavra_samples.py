"""CAVRA's documented sample files (contract §3-§6), built fresh for each test.

Every builder returns a new dict, so a test can break one field without touching another.
`document()` turns a value into a loaded `Document` through real JSON bytes, the way a file
on disk would be parsed.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cavra_drill.contract.documents import Document, parse_document

NOW = datetime(2026, 11, 29, 12, 0, 0, tzinfo=UTC)
"""The injected `now` of every pure test."""

APPROVAL_ID = "apr_go_backend_rollback"
REQUIRED_CONTROLS = [
    "python-fallback-available",
    "promoted-mode-disable-tested",
    "rollback-approval-recorded",
    "operator-runbook-linked",
    "evidence-capture-enabled",
]


def zulu(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def plan() -> dict[str, Any]:
    """§3's documented sample plan."""
    return {
        "schema_version": "cavra.go-backend-rollback-plan.v1",
        "status": "ready",
        "target_mode": "disabled",
        "approved": True,
        "approval_id": APPROVAL_ID,
        "max_recovery_minutes": 15,
        "controls": list(REQUIRED_CONTROLS),
        "rollback_steps": [
            "Set CAVRA_GO_BACKEND_MODE=disabled.",
            "Restart API, CI runner, or workstation process using CAVRA.",
            "Capture rollback readiness and production readiness reports.",
        ],
        "evidence_refs": ["go-rollback-readiness://ci/ready", "go-promotion-rollback-runbook://docs/current"],
    }


def rehearsal() -> dict[str, Any]:
    """§4's documented sample evidence."""
    return {
        "schema_version": "cavra.go-backend-rollback-rehearsal.v1",
        "status": "pass",
        "plan_approval_id": APPROVAL_ID,
        "simulated": True,
        "fallback_verified": True,
        "recovery_minutes": 6,
        "max_recovery_minutes": 15,
        "runbook_ref": "docs/go-backend-rollback-rehearsal.md",
        "evidence_refs": [
            "go-rollback-rehearsal://ci/fallback-restored",
            "go-production-readiness://ci/after-rehearsal",
        ],
    }


def drill(executed_at: str | None = None, **changes: object) -> dict[str, Any]:
    """§5's documented sample drill; executed_at defaults to 3 days before NOW (fresh)."""
    entry: dict[str, Any] = {
        "drill_id": "drill_go_backend_python_fallback",
        "executed_at": executed_at if executed_at is not None else zulu(NOW - timedelta(days=3)),
        "actor": "release-agent",
        "source_mode": "promoted",
        "target_mode": "disabled",
        "status": "pass",
        "fallback_verified": True,
        "recovery_minutes": 7,
        "max_recovery_minutes": 15,
        "runbook_ref": "docs/go-backend-rollback-drill-history.md",
        "evidence_refs": [
            "go-rollback-drill://ci/python-fallback-restored",
            "go-production-readiness://ci/post-drill-ready",
        ],
    }
    entry.update(changes)
    return entry


def history(*drills: object) -> dict[str, Any]:
    """§5's documented sample history (one fresh drill unless drills are given)."""
    return {
        "schema_version": "cavra.go-backend-rollback-drill-history.v1",
        "environment": "production-pilot",
        "drills": list(drills) if drills else [drill()],
    }


def schedule(next_due_at: str | None = None) -> dict[str, Any]:
    """A schedule with every §6 field; next_due_at defaults to 30 days after NOW (not due soon)."""
    return {
        "schema_version": "cavra.go-backend-rollback-drill-schedule.v1",
        "schedule_id": "sched_go_backend_rollback",
        "environment": "production-pilot",
        "status": "active",
        "interval_days": 30,
        "next_due_at": next_due_at if next_due_at is not None else zulu(NOW + timedelta(days=30)),
        "owners": ["release-engineering"],
        "notification_providers": ["pagerduty"],
        "owner_routes": {"release-engineering": ["pagerduty"]},
        "maintenance_windows": [],
        "owner_calendars": {},
        "runbook_ref": "docs/go-backend-rollback-drill-schedule.md",
    }


def document(value: object, path: str = "artifact.json") -> Document:
    """`value` as a loaded Document, through real JSON bytes."""
    return parse_document(path, json.dumps(value).encode("utf-8"))


def write_json(path: Path, value: object) -> Path:
    path.write_text(json.dumps(value, indent=2), encoding="utf-8")
    return path
