"""`cavra-drill run --junit/--summary/--metrics/--attestation` through real drills."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
import xmlschema
from clirun import assert_no_traceback
from drillrun import Drills
from prometheus_client.parser import text_string_to_metric_families

from cavra_drill.cli.run import _history_head
from cavra_drill.cli.run_outputs import OutputPaths, write_outputs
from cavra_drill.errors import EXIT_INPUT, InputError
from outputs.samples import evidence, parse_junit, readiness

SCHEMA = xmlschema.XMLSchema(Path(__file__).with_name("junit-10.xsd"))
EVIDENCE = "go-backend-rollback-rehearsal.json"
HISTORY = "go-backend-rollback-drills.json"
OUTPUT_FLAGS = ("--junit", "--summary", "--metrics", "--attestation")


def metric_values(path: Path) -> dict[str, list[Any]]:
    return {f.name: f.samples for f in text_string_to_metric_families(path.read_text())}


def one(samples: list[Any]) -> float:
    (sample,) = samples
    assert sample.labels["environment"] == "rehearsal-sandbox"
    return float(sample.value)


def test_passing_drill_writes_every_ci_output(drills: Drills) -> None:
    summary = drills.cwd / "step-summary.md"
    summary.write_text("# earlier step\n")
    result = drills.run(
        "--junit",
        "junit.xml",
        "--metrics",
        "drill.prom",
        "--attestation",
        "attestation.json",
        env={"GITHUB_STEP_SUMMARY": str(summary)},
    )
    assert_no_traceback(result)
    assert result.returncode == 0, result.stderr
    # JUnit: valid against junit-10, nothing failed.
    junit = (drills.cwd / "junit.xml").read_text()
    SCHEMA.validate(junit)
    root = parse_junit(junit)
    assert root.get("failures") == "0" and int(root.get("tests", "0")) > 20
    # The step summary defaults to $GITHUB_STEP_SUMMARY and is appended to, not replaced.
    text = summary.read_text()
    assert text.startswith("# earlier step\n\n## ✅ CAVRA rollback drill passed")
    assert "`junit.xml`" in text and f"`{EVIDENCE}`" in text
    # Metrics: the textfile collector's format, with the environment label.
    metrics = metric_values(drills.cwd / "drill.prom")
    assert one(metrics["cavra_drill_drill_status"]) == 1
    assert one(metrics["cavra_drill_recovery_target_seconds"]) == 900
    assert one(metrics["cavra_drill_last_success_timestamp_seconds"]) == one(
        metrics["cavra_drill_last_run_timestamp_seconds"]
    )
    # Attestation: its subject is the evidence file, by the sha256 of the bytes on disk.
    statement = json.loads((drills.cwd / "attestation.json").read_text())
    digest = hashlib.sha256((drills.out / EVIDENCE).read_bytes()).hexdigest()
    assert statement["subject"] == [{"name": EVIDENCE, "digest": {"sha256": digest}}]
    assert statement["predicate"]["result"] == "PASSED"
    plan_digest = hashlib.sha256((drills.out / "go-backend-rollback-plan.json").read_bytes()).hexdigest()
    assert statement["predicate"]["configuration"][0]["digest"] == {"sha256": plan_digest}
    # No annotations outside GitHub Actions; the human summary lists the outputs.
    assert "::error" not in result.stderr
    assert "junit.xml" in result.stderr and "attestation.json" in result.stderr
    # The history head line appears exactly when the history chains its records.
    record = drills.history()["drills"][-1]
    if "record_sha256" in record:
        assert f"history head sha256: {record['record_sha256']}" in result.stderr.splitlines()
    else:
        assert "history head" not in result.stderr


def test_history_head_is_the_appended_records_digest() -> None:
    assert _history_head({"drill_id": "d", "record_sha256": "ab" * 32}) == "ab" * 32
    assert _history_head({"drill_id": "d"}) is None
    assert _history_head({"drill_id": "d", "record_sha256": 7}) is None


def test_failing_drill_fails_in_junit_annotates_and_keeps_the_last_success(drills: Drills) -> None:
    assert drills.run("--metrics", "drill.prom").returncode == 0
    passed_at = one(metric_values(drills.cwd / "drill.prom")["cavra_drill_last_success_timestamp_seconds"])
    summary = drills.cwd / "summary.md"
    result = drills.run(
        "--fault",
        "fallback-broken",
        "--json",
        "--junit",
        "junit.xml",
        "--metrics",
        "drill.prom",
        "--summary",
        str(summary),
        env={"GITHUB_ACTIONS": "true"},
    )
    assert_no_traceback(result)
    assert result.returncode == 1, result.stderr
    # stdout still holds exactly the --json document: annotations went to stderr.
    assert result.json()["evidence"]["status"] == "fail"
    junit = (drills.cwd / "junit.xml").read_text()
    SCHEMA.validate(junit)
    root = parse_junit(junit)
    failed = {c.get("name") for c in root.iter("testcase") if c.find("failure") is not None}
    assert root.get("failures") == str(len(failed))
    assert {"verify", "drill-verdict", "go_rollback_rehearsal_fallback_verified"} <= failed
    # The unrequested schedule warns by design: skipped, not failed.
    assert not any("schedule" in name for name in failed if name)
    assert root.find(".//testcase[@name='go_rollback_drill_schedule_requested']/skipped") is not None
    # One annotation for the drill, one per blocking check; none for the unrequested schedule.
    annotations = [line for line in result.stderr.splitlines() if line.startswith("::error ")]
    assert annotations[0].startswith("::error title=cavra-drill%3A rollback drill drill_")
    assert any("go_rollback_rehearsal_fallback_verified" in line for line in annotations)
    assert not any("schedule" in line for line in annotations)
    assert "::error" not in result.stdout
    # Metrics: this run failed, the last success is the first run's.
    metrics = metric_values(drills.cwd / "drill.prom")
    assert one(metrics["cavra_drill_drill_status"]) == 0
    assert one(metrics["cavra_drill_last_success_timestamp_seconds"]) == passed_at
    assert one(metrics["cavra_drill_fallback_verified"]) == 0
    assert "## ❌ CAVRA rollback drill FAILED" in summary.read_text()


@pytest.mark.parametrize("flag", OUTPUT_FLAGS)
def test_bad_output_path_exits_3_before_the_drill_with_nothing_written(drills: Drills, flag: str) -> None:
    blocker = drills.cwd / "not-a-dir"
    blocker.write_text("a file where a directory should be")
    result = drills.run(flag, str(blocker / "out"))
    assert_no_traceback(result)
    assert result.returncode == 3
    (line,) = result.stderr.splitlines()
    assert str(blocker) in line and "not a directory" in line
    assert not (drills.out / EVIDENCE).exists() and not (drills.out / HISTORY).exists()
    assert not (drills.out / "sandbox").exists()


def test_output_that_would_overwrite_the_evidence_is_refused(drills: Drills) -> None:
    drills.out.mkdir()
    result = drills.run("--junit", str(drills.out / EVIDENCE))
    assert result.returncode == 3
    assert "rehearsal evidence" in result.stderr
    assert not (drills.out / EVIDENCE).exists()


def test_empty_summary_flag_turns_the_github_default_off(drills: Drills) -> None:
    summary = drills.cwd / "summary.md"
    result = drills.run("--summary", "", env={"GITHUB_STEP_SUMMARY": str(summary)})
    assert result.returncode == 0, result.stderr
    assert not summary.exists()


def test_an_output_that_fails_after_the_drill_is_reported_and_the_rest_still_written(tmp_path: Path) -> None:
    # The directory vanished between the preflight and the write: the evidence stays, the
    # other outputs are written, and the error says what is missing (exit 3).
    outputs = OutputPaths(junit=tmp_path / "gone" / "junit.xml", metrics=tmp_path / "drill.prom")
    written = write_outputs(
        outputs,
        evidence=evidence(),
        evidence_path=tmp_path / EVIDENCE,
        evidence_bytes=b"{}",
        readiness=readiness(),
        files={},
        failure=None,
        plan_path=str(tmp_path / "plan.json"),
        plan_sha256="ab" * 32,
        schedule_path="",
    )
    assert written.files == {"metrics": str(tmp_path / "drill.prom")}
    (error,) = written.errors
    assert isinstance(error, InputError) and error.exit_code == EXIT_INPUT
    assert "JUnit report" in error.message and "does not exist" in error.message


def test_an_output_with_a_hostname_is_refused_by_the_safety_gate(tmp_path: Path) -> None:
    leaky = {"go_rollback_plan": "see build01.corp.example"}
    report = readiness({"go_backend_rollback": "needs_attention"}, warn=leaky)
    written = write_outputs(
        OutputPaths(junit=tmp_path / "junit.xml", summary=tmp_path / "summary.md"),
        evidence=evidence(),
        evidence_path=tmp_path / EVIDENCE,
        evidence_bytes=b"{}",
        readiness=report,
        files={},
        failure=None,
        plan_path="plan.json",
        plan_sha256=None,
        schedule_path="",
    )
    assert written.files == {}
    assert len(written.errors) == 2
    for error in written.errors:
        assert "looks like a hostname" in error.message and "build01" not in error.message
    assert not (tmp_path / "junit.xml").exists() and not (tmp_path / "summary.md").exists()
