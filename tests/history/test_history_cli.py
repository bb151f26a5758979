"""`cavra-drill history` through the real CLI: figures, options, garbage, refusals."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from clirun import CliResult, assert_no_traceback

from .support import KNOWN, NOW_TEXT, history, read, record, sealed, write

Cli = Callable[..., CliResult]


def run(cli: Cli, *args: str, env: dict[str, str] | None = None, cwd: Path | None = None) -> CliResult:
    result = cli("history", *args, env=env, cwd=cwd)
    assert_no_traceback(result)
    return result


def as_json(cli: Cli, *args: str, env: dict[str, str] | None = None) -> Any:
    result = run(cli, "--now", NOW_TEXT, "--json", *args, env=env)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    return result.json()


def one_line_error(result: CliResult, code: int, *fragments: str) -> None:
    assert result.returncode == code, result.stderr
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("cavra-drill: "), result.stderr
    for fragment in fragments:
        assert fragment in result.stderr


@pytest.fixture
def known(tmp_path: Path) -> Path:
    return write(tmp_path / "drills.json", history(sealed(KNOWN)))


def test_figures_as_json(cli: Cli, known: Path) -> None:
    out = as_json(cli, "--history", str(known))
    assert out["history"] == str(known) and out["environment"] == "production-pilot"
    figures = out["figures"]
    assert figures["entries"] == 6 and figures["pass_rate"] == 0.8333
    assert (figures["median_recovery_minutes"], figures["p95_recovery_minutes"]) == (3, 10)
    assert figures["max_recovery_minutes"] == 10 and figures["recovered"] == 5
    assert figures["days_since_last_pass"] == 24.5
    assert figures["last_pass_at"] == "2026-02-05T00:00:00+00:00"
    assert figures["latest_drill_id"] == "drill_06" and figures["fresh"] is True
    assert figures["stale_at"] == "2026-05-06T00:00:00+00:00" and figures["max_age_days"] == 90
    assert figures["trend"]["direction"] == "up" and figures["trend"]["drills"] == 5
    assert figures["schedule"] is None
    assert [row["drill_id"] for row in out["drills"]] == [f"drill_0{i}" for i in range(1, 7)]
    first = out["drills"][0]
    assert first == {
        "index": 0,
        "drill_id": "drill_01",
        "executed_at": "2026-01-01T00:00:00Z",
        "actor": "release-agent",
        "status": "pass",
        "recovery_minutes": 1.0,
        "max_recovery_minutes": 15.0,
        "headroom_percent": 93.3,
        "fallback_verified": True,
        "parseable": True,
        "problem": None,
    }
    drills = read(known)["drills"]
    assert out["chain"] == {"status": "intact", "sealed": 6, "legacy": 0, "head_sha256": drills[-1]["record_sha256"]}


def test_human_table_on_stderr(cli: Cli, known: Path) -> None:
    result = run(cli, "--history", str(known), "--now", NOW_TEXT)
    assert result.returncode == 0 and result.stdout == ""
    text = result.stderr
    assert "drill history" in text and "(environment production-pilot)" in text
    header = text.splitlines()[1].split()
    assert header[:5] == ["#", "drill", "executed_at", "actor", "status"]
    row = next(line for line in text.splitlines() if "drill_03" in line).split()
    assert row == ["2", "drill_03", "2026-01-15T00:00:00Z", "release-agent", "fail", "20", "15", "-33.3%"]
    assert "pass rate      83.3% (5 of 6)" in text
    assert "median 3 min, p95 10 min, max 10 min (5 recovered drills)" in text
    assert "trend          up (+200.0% fitted over the last 5 recovered drills, +2 min per drill)" in text
    assert "last pass      2026-02-05T00:00:00+00:00, 24.5 days ago" in text
    assert "drill_06 (pass): fresh; stale after 2026-05-06T00:00:00+00:00 (max age 90 days)" in text
    assert "next due       - (no schedule configured)" in text
    assert "chain: intact, 6 sealed, 0 legacy; head " in text


def test_last(cli: Cli, known: Path) -> None:
    out = as_json(cli, "--history", str(known), "--last", "2")
    assert [row["index"] for row in out["drills"]] == [4, 5]
    assert out["figures"]["shown"] == 2 and out["figures"]["entries"] == 6
    assert out["figures"]["median_recovery_minutes"] == 7  # of 4 and 10
    assert out["figures"]["latest_drill_id"] == "drill_06"
    human = run(cli, "--history", str(known), "--last", "2", "--now", NOW_TEXT).stderr
    assert "figures (last 2 of 6 entries):" in human
    assert "drill_01" not in human


def test_max_age_days_flag_beats_the_environment(cli: Cli, known: Path) -> None:
    env = {"CAVRA_GO_ROLLBACK_DRILL_MAX_AGE_DAYS": "10"}
    from_env = as_json(cli, "--history", str(known), env=env)["figures"]
    assert from_env["stale_at"] == "2026-02-15T00:00:00+00:00" and from_env["fresh"] is False
    from_flag = as_json(cli, "--history", str(known), "--max-age-days", "30", env=env)["figures"]
    assert from_flag["stale_at"] == "2026-03-07T00:00:00+00:00" and from_flag["fresh"] is True


def test_history_path_flag_then_environment_then_run_default(cli: Cli, tmp_path: Path) -> None:
    out_dir = tmp_path / "cavra-drill-out"
    out_dir.mkdir()
    write(out_dir / "go-backend-rollback-drills.json", history(sealed(KNOWN[:1])))
    write(tmp_path / "env.json", history(sealed(KNOWN[:2])))
    write(tmp_path / "flag.json", history(sealed(KNOWN[:3])))
    env = {"CAVRA_GO_ROLLBACK_DRILL_HISTORY": "env.json"}
    assert as_json(cli)["figures"]["entries"] == 1
    assert as_json(cli, env=env)["figures"]["entries"] == 2
    assert as_json(cli, "--history", "flag.json", env=env)["figures"]["entries"] == 3


def test_schedule_due_date_is_cavras(cli: Cli, known: Path, tmp_path: Path) -> None:
    schedule = {
        "schema_version": "cavra.go-backend-rollback-drill-schedule.v1",
        "schedule_id": "monthly",
        "environment": "production-pilot",
        "status": "active",
        "interval_days": 30,
        "owners": ["release-team"],
        "notification_providers": ["pager"],
        "maintenance_windows": [],
        "owner_calendars": {},
        "runbook_ref": "runbooks/go-backend-python-fallback.md",
    }
    path = write(tmp_path / "schedule.json", schedule)
    out = as_json(cli, "--history", str(known), "--schedule", str(path))["figures"]
    due = out["schedule"]
    assert due["next_due_at"] == "2026-03-07T00:00:00+00:00" and due["days_until_due"] == 5.5
    assert due["due_soon"] is True and due["valid"] is True
    # The same due date as CAVRA's schedule report.
    report = cli(
        "readiness", "--report", "schedule", "--json", "--now", NOW_TEXT, "--mode", "promoted",
        "--history", str(known), "--schedule", str(path),
    )  # fmt: skip
    assert_no_traceback(report)
    assert report.json()["schedule"]["next_due_at"] == due["next_due_at"]
    # From the environment too; the human output says when.
    env = {"CAVRA_GO_ROLLBACK_DRILL_SCHEDULE": str(path)}
    human = run(cli, "--history", str(known), "--now", NOW_TEXT, env=env).stderr
    assert f"next due       2026-03-07T00:00:00+00:00, in 5.5 days, due soon (schedule {path})" in human
    missing = as_json(cli, "--history", str(known), "--schedule", "nope.json")["figures"]["schedule"]
    assert missing["next_due_at"] is None and missing["message"] == "metadata file is missing"


def test_garbage_entries_are_rows_not_crashes(cli: Cli, tmp_path: Path) -> None:
    legacy: list[object] = ["garbage", 42, None, [], {"drill_id": "no-time"}, {"executed_at": "soon"}]
    path = write(tmp_path / "drills.json", history(sealed(KNOWN[:2], before=legacy)))
    out = as_json(cli, "--history", str(path))
    rows = out["drills"]
    assert [row["parseable"] for row in rows] == [False] * 6 + [True, True]
    assert rows[0]["problem"] == "not an object (a JSON string)"
    assert rows[4]["problem"] == "no valid executed_at, status"
    assert out["figures"]["unparseable"] == 6 and out["figures"]["pass_rate"] == 1.0
    assert out["chain"]["legacy"] == 6 and out["chain"]["sealed"] == 2
    human = run(cli, "--history", str(path), "--now", NOW_TEXT)
    assert human.returncode == 0
    assert "  0  unparseable entry: not an object (a JSON string)" in human.stderr
    assert "  2  unparseable entry: not an object (a JSON null)" in human.stderr


def test_garbage_only_and_empty_histories(cli: Cli, tmp_path: Path) -> None:
    garbage = write(tmp_path / "garbage.json", history(["x", 1, {"a": 1}]))
    out = as_json(cli, "--history", str(garbage))
    assert out["figures"]["parseable"] == 0 and out["figures"]["pass_rate"] is None
    assert out["chain"]["status"] == "unsealed"
    result = run(cli, "--history", str(garbage), "--now", NOW_TEXT)
    assert result.returncode == 0 and "pass rate      - (no parseable drill)" in result.stderr
    empty = write(tmp_path / "empty.json", history([]))
    result = run(cli, "--history", str(empty), "--now", NOW_TEXT)
    assert result.returncode == 0 and "no drills recorded" in result.stderr


def test_tampered_history_is_refused_in_one_line(cli: Cli, tmp_path: Path) -> None:
    drills = sealed(KNOWN)
    drills[2]["status"] = "pass"  # type: ignore[index]
    path = write(tmp_path / "drills.json", history(drills))
    result = run(cli, "--history", str(path))
    one_line_error(result, 3, "drill history is tampered: drills[2] (drill_03): edited", "history verify")


def test_forged_latest_drill_is_refused(cli: Cli, tmp_path: Path) -> None:
    drills = sealed(KNOWN)
    drills.append(record("forged", "2026-02-28T00:00:00Z"))
    path = write(tmp_path / "drills.json", history(drills))
    one_line_error(run(cli, "--history", str(path), "--json"), 3, "drills[6] (forged): unchained")


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        (b'{"schema_version": "cavra.go-backend-rollback-drill-history.v1", "drills": [{"drill', "invalid JSON"),
        (b"", "invalid JSON"),
        (b"\xff\xfe", "not UTF-8"),
        (b"[]", "must be a JSON object"),
        (json.dumps({"schema_version": "cavra.go-backend-rollback-plan.v1"}).encode(), "schema_version must be"),
        (b'{"schema_version": "cavra.go-backend-rollback-drill-history.v1", "drills": {}}', "drills must be a list"),
        (b'{"schema_version": "cavra.go-backend-rollback-drill-history.v1", "drills": [NaN]}', "NaN"),
    ],
    ids=["truncated", "empty", "not-utf8", "array", "foreign", "drills-object", "nan"],
)
def test_unreadable_histories_exit_3(cli: Cli, tmp_path: Path, content: bytes, fragment: str) -> None:
    path = tmp_path / "drills.json"
    path.write_bytes(content)
    one_line_error(run(cli, "--history", str(path)), 3, str(path), fragment)


def test_missing_and_directory_exit_3(cli: Cli, tmp_path: Path) -> None:
    one_line_error(run(cli, "--history", "absent.json"), 3, "absent.json", "does not exist")
    one_line_error(run(cli), 3, "cavra-drill-out/go-backend-rollback-drills.json")
    (tmp_path / "dir.json").mkdir()
    one_line_error(run(cli, "--history", "dir.json"), 3, "it is a directory")


@pytest.mark.parametrize(
    "args",
    [
        ["--last", "0"],
        ["--last", "x"],
        ["--now", "yesterday"],
        ["--max-age-days", "-1"],
        ["--max-age-days", "many"],
        ["--json", "verify"],
        ["--history", "x.json", "verify"],
        ["bogus"],
    ],
)
def test_usage_errors_exit_2(cli: Cli, known: Path, args: list[str]) -> None:
    result = run(cli, *args, env={"CAVRA_GO_ROLLBACK_DRILL_HISTORY": str(known)})
    assert result.returncode == 2, result.stderr
    assert result.stdout == ""
