"""`cavra-drill run` end to end: real subprocesses, real services, real files."""

from __future__ import annotations

import hashlib
import json
import math
import subprocess
import sys
from pathlib import Path

from clirun import assert_no_traceback, clean_env
from drillrun import Drills

PHASES = ["baseline", "set-mode", "stop-service", "start-service", "verify", "cleanup"]
# Go calls in these tests time out fast, so the hang incident costs about a second.
FAST_RUNTIME = {"CAVRA_GO_RUNTIME_TIMEOUT_SECONDS": "1"}


def validate(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "cavra_drill",
            "validate",
            str(path),
            "--plan",
            str(path.parent / "go-backend-rollback-plan.json"),
        ],
        capture_output=True,
        text=True,
        env=clean_env(),
        check=False,
    )


def test_default_run_passes_and_writes_evidence_cavra_accepts(drills: Drills) -> None:
    result = drills.run("--json")
    assert_no_traceback(result)
    assert result.returncode == 0, result.stderr
    out = result.json()
    assert set(out) == {"evidence", "drill", "readiness"}
    evidence = drills.evidence()
    assert out["evidence"] == evidence
    assert evidence["status"] == "pass"
    assert evidence["simulated"] is True and evidence["fallback_verified"] is True
    assert evidence["plan_approval_id"] == "apr_go_backend_rollback"
    assert evidence["max_recovery_minutes"] == 15
    assert [p["name"] for p in evidence["phases"]] == PHASES
    assert all(p["ok"] for p in evidence["phases"])
    # recovery_minutes is the measured seconds / 60 rounded UP to 4 decimals, never 0.
    assert evidence["recovery_minutes"] == math.ceil(evidence["recovery_seconds"] / 60 * 10_000 - 1e-9) / 10_000
    assert 0 < evidence["recovery_minutes"] <= 15
    assert evidence["recovery_seconds"] < 30  # coarse: the sandbox rollback takes well under a second
    assert all(drills.cwd.name not in ref and "//" in ref for ref in evidence["evidence_refs"])
    assert all(evidence["drill_id"] in ref and "rehearsal-sandbox" in ref for ref in evidence["evidence_refs"])
    # The validate command (CAVRA's rules + public safety) accepts what run wrote.
    checked = validate(drills.out / "go-backend-rollback-rehearsal.json")
    assert checked.returncode == 0, checked.stderr
    # The history holds this drill, bound to the evidence file by its digest.
    history = drills.history()
    assert history["schema_version"] == "cavra.go-backend-rollback-drill-history.v1"
    (record,) = history["drills"]
    assert out["drill"] == record
    digest = hashlib.sha256((drills.out / "go-backend-rollback-rehearsal.json").read_bytes()).hexdigest()
    assert record["evidence_sha256"] == digest
    assert record["source_mode"] == "promoted" and record["target_mode"] == "disabled"
    assert record["actor"] == "test-runner"
    readiness = json.loads((drills.out / "production-readiness.json").read_text())
    assert readiness == out["readiness"]
    assert readiness["status"] == "ready"
    assert readiness["go_backend_rollback_rehearsal"]["status"] == "ready"
    assert readiness["go_backend_rollback_drill_history"]["status"] == "ready"
    # The sandbox is gone unless asked to keep it.
    assert not (drills.out / "sandbox").exists()


def test_human_summary_on_stderr_and_nothing_on_stdout_without_json(drills: Drills) -> None:
    result = drills.run()
    assert result.returncode == 0
    assert result.stdout == ""
    assert "PASS" in result.stderr and "against a target of 15" in result.stderr
    for phase in PHASES:
        assert phase in result.stderr


def test_second_drill_appends_to_the_history(drills: Drills) -> None:
    assert drills.run().returncode == 0
    first = drills.history()["drills"][0]
    assert drills.run().returncode == 0
    history = drills.history()
    assert len(history["drills"]) == 2
    assert history["drills"][0] == first
    assert history["drills"][1]["drill_id"] != first["drill_id"]


