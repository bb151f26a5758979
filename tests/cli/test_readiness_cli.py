"""`cavra-drill readiness` through the real CLI: exit codes, settings precedence, output streams."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import cavra_samples as samples
import pytest
from clirun import CliResult, assert_no_traceback

from cavra_drill.contract.documents import parse_document
from cavra_drill.contract.reports import REPORTS, judge_all
from cavra_drill.formats.json_text import render_json

Cli = Callable[..., CliResult]

NOW = samples.zulu(samples.NOW)
FILES = {"plan": "plan.json", "rehearsal": "rehearsal.json", "history": "drills.json", "schedule": "schedule.json"}
ENV_NAMES = {
    "plan": "CAVRA_GO_ROLLBACK_PLAN",
    "rehearsal": "CAVRA_GO_ROLLBACK_REHEARSAL_EVIDENCE",
    "history": "CAVRA_GO_ROLLBACK_DRILL_HISTORY",
    "schedule": "CAVRA_GO_ROLLBACK_DRILL_SCHEDULE",
}


def write_samples(directory: Path, **overrides: object) -> None:
    """CAVRA's documented samples (fresh drill, schedule due in 30 days) as files in `directory`."""
    values: dict[str, object] = {
        "plan": samples.plan(),
        "rehearsal": samples.rehearsal(),
        "history": samples.history(),
        "schedule": samples.schedule(),
    }
    values.update(overrides)
    for name, value in values.items():
        samples.write_json(directory / FILES[name], value)


def file_flags() -> list[str]:
    return [arg for name, path in FILES.items() for arg in (f"--{name}", path)]


def readiness(cli: Cli, *args: str, env: dict[str, str] | None = None) -> CliResult:
    result = cli("readiness", "--now", NOW, *args, env=env)
    assert_no_traceback(result)
    return result


def expected_report(directory: Path, kind: str, mode: str = "promoted", max_age_days: float = 90.0) -> Any:
    """The report computed in-process from the same bytes, as the CLI prints it."""
    docs = {name: parse_document(path, (directory / path).read_bytes()) for name, path in FILES.items()}
    judgements = judge_all(mode=mode, now=samples.NOW, max_age_days=max_age_days, due_soon_days=14.0, **docs)
    return json.loads(render_json(REPORTS[kind](judgements)))


# ---- exit 0 --------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["production", "rollback", "rehearsal", "drills", "schedule"])
def test_ready_exits_0_and_json_is_exactly_the_report(cli: Cli, tmp_path: Path, kind: str) -> None:
    write_samples(tmp_path)
    result = readiness(cli, "--mode", "promoted", *file_flags(), "--report", kind, "--json")
    assert result.returncode == 0, result.stderr
    assert result.json() == expected_report(tmp_path, kind)
    assert result.json()["status"] == "ready"
    assert result.stderr == ""


def test_not_requested_exits_0(cli: Cli) -> None:
    result = readiness(cli, "--json")
    assert result.returncode == 0
    report = result.json()
    assert report["status"] == "ready"
    for check in report["checks"]:
        assert check["status"] == "pass"
        assert check["mode"] == "disabled"
    for key in ("go_backend_rollback", "go_backend_rollback_rehearsal", "go_backend_rollback_drill_history"):
        assert report[key]["status"] == "not_requested"
    assert report["go_backend_rollback_drill_schedule"]["status"] == "not_requested"


@pytest.mark.parametrize("kind", ["rollback", "rehearsal", "drills", "schedule"])
def test_each_report_not_requested_exits_0(cli: Cli, kind: str) -> None:
    result = readiness(cli, "--report", kind, "--json")
    assert result.returncode == 0
    assert result.json()["status"] == "not_requested"


def test_schedule_due_soon_exits_0(cli: Cli, tmp_path: Path) -> None:
    write_samples(tmp_path, schedule=samples.schedule(samples.zulu(samples.NOW + timedelta(days=3))))
    result = readiness(cli, "--mode", "promoted", *file_flags(), "--report", "schedule", "--json")
    assert result.returncode == 0
    assert result.json()["status"] == "due_soon"


