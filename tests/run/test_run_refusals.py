"""`cavra-drill run` refuses bad input with one line and an exit code, writing nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from clirun import assert_no_traceback
from drillrun import Drills

EVIDENCE = "go-backend-rollback-rehearsal.json"
HISTORY = "go-backend-rollback-drills.json"


def sample_plan(**changes: object) -> dict[str, object]:
    plan: dict[str, object] = {
        "schema_version": "cavra.go-backend-rollback-plan.v1",
        "status": "ready",
        "target_mode": "disabled",
        "approved": True,
        "approval_id": "apr_test",
        "max_recovery_minutes": 10,
        "controls": [
            "python-fallback-available",
            "promoted-mode-disable-tested",
            "rollback-approval-recorded",
            "operator-runbook-linked",
            "evidence-capture-enabled",
        ],
        "rollback_steps": ["Set CAVRA_GO_BACKEND_MODE=disabled.", "Restart the process using CAVRA."],
    }
    plan.update(changes)
    return plan


def one_line_error(result_stderr: str) -> str:
    lines = [line for line in result_stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result_stderr
    assert lines[0].startswith("cavra-drill: ")
    return lines[0]


def snapshot(directory: Path) -> dict[str, bytes]:
    return {str(p.relative_to(directory)): p.read_bytes() for p in sorted(directory.rglob("*")) if p.is_file()}


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"approved": False}, "approved"),
        ({"status": "draft"}, "status"),
        ({"target_mode": "shadow"}, "target_mode"),
        ({"max_recovery_minutes": True}, "max_recovery_minutes"),
        ({"controls": ["python-fallback-available"]}, "controls"),
    ],
)
def test_invalid_or_unapproved_plan_exits_3_and_writes_nothing(
    drills: Drills, tmp_path: Path, changes: dict[str, object], field: str
) -> None:
    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps(sample_plan(**changes)))
    result = drills.run("--plan", str(plan))
    assert_no_traceback(result)
    assert result.returncode == 3
    line = one_line_error(result.stderr)
    assert "plan.json" in line and field in line
    assert not drills.out.exists(), "a refused plan must leave no trace, not even the workdir"


@pytest.mark.parametrize(
    "content",
    [b"{not json", b"\xff\xfe", b"[]", b'{"schema_version": "other", "drills": []}', b'{"drills": NaN}'],
)
def test_corrupt_history_exits_3_and_leaves_every_file_as_it_was(drills: Drills, content: bytes) -> None:
    assert drills.run().returncode == 0
    (drills.out / HISTORY).write_bytes(content)
    before = snapshot(drills.out)
    result = drills.run()
    assert_no_traceback(result)
    assert result.returncode == 3
    assert HISTORY in one_line_error(result.stderr)
    assert snapshot(drills.out) == before


def test_looser_recovery_target_than_the_plan_is_a_usage_error(drills: Drills) -> None:
    result = drills.run("--max-recovery-minutes", "16")
    assert result.returncode == 2
    assert "tighten" in one_line_error(result.stderr)
    assert not (drills.out / EVIDENCE).exists()


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("--environment", "db01.prod.example.com"),
        ("--environment", "10.20.30.40"),
        ("--actor", "someone@example.com"),
        ("--environment", "has space"),
    ],
)
def test_hostname_ip_or_email_as_a_logical_name_exits_3_without_echoing_it(
    drills: Drills, option: str, value: str
) -> None:
    result = drills.run(option, value)
    assert result.returncode == 3
    line = one_line_error(result.stderr)
    assert option in line and value not in line
    assert not (drills.out / EVIDENCE).exists()


def test_unwritable_evidence_path_exits_3_before_the_drill(drills: Drills, tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where a directory should be")
    result = drills.run("--rehearsal", str(blocker / "evidence.json"))
    assert result.returncode == 3
    assert "evidence" in one_line_error(result.stderr)
    assert not (drills.out / HISTORY).exists()


def test_history_of_another_environment_is_refused(drills: Drills) -> None:
    assert drills.run("--environment", "staging").returncode == 0
    before = snapshot(drills.out)
    result = drills.run("--environment", "production-pilot")
    assert result.returncode == 3
    assert "staging" in one_line_error(result.stderr)
    assert snapshot(drills.out) == before


def test_unknown_incident_or_fault_is_a_usage_error(drills: Drills) -> None:
    assert drills.run("--incident", "meteor").returncode == 2
    assert drills.run("--fault", "slow-restart=soon").returncode == 2
    assert drills.run("--fault", "gremlins").returncode == 2


def test_baseline_that_cannot_be_reached_exits_4_and_writes_nothing(drills: Drills) -> None:
    # A per-call timeout no runtime can meet: Go never answers, so promoted mode is never reached.
    result = drills.run(env={"CAVRA_GO_RUNTIME_TIMEOUT_SECONDS": "0.000001"})
    assert_no_traceback(result)
    assert result.returncode == 4
    assert "baseline" in one_line_error(result.stderr)
    assert not (drills.out / EVIDENCE).exists()
    assert not (drills.out / HISTORY).exists()
