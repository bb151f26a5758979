"""Start-up cost of `cavra-drill readiness --json` (target: whole-process median <= 150 ms).

Usage: python benchmarks/startup.py [--runs 40]
Judges CAVRA's documented sample files in promoted mode (every report requested), so the
figure includes reading and judging the four files, not just printing help.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.timing import time_command
from cavra_drill.cli.run import SAMPLE_PLAN


def write_samples(directory: Path) -> dict[str, str]:
    now = datetime.now(UTC)
    plan = SAMPLE_PLAN  # CAVRA's documented sample plan, as `run` writes it
    evidence = {
        "schema_version": "cavra.go-backend-rollback-rehearsal.v1",
        "status": "pass",
        "plan_approval_id": "apr_go_backend_rollback",
        "simulated": True,
        "fallback_verified": True,
        "recovery_minutes": 6,
        "max_recovery_minutes": 15,
        "runbook_ref": "docs/go-backend-rollback-rehearsal.md",
        "evidence_refs": ["go-rollback-rehearsal://ci/fallback-restored"],
    }
    history = {
        "schema_version": "cavra.go-backend-rollback-drill-history.v1",
        "environment": "production-pilot",
        "drills": [
            {
                "drill_id": "d1",
                "executed_at": (now - timedelta(days=3)).isoformat(),
                "actor": "release-agent",
                "source_mode": "promoted",
                "target_mode": "disabled",
                "status": "pass",
                "fallback_verified": True,
                "recovery_minutes": 7,
                "max_recovery_minutes": 15,
                "runbook_ref": "docs/go-backend-rollback-drill-history.md",
                "evidence_refs": ["go-rollback-drill://ci/python-fallback-restored"],
            }
        ],
    }
    schedule = {
        "schema_version": "cavra.go-backend-rollback-drill-schedule.v1",
        "schedule_id": "weekly",
        "environment": "production-pilot",
        "status": "active",
        "interval_days": 30,
        "next_due_at": (now + timedelta(days=20)).isoformat(),
        "owners": ["release-team"],
        "notification_providers": ["pager"],
        "runbook_ref": "runbooks/go-backend-python-fallback.md",
    }
    paths = {}
    for name, value in (("plan", plan), ("rehearsal", evidence), ("history", history), ("schedule", schedule)):
        path = directory / f"{name}.json"
        path.write_text(json.dumps(value))
        paths[name] = str(path)
    return paths


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=40)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        paths = write_samples(Path(tmp))
        env = {
            **os.environ,
            "CAVRA_GO_BACKEND_MODE": "promoted",
            "CAVRA_GO_ROLLBACK_PLAN": paths["plan"],
            "CAVRA_GO_ROLLBACK_REHEARSAL_EVIDENCE": paths["rehearsal"],
            "CAVRA_GO_ROLLBACK_DRILL_HISTORY": paths["history"],
            "CAVRA_GO_ROLLBACK_DRILL_SCHEDULE": paths["schedule"],
        }
        exe = [sys.executable, "-m", "cavra_drill"]
        for label, argv in (
            ("python -c pass (interpreter floor)", [sys.executable, "-c", "pass"]),
            ("cavra-drill readiness --json", [*exe, "readiness", "--json"]),
            ("cavra-drill validate plan.json", [*exe, "validate", paths["plan"]]),
        ):
            print(time_command(label, argv, runs=args.runs, cwd=Path(tmp), env=env).line())


if __name__ == "__main__":
    main()