# ---- exit 1 --------------------------------------------------------------------------------


def test_needs_attention_exits_1(cli: Cli) -> None:
    result = readiness(cli, "--mode", "promoted", "--json")
    assert result.returncode == 1
    assert result.json()["status"] == "needs_attention"


@pytest.mark.parametrize("kind", ["production", "rollback", "rehearsal", "drills", "schedule"])
def test_each_report_needs_attention_exits_1(cli: Cli, tmp_path: Path, kind: str) -> None:
    (tmp_path / "broken.json").write_text("[]", encoding="utf-8")
    flags = [arg for name in FILES for arg in (f"--{name}", "broken.json")]
    result = readiness(cli, *flags, "--report", kind, "--json")
    assert result.returncode == 1
    assert result.json()["status"] == "needs_attention"


@pytest.mark.parametrize(
    "raw",
    [b"", b"\xff\xfe\x00", b"[" * 100_000, b'{"max_recovery_minutes": ' + b"7" * 5000 + b"}", b"NaN"],
    ids=["empty", "not-utf8", "deep", "huge-int", "nan"],
)
def test_hostile_files_are_judged_not_crashed_on(cli: Cli, tmp_path: Path, raw: bytes) -> None:
    for path in FILES.values():
        (tmp_path / path).write_bytes(raw)
    result = readiness(cli, *file_flags(), "--json")
    assert result.returncode == 1
    report = result.json()
    assert report["go_backend_rollback"]["rollback"]["message"].startswith("metadata JSON")


def test_directory_and_missing_paths(cli: Cli, tmp_path: Path) -> None:
    (tmp_path / "adir").mkdir()
    result = readiness(cli, "--plan", "adir", "--history", "absent.json", "--json")
    assert result.returncode == 1
    report = result.json()
    assert report["go_backend_rollback"]["rollback"]["message"] == "metadata file is missing"
    assert report["go_backend_rollback_drill_history"]["history"]["message"] == "metadata file is missing"


# ---- exit 2 --------------------------------------------------------------------------------


@pytest.mark.parametrize("now", ["yesterday", "2026-13-01", "", "29/11/2026"])
def test_bad_now_exits_2(cli: Cli, now: str) -> None:
    result = cli("readiness", "--now", now, "--json")
    assert_no_traceback(result)
    assert result.returncode == 2
    assert result.stdout == ""
    assert "--now" in result.stderr


@pytest.mark.parametrize("args", [["--max-age-days=-1"], ["--max-age-days", "-0.5"], ["--max-age-days", "ninety"]])
def test_bad_max_age_days_exits_2(cli: Cli, args: list[str]) -> None:
    result = readiness(cli, *args, "--json")
    assert result.returncode == 2
    assert result.stdout == ""
    assert "--max-age-days" in result.stderr


@pytest.mark.parametrize("args", [["--due-soon-days=-3"], ["--due-soon-days", "soon"], ["--max-age-days", "inf"]])
def test_other_bad_day_counts_exit_2(cli: Cli, args: list[str]) -> None:
    result = readiness(cli, *args)
    assert result.returncode == 2
    assert result.stdout == ""


@pytest.mark.parametrize("args", [["--bogus"], ["--report", "everything"], ["extra-argument"], ["--json=yes"]])
def test_unknown_options_exit_2(cli: Cli, args: list[str]) -> None:
    result = readiness(cli, *args)
    assert result.returncode == 2
    assert result.stdout == ""


def test_zero_max_age_days_is_allowed_and_nothing_is_fresh(cli: Cli, tmp_path: Path) -> None:
    write_samples(tmp_path)
    result = readiness(cli, "--mode", "promoted", *file_flags(), "--max-age-days", "0", "--report", "drills", "--json")
    assert result.returncode == 1
    freshness = result.json()["checks"][-1]
    assert (freshness["id"], freshness["status"], freshness["max_age_days"]) == (
        "go_rollback_drill_freshness",
        "warn",
        0.0,
    )