def test_two_drills_at_once_on_one_history_both_land(drills: Drills) -> None:
    procs = [drills.start() for _ in range(2)]
    codes = [p.wait(timeout=60) for p in procs]
    for p in procs:
        p.communicate()
    assert codes == [0, 0]
    assert len(drills.history()["drills"]) == 2


def test_incidents_fall_back_to_python_and_the_rollback_still_passes(drills: Drills) -> None:
    for incident, reason in (
        ("go-runtime-crash", "go runtime error"),
        ("go-runtime-hang", "timeout"),
        ("go-runtime-diverge", "diverged"),
    ):
        result = drills.run("--incident", incident, env=FAST_RUNTIME)
        assert result.returncode == 0, result.stderr
        evidence = drills.evidence()
        assert evidence["incident"] == incident
        (phase,) = [p for p in evidence["phases"] if p["name"] == "incident"]
        assert phase["ok"] is True
        assert "12/12 decisions fell back to Python" in phase["detail"]
        assert reason in phase["detail"]


def test_stop_ignoring_sigterm_escalates_to_sigkill_and_passes(drills: Drills) -> None:
    result = drills.run("--fault", "stop-ignores-sigterm")
    assert result.returncode == 0, result.stderr
    (stop,) = [p for p in drills.evidence()["phases"] if p["name"] == "stop-service"]
    assert "SIGKILL" in stop["detail"]
    assert stop["duration_seconds"] >= 2.5  # the SIGTERM grace was really waited out


def test_slow_restart_beyond_the_target_fails_on_sla(drills: Drills) -> None:
    result = drills.run("--fault", "slow-restart=3", "--max-recovery-minutes", "0.01")
    assert result.returncode == 1
    evidence = drills.evidence()
    assert evidence["status"] == "fail"
    assert evidence["fallback_verified"] is False
    assert evidence["max_recovery_minutes"] == 0.01
    assert evidence["recovery_minutes"] > evidence["max_recovery_minutes"]
    assert evidence["recovery_seconds"] < 2.5  # gave up at the target, did not wait for the slow start
    assert drills.history()["drills"][-1]["status"] == "fail"
    assert "needs_attention" in result.stderr


def test_broken_fallback_fails_with_fallback_not_verified(drills: Drills) -> None:
    result = drills.run("--fault", "fallback-broken", "--json")
    assert result.returncode == 1
    evidence = result.json()["evidence"]
    assert evidence["status"] == "fail" and evidence["fallback_verified"] is False
    assert any("fallback-not-restored" in ref for ref in evidence["evidence_refs"])
    (verify,) = [p for p in evidence["phases"] if p["name"] == "verify"]
    assert verify["ok"] is False
    assert result.json()["readiness"]["status"] == "needs_attention"


def test_keep_sandbox_keeps_the_stub_and_its_invocation_log(drills: Drills) -> None:
    assert drills.run("--keep-sandbox").returncode == 0
    (box,) = (drills.out / "sandbox").iterdir()
    assert (box / "bin" / "cavra-runtime").stat().st_mode & 0o111
    assert (box / "policy.json").is_file()
    # A later drill clears up sandboxes of dead drills, but not one kept on purpose.
    assert drills.run().returncode == 0
    assert list((drills.out / "sandbox").iterdir()) == [box]


def test_a_passing_drill_right_after_a_failing_one_is_the_latest(drills: Drills) -> None:
    # Both drills usually start within the same second; CAVRA breaks executed_at ties by list
    # order (the earlier, failing one), so executed_at carries microseconds.
    assert drills.run("--fault", "fallback-broken").returncode == 1
    result = drills.run("--json")
    assert result.returncode == 0, result.stderr
    first, second = drills.history()["drills"]
    assert first["executed_at"] < second["executed_at"]
    assert "." in second["executed_at"] and second["executed_at"].endswith("Z")
    assert result.json()["readiness"]["go_backend_rollback_drill_history"]["status"] == "ready"
