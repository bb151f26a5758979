"""`cavra-drill validate` through the real CLI: kinds, exit codes, field names, public safety."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import cavra_samples as samples
import pytest
from clirun import CliResult, assert_no_traceback

Cli = Callable[..., CliResult]

NOW = samples.zulu(samples.NOW)


def validate(cli: Cli, *args: str, env: dict[str, str] | None = None) -> CliResult:
    result = cli("validate", "--now", NOW, *args, env=env)
    assert_no_traceback(result)
    return result


def write_all(directory: Path) -> list[str]:
    samples.write_json(directory / "plan.json", samples.plan())
    samples.write_json(directory / "rehearsal.json", samples.rehearsal())
    samples.write_json(directory / "drills.json", samples.history())
    samples.write_json(directory / "schedule.json", samples.schedule())
    return ["plan.json", "rehearsal.json", "drills.json", "schedule.json"]


def files_of(result: CliResult) -> list[dict[str, Any]]:
    files = result.json()["files"]
    assert isinstance(files, list)
    return files


# ---- kinds and exit codes ------------------------------------------------------------------


def test_all_valid_exits_0_with_kinds_from_schema_version(cli: Cli, tmp_path: Path) -> None:
    paths = write_all(tmp_path)
    result = validate(cli, *paths)
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    for line in (
        "plan.json: valid (plan)",
        "rehearsal.json: valid (rehearsal)",
        "drills.json: valid (history)",
        "schedule.json: valid (schedule)",
    ):
        assert line in result.stderr


def test_json_output(cli: Cli, tmp_path: Path) -> None:
    paths = write_all(tmp_path)
    result = validate(cli, *paths, "--json")
    assert result.returncode == 0
    assert result.json() == {
        "valid": True,
        "files": [
            {"path": "plan.json", "kind": "plan", "valid": True, "failures": []},
            {"path": "rehearsal.json", "kind": "rehearsal", "valid": True, "failures": []},
            {"path": "drills.json", "kind": "history", "valid": True, "failures": []},
            {"path": "schedule.json", "kind": "schedule", "valid": True, "failures": []},
        ],
    }


def test_any_invalid_file_exits_1_and_every_file_is_reported(cli: Cli, tmp_path: Path) -> None:
    paths = write_all(tmp_path)
    plan = samples.plan()
    plan["status"] = "draft"
    samples.write_json(tmp_path / "bad-plan.json", plan)
    result = validate(cli, *paths, "bad-plan.json", "--json")
    assert result.returncode == 1
    assert result.json()["valid"] is False
    assert [(f["path"], f["valid"]) for f in files_of(result)] == [
        ("plan.json", True),
        ("rehearsal.json", True),
        ("drills.json", True),
        ("schedule.json", True),
        ("bad-plan.json", False),
    ]


def test_kind_option_overrides_the_schema_version(cli: Cli, tmp_path: Path) -> None:
    write_all(tmp_path)
    assert validate(cli, "--kind", "plan", "plan.json").returncode == 0
    result = validate(cli, "--kind", "plan", "rehearsal.json", "--json")
    assert result.returncode == 1
    verdict = files_of(result)[0]
    assert verdict["kind"] == "plan"
    assert {"field": "schema_version", "message": "rollback plan has an invalid schema_version"} in verdict["failures"]


def test_kind_option_judges_a_file_without_schema_version(cli: Cli, tmp_path: Path) -> None:
    plan = samples.plan()
    del plan["schema_version"]
    samples.write_json(tmp_path / "plan.json", plan)
    result = validate(cli, "--kind", "plan", "plan.json", "--json")
    assert result.returncode == 1
    assert [f["field"] for f in files_of(result)[0]["failures"]] == ["schema_version"]


@pytest.mark.parametrize("schema", ["cavra.something-else.v1", None])
def test_unknown_schema_version_without_kind_exits_1(cli: Cli, tmp_path: Path, schema: str | None) -> None:
    samples.write_json(tmp_path / "x.json", {"schema_version": schema})
    result = validate(cli, "x.json")
    assert result.returncode == 1
    assert "x.json: invalid (unknown kind)" in result.stderr
    assert "schema_version: unknown schema_version" in result.stderr


def test_unknown_kind_is_a_usage_error(cli: Cli, tmp_path: Path) -> None:
    write_all(tmp_path)
    result = validate(cli, "--kind", "runbook", "plan.json")
    assert result.returncode == 2
    assert result.stdout == ""


def test_no_files_is_a_usage_error(cli: Cli) -> None:
    assert validate(cli).returncode == 2


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "(file): metadata file is missing"),
        (b"[]", "(file): metadata JSON must be an object"),
        (b"{", "(file): metadata JSON is invalid: Expecting property name enclosed in double quotes"),
        (b"\xff", "(file): metadata JSON is invalid: "),
        (b"[" * 100_000, "(file): metadata JSON is invalid: "),
    ],
    ids=["missing", "array", "truncated", "not-utf8", "deep"],
)
def test_files_that_fail_to_load(cli: Cli, tmp_path: Path, content: bytes | None, message: str) -> None:
    if content is not None:
        (tmp_path / "x.json").write_bytes(content)
    result = validate(cli, "x.json")
    assert result.returncode == 1
    assert message in result.stderr


def test_a_directory_is_missing(cli: Cli, tmp_path: Path) -> None:
    (tmp_path / "d.json").mkdir()
    result = validate(cli, "--kind", "history", "d.json")
    assert result.returncode == 1
    assert "(file): metadata file is missing" in result.stderr


# ---- every failed rule, named by field -----------------------------------------------------


def test_plan_failures_are_named_by_field(cli: Cli, tmp_path: Path) -> None:
    plan = samples.plan()
    plan.update(target_mode="promoted", controls=7, approved=False, rollback_steps=[], max_recovery_minutes=True)
    samples.write_json(tmp_path / "plan.json", plan)
    result = validate(cli, "plan.json")
    assert result.returncode == 1
    for line in (
        "target_mode: rollback plan must set target_mode=disabled",
        "controls: rollback plan is missing required controls: ",
        "rollback_steps: rollback plan must include rollback_steps as a non-empty list of strings",
        "max_recovery_minutes: rollback plan must include positive max_recovery_minutes",
        "approved: rollback plan is not approved",
    ):
        assert line in result.stderr, line


def test_evidence_failures_are_named_by_field(cli: Cli, tmp_path: Path) -> None:
    evidence = samples.rehearsal()
    evidence.update(simulated="true", recovery_minutes=16, runbook_ref=None, evidence_refs=[])
    samples.write_json(tmp_path / "ev.json", evidence)
    result = validate(cli, "ev.json", "--json")
    assert result.returncode == 1
    fields = [f["field"] for f in files_of(result)[0]["failures"]]
    assert set(fields) == {"simulated", "recovery_minutes", "runbook_ref", "evidence_refs"}


def test_history_failures_name_the_latest_drill(cli: Cli, tmp_path: Path) -> None:
    old = samples.drill(samples.zulu(samples.NOW - timedelta(days=10)))
    latest = samples.drill(samples.zulu(samples.NOW - timedelta(days=1)), status="fail")
    samples.write_json(tmp_path / "drills.json", samples.history(old, "junk", latest))
    result = validate(cli, "drills.json")
    assert result.returncode == 1
    assert "drills[2].status: latest rollback drill must record status=pass" in result.stderr


def test_history_freshness_uses_now(cli: Cli, tmp_path: Path) -> None:
    samples.write_json(tmp_path / "drills.json", samples.history())  # 3 days before NOW
    assert validate(cli, "drills.json").returncode == 0
    later = samples.zulu(samples.NOW + timedelta(days=88))
    result = cli("validate", "--now", later, "drills.json")
    assert result.returncode == 1
    assert "drills[0].executed_at: latest rollback drill is missing, invalid, or stale" in result.stderr


def test_rehearsal_is_bound_to_the_plan_given(cli: Cli, tmp_path: Path) -> None:
    write_all(tmp_path)
    evidence = samples.rehearsal()
    evidence["plan_approval_id"] = "apr_other"
    samples.write_json(tmp_path / "ev.json", evidence)
    assert validate(cli, "ev.json").returncode == 0  # no plan: any approval id matches
    result = validate(cli, "ev.json", "--plan", "plan.json")
    assert result.returncode == 1
    assert "plan_approval_id: rollback rehearsal plan_approval_id must match the rollback plan approval_id" in (
        result.stderr
    )
    from_env = validate(cli, "ev.json", env={"CAVRA_GO_ROLLBACK_PLAN": "plan.json"})
    assert from_env.returncode == 1


def test_rehearsal_borrows_the_plans_max(cli: Cli, tmp_path: Path) -> None:
    write_all(tmp_path)
    evidence = samples.rehearsal()
    del evidence["max_recovery_minutes"]
    samples.write_json(tmp_path / "ev.json", evidence)
    assert validate(cli, "ev.json").returncode == 1
    assert validate(cli, "ev.json", "--plan", "plan.json").returncode == 0


def test_schedule_due_date_from_the_history_given(cli: Cli, tmp_path: Path) -> None:
    write_all(tmp_path)
    schedule = samples.schedule()
    del schedule["next_due_at"]
    samples.write_json(tmp_path / "sched.json", schedule)
    result = validate(cli, "sched.json")
    assert result.returncode == 1
    assert "next_due_at: rollback drill schedule has no due date" in result.stderr
    assert validate(cli, "sched.json", "--history", "drills.json").returncode == 0


# ---- public safety -------------------------------------------------------------------------


def fake_secrets() -> dict[str, str]:
    """Secret-shaped values assembled at run time, so the repository holds none."""
    return {
        "cloud-key": "AK" + "IA" + "X" * 16,
        "forge-token": "gh" + "p_" + "a1B2" * 9,
        "url-credentials": "https://" + "deploy" + ":" + "hunter" + "2pass" + "@" + "artifacts.internal.example/x",
    }


@pytest.mark.parametrize("kind", ["cloud-key", "forge-token", "url-credentials"])
def test_secret_in_evidence_is_named_by_field_and_never_echoed(cli: Cli, tmp_path: Path, kind: str) -> None:
    secret = fake_secrets()[kind]
    evidence = samples.rehearsal()
    evidence["evidence_refs"] = ["go-rollback-rehearsal://ci/fallback-restored", secret]
    samples.write_json(tmp_path / "ev.json", evidence)
    for extra in ([], ["--json"]):
        result = validate(cli, "ev.json", *extra)
        assert result.returncode == 1
        output = result.stdout + result.stderr
        assert "evidence_refs[1]" in output
        assert "public safety" in output
        assert secret not in output
        assert secret[4:12] not in output


def test_infrastructure_details_are_findings(cli: Cli, tmp_path: Path) -> None:
    plan = samples.plan()
    plan["rollback_steps"] = [
        "Set CAVRA_GO_BACKEND_MODE=disabled.",
        "ssh to " + "10.20" + ".30.40 and restart",
        "mail " + "ops" + "@" + "customer-corp.example" + " when done",
    ]
    samples.write_json(tmp_path / "plan.json", plan)
    result = validate(cli, "plan.json", "--json")
    assert result.returncode == 1
    failures = files_of(result)[0]["failures"]
    fields = [f["field"] for f in failures]
    assert "rollback_steps[1]" in fields
    assert "rollback_steps[2]" in fields
    assert "10.20.30.40" not in result.stdout
    assert "customer-corp" not in result.stdout


def test_secret_in_history_names_the_drill(cli: Cli, tmp_path: Path) -> None:
    secret = fake_secrets()["cloud-key"]
    drill = samples.drill(None, actor=secret)
    samples.write_json(tmp_path / "drills.json", samples.history(drill))
    result = validate(cli, "drills.json")
    assert result.returncode == 1
    assert "drills[0].actor: public safety" in result.stderr
    assert secret not in result.stderr


def test_documented_samples_are_public_safe(cli: Cli, tmp_path: Path) -> None:
    result = validate(cli, *write_all(tmp_path), "--json")
    assert result.returncode == 0
    assert all(f["failures"] == [] for f in files_of(result))