# ---- mode ----------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["turbo", "", "promote", "go"])
def test_unknown_mode_is_disabled(cli: Cli, mode: str) -> None:
    result = readiness(cli, "--mode", mode, "--report", "rollback", "--json")
    assert result.returncode == 0
    assert result.json()["mode"] == "disabled"
    assert result.json()["status"] == "not_requested"


def test_mode_is_trimmed_and_lower_cased(cli: Cli, tmp_path: Path) -> None:
    write_samples(tmp_path)
    result = readiness(cli, "--mode", "  PROMOTED ", *file_flags(), "--json")
    assert result.returncode == 0
    assert {c["mode"] for c in result.json()["checks"]} == {"promoted"}


@pytest.mark.parametrize("mode", ["shadow", "enforce"])
def test_other_modes_echo_and_request_nothing_by_themselves(cli: Cli, mode: str) -> None:
    result = readiness(cli, "--mode", mode, "--report", "drills", "--json")
    assert result.returncode == 0
    assert (result.json()["mode"], result.json()["status"]) == (mode, "not_requested")


@pytest.mark.parametrize(("raw", "mode"), [(" Promoted ", "promoted"), ("bogus", "disabled"), ("", "disabled")])
def test_environment_mode_is_normalised(cli: Cli, raw: str, mode: str) -> None:
    result = readiness(cli, "--report", "rollback", "--json", env={"CAVRA_GO_BACKEND_MODE": raw})
    assert result.json()["mode"] == mode
    assert result.returncode == (1 if mode == "promoted" else 0)


# ---- environment as defaults, flags win ----------------------------------------------------


def test_environment_supplies_every_setting(cli: Cli, tmp_path: Path) -> None:
    write_samples(tmp_path)
    env = {"CAVRA_GO_BACKEND_MODE": "promoted", **{ENV_NAMES[k]: v for k, v in FILES.items()}}
    result = readiness(cli, "--json", env=env)
    assert result.returncode == 0, result.stderr
    assert result.json() == expected_report(tmp_path, "production")


def test_environment_path_alone_requests_its_report(cli: Cli, tmp_path: Path) -> None:
    write_samples(tmp_path)
    result = readiness(cli, "--report", "rollback", "--json", env={"CAVRA_GO_ROLLBACK_PLAN": "plan.json"})
    assert result.returncode == 0
    assert (result.json()["mode"], result.json()["status"]) == ("disabled", "ready")
    assert result.json()["rollback_plan_path"] == "plan.json"


def test_blank_environment_path_is_not_configured(cli: Cli) -> None:
    result = readiness(cli, "--report", "rollback", "--json", env={"CAVRA_GO_ROLLBACK_PLAN": "   "})
    assert result.json()["status"] == "not_requested"


def test_flag_mode_wins_over_environment(cli: Cli) -> None:
    result = readiness(cli, "--mode", "disabled", "--json", env={"CAVRA_GO_BACKEND_MODE": "promoted"})
    assert result.returncode == 0
    assert result.json()["go_backend_rollback"]["status"] == "not_requested"


def test_flag_path_wins_over_environment(cli: Cli, tmp_path: Path) -> None:
    write_samples(tmp_path)
    (tmp_path / "bad-plan.json").write_text("{}", encoding="utf-8")
    env = {"CAVRA_GO_ROLLBACK_PLAN": "bad-plan.json"}
    assert readiness(cli, "--report", "rollback", "--json", env=env).returncode == 1
    result = readiness(cli, "--report", "rollback", "--plan", "plan.json", "--json", env=env)
    assert result.returncode == 0
    assert result.json()["rollback_plan_path"] == "plan.json"


def test_environment_max_age_days_is_used(cli: Cli, tmp_path: Path) -> None:
    write_samples(tmp_path)  # the drill is 3 days old
    env = {"CAVRA_GO_ROLLBACK_DRILL_MAX_AGE_DAYS": "2.5"}
    result = readiness(cli, "--mode", "promoted", *file_flags(), "--report", "drills", "--json", env=env)
    assert result.returncode == 1
    assert result.json()["rollback_drill_max_age_days"] == 2.5
    flag_wins = readiness(
        cli, "--mode", "promoted", *file_flags(), "--report", "drills", "--max-age-days", "3", "--json", env=env
    )
    assert flag_wins.returncode == 0
    assert flag_wins.json()["rollback_drill_max_age_days"] == 3.0


@pytest.mark.parametrize("raw", ["ninety", "", "  "])
def test_unparseable_environment_max_age_means_90(cli: Cli, tmp_path: Path, raw: str) -> None:
    write_samples(tmp_path)
    env = {"CAVRA_GO_ROLLBACK_DRILL_MAX_AGE_DAYS": raw}
    result = readiness(cli, "--mode", "promoted", *file_flags(), "--report", "drills", "--json", env=env)
    assert result.returncode == 0
    assert result.json()["rollback_drill_max_age_days"] == 90.0


def test_negative_environment_max_age_is_kept_and_fails_freshness(cli: Cli, tmp_path: Path) -> None:
    # As CAVRA reads it: not a usage error, but no drill can be fresh.
    write_samples(tmp_path)
    env = {"CAVRA_GO_ROLLBACK_DRILL_MAX_AGE_DAYS": "-5"}
    result = readiness(cli, "--mode", "promoted", *file_flags(), "--report", "drills", "--json", env=env)
    assert result.returncode == 1
    assert result.json()["rollback_drill_max_age_days"] == -5.0


def test_environment_due_soon_days_is_used_and_flag_wins(cli: Cli, tmp_path: Path) -> None:
    write_samples(tmp_path)  # due in 30 days
    env = {"CAVRA_GO_ROLLBACK_DRILL_DUE_SOON_DAYS": "31"}
    args = ["--mode", "promoted", *file_flags(), "--report", "schedule", "--json"]
    assert readiness(cli, *args, env=env).json()["status"] == "due_soon"
    assert readiness(cli, *args, "--due-soon-days", "14", env=env).json()["status"] == "ready"


def test_relative_paths_are_relative_to_the_current_directory(cli: Cli, tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    write_samples(tmp_path / "sub")
    result = cli("readiness", "--now", NOW, "--plan", "sub/plan.json", "--report", "rollback", "--json")
    assert result.json()["status"] == "ready"
    elsewhere = cli(
        "readiness", "--now", NOW, "--plan", "plan.json", "--report", "rollback", "--json", cwd=tmp_path / "sub"
    )
    assert elsewhere.json()["status"] == "ready"


# ---- output streams ------------------------------------------------------------------------


def test_without_json_nothing_goes_to_stdout(cli: Cli, tmp_path: Path) -> None:
    write_samples(tmp_path)
    result = readiness(cli, "--mode", "promoted", *file_flags())
    assert result.returncode == 0
    assert result.stdout == ""
    assert "ready" in result.stderr


def test_needs_attention_without_json_nothing_goes_to_stdout(cli: Cli) -> None:
    result = readiness(cli, "--mode", "promoted")
    assert result.returncode == 1
    assert result.stdout == ""
    assert "needs_attention" in result.stderr


def test_json_stdout_is_one_standard_json_document(cli: Cli, tmp_path: Path) -> None:
    (tmp_path / "plan.json").write_text('{"max_recovery_minutes": Infinity, "status": NaN}', encoding="utf-8")
    result = readiness(cli, "--plan", "plan.json", "--report", "rollback", "--json")
    json.loads(result.stdout, parse_constant=lambda name: pytest.fail(f"non-standard {name}"))
    assert result.json()["rollback"]["max_recovery_minutes"] is None


def broken_files(directory: Path) -> None:
    """One file per artifact, each breaking rules CAVRA's messages omit as well as ones they name."""
    plan = samples.plan()
    plan.update(target_mode="promoted", controls="python-fallback-available", approved="true", status="draft")
    evidence = samples.rehearsal()
    evidence.update(
        simulated=False, fallback_verified=1, recovery_minutes=15.0001, runbook_ref=None, plan_approval_id="apr_other"
    )
    drill = samples.drill(
        samples.zulu(samples.NOW - timedelta(days=120)),
        status="fail",
        target_mode="shadow",
        fallback_verified="yes",
        max_recovery_minutes=True,
        evidence_refs=[],
        runbook_ref="",
    )
    schedule = samples.schedule(samples.zulu(samples.NOW - timedelta(days=1)))
    schedule.update(status="paused", owners=[], notification_providers="pagerduty", maintenance_windows={})
    write_samples(directory, plan=plan, rehearsal=evidence, history=samples.history(drill), schedule=schedule)


EVERY_FAILED_RULE = [
    "rollback plan must record status=ready",
    "rollback plan must set target_mode=disabled",
    "rollback plan is missing required controls",
    "rollback plan is not approved",
    "rollback rehearsal must be marked simulated=true",
    "rollback rehearsal must verify Python fallback restoration",
    "rollback rehearsal recovery_minutes must be positive and less than or equal to max_recovery_minutes",
    "rollback rehearsal evidence must include runbook_ref",
    "rollback rehearsal plan_approval_id must match the rollback plan approval_id",
    "latest rollback drill must record status=pass",
    "latest rollback drill must set target_mode=disabled",
    "latest rollback drill must verify Python fallback restoration",
    "latest rollback drill recovery_minutes must be positive and less than or equal to max_recovery_minutes",
    "latest rollback drill must include evidence_refs",
    "latest rollback drill must include runbook_ref",
    "latest rollback drill is missing, invalid, or stale",
    "rollback drill schedule must record status=active",
    "rollback drill schedule is overdue",
    "rollback drill schedule must include owners",
    "rollback drill schedule must include notification_providers",
    "rollback drill schedule maintenance_windows must be a list",
]


def test_human_output_lists_every_failed_rule(cli: Cli, tmp_path: Path) -> None:
    broken_files(tmp_path)
    result = readiness(cli, "--mode", "promoted", *file_flags())
    assert result.returncode == 1
    assert result.stdout == ""
    failed = result.stderr.split("failed rules:\n", 1)[1]
    for text in EVERY_FAILED_RULE:
        assert text in failed, text
    # ... and exactly the failures the contract judges record, each once, named by field.
    docs = {name: parse_document(path, (tmp_path / path).read_bytes()) for name, path in FILES.items()}
    judgements = judge_all(mode="promoted", now=samples.NOW, max_age_days=90.0, due_soon_days=14.0, **docs)
    rows = [row.strip() for row in failed.splitlines() if row.strip()]
    assert rows == [f"{artifact} {failure.describe()}" for artifact, failure in judgements.failures()]
    assert "drills[0].executed_at: latest rollback drill is missing, invalid, or stale" in failed


def test_human_output_lists_the_rule_a_success_message_hides(cli: Cli, tmp_path: Path) -> None:
    # CAVRA's evidence check says "...proves Python fallback restoration..." while simulated is false.
    evidence = samples.rehearsal()
    evidence["simulated"] = False
    write_samples(tmp_path, rehearsal=evidence)
    result = readiness(cli, "--rehearsal", "rehearsal.json", "--report", "rehearsal")
    assert result.returncode == 1
    assert "simulated: rollback rehearsal must be marked simulated=true" in result.stderr


@pytest.mark.parametrize(
    ("kind", "absent"),
    [("rollback", "rehearsal"), ("rehearsal", "latest rollback drill"), ("drills", "rollback plan")],
)
def test_human_output_of_one_report_lists_its_own_rules(cli: Cli, tmp_path: Path, kind: str, absent: str) -> None:
    broken_files(tmp_path)
    result = readiness(cli, "--mode", "promoted", *file_flags(), "--report", kind)
    assert result.returncode == 1
    failed = result.stderr.split("failed rules:\n", 1)[1]
    assert absent not in failed
