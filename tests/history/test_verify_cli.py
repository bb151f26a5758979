"""`cavra-drill history verify` through the real CLI: exit 0 intact, 1 tampered, 3 unreadable."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from clirun import CliResult, assert_no_traceback

from cavra_drill.contract.integrity import sha256_hex

from .support import history, read, record, sealed, write

Cli = Callable[..., CliResult]
EVIDENCE = "go-backend-rollback-rehearsal.json"


def verify(cli: Cli, *args: str, env: dict[str, str] | None = None) -> CliResult:
    result = cli("history", "verify", *args, env=env)
    assert_no_traceback(result)
    return result


def verify_json(cli: Cli, *args: str, code: int = 0, env: dict[str, str] | None = None) -> Any:
    result = verify(cli, "--json", *args, env=env)
    assert result.returncode == code, result.stderr
    assert result.stderr == ""
    return result.json()


def evidence_bytes(drill_id: str) -> bytes:
    body = {"schema_version": "cavra.go-backend-rollback-rehearsal.v1", "status": "pass", "drill_id": drill_id}
    return (json.dumps(body, indent=2) + "\n").encode()


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    """A history of five sealed drills, and the latest drill's evidence next to it (as `run` leaves them)."""
    raw = evidence_bytes("drill_5")
    items = [record(f"drill_{i}", f"2026-01-0{i}T00:00:00Z") for i in range(1, 6)]
    items[-1]["evidence_sha256"] = sha256_hex(raw)
    write(tmp_path / "drills.json", history(sealed(items)))
    (tmp_path / EVIDENCE).write_bytes(raw)
    return tmp_path


def edit(path: Path, change: Callable[[list[Any]], None]) -> None:
    document = read(path)
    change(document["drills"])
    write(path, document)


def test_intact(cli: Cli, workdir: Path) -> None:
    out = verify_json(cli, "--history", "drills.json")
    drills = read(workdir / "drills.json")["drills"]
    assert out["status"] == "intact"
    assert (out["entries"], out["sealed"], out["legacy"]) == (5, 5, 0)
    assert out["head_sha256"] == drills[-1]["record_sha256"]
    assert out["first_problem"] is None and out["problems"] == [] and out["problem_count"] == 0
    assert out["evidence"]["status"] == "match" and out["evidence"]["index"] == 4
    assert out["evidence"]["drill_id"] == "drill_5" and out["evidence"]["path"] == EVIDENCE
    assert out["evidence_not_checked"] == 4
    human = verify(cli, "--history", "drills.json")
    assert human.returncode == 0 and human.stdout == ""
    assert "drills.json: INTACT" in human.stderr
    assert f"head sha256: {drills[-1]['record_sha256']}" in human.stderr
    assert "evidence of 4 other records: not checked (only the latest evidence file is kept)" in human.stderr


def test_default_history_is_where_run_writes_it(cli: Cli, workdir: Path) -> None:
    out_dir = workdir / "cavra-drill-out"
    out_dir.mkdir()
    (workdir / "drills.json").rename(out_dir / "go-backend-rollback-drills.json")
    (workdir / EVIDENCE).rename(out_dir / EVIDENCE)
    out = verify_json(cli)
    assert out["history"] == "cavra-drill-out/go-backend-rollback-drills.json"
    assert out["evidence"]["status"] == "match"
    moved = verify_json(cli, env={"CAVRA_GO_ROLLBACK_DRILL_HISTORY": str(out_dir / "go-backend-rollback-drills.json")})
    assert moved["status"] == "intact"


def test_edited_field(cli: Cli, workdir: Path) -> None:
    edit(workdir / "drills.json", lambda drills: drills[1].update(recovery_minutes=0.5))
    out = verify_json(cli, "--history", "drills.json", code=1)
    assert out["status"] == "tampered"
    assert out["first_problem"]["index"] == 1 and out["first_problem"]["drill_id"] == "drill_2"
    assert out["first_problem"]["kind"] == "edited"
    human = verify(cli, "--history", "drills.json")
    assert human.returncode == 1
    assert "TAMPERED" in human.stderr
    assert "first broken: drills[1] (drill_2): edited: its contents do not match its record_sha256" in human.stderr


def test_deleted_record(cli: Cli, workdir: Path) -> None:
    edit(workdir / "drills.json", lambda drills: drills.pop(2))
    out = verify_json(cli, "--history", "drills.json", code=1)
    assert out["first_problem"]["index"] == 2 and out["first_problem"]["drill_id"] == "drill_4"
    assert out["first_problem"]["kind"] == "deleted"
    assert out["problem_count"] == 1


def test_swapped_records(cli: Cli, workdir: Path) -> None:
    def swap(drills: list[Any]) -> None:
        drills[1], drills[2] = drills[2], drills[1]

    edit(workdir / "drills.json", swap)
    out = verify_json(cli, "--history", "drills.json", code=1)
    assert (out["first_problem"]["index"], out["first_problem"]["kind"]) == (1, "reordered")
    assert out["first_problem"]["drill_id"] == "drill_3"


def test_edited_evidence_file(cli: Cli, workdir: Path) -> None:
    raw = (workdir / EVIDENCE).read_bytes()
    (workdir / EVIDENCE).write_bytes(raw.replace(b'"pass"', b'"fail"'))
    out = verify_json(cli, "--history", "drills.json", code=1)
    assert out["evidence"]["status"] == "mismatch"
    assert out["first_problem"] == {
        "index": 4,
        "drill_id": "drill_5",
        "kind": "evidence_mismatch",
        "message": out["evidence"]["message"],
    }
    human = verify(cli, "--history", "drills.json")
    assert human.returncode == 1
    assert "first broken: drills[4] (drill_5): evidence_mismatch" in human.stderr


def test_evidence_flag_and_environment(cli: Cli, workdir: Path) -> None:
    (workdir / "elsewhere.json").write_bytes((workdir / EVIDENCE).read_bytes())
    (workdir / EVIDENCE).unlink()
    absent = verify_json(cli, "--history", "drills.json")
    assert absent["evidence"]["status"] == "absent" and absent["evidence_not_checked"] == 5
    by_flag = verify_json(cli, "--history", "drills.json", "--evidence", "elsewhere.json")
    assert by_flag["evidence"]["status"] == "match"
    env = {"CAVRA_GO_ROLLBACK_REHEARSAL_EVIDENCE": "elsewhere.json"}
    assert verify_json(cli, "--history", "drills.json", env=env)["evidence"]["status"] == "match"
    (workdir / "other.json").write_bytes(evidence_bytes("drill_of_another_history"))
    other = verify_json(cli, "--history", "drills.json", "--evidence", "other.json")
    assert other["evidence"]["status"] == "not_in_history" and other["status"] == "intact"


def test_unsealed_history_is_not_tampered(cli: Cli, tmp_path: Path) -> None:
    write(tmp_path / "drills.json", history([record("by-hand", "2026-01-01T00:00:00Z"), "garbage"]))
    out = verify_json(cli, "--history", "drills.json")
    assert out["status"] == "unsealed" and out["legacy"] == 2 and out["head_sha256"] is not None
    human = verify(cli, "--history", "drills.json")
    assert human.returncode == 0 and "nothing to verify" in human.stderr


def test_empty_history_is_intact(cli: Cli, tmp_path: Path) -> None:
    write(tmp_path / "drills.json", {"schema_version": "cavra.go-backend-rollback-drill-history.v1", "drills": []})
    out = verify_json(cli, "--history", "drills.json")
    assert out["status"] == "intact" and out["entries"] == 0 and out["head_sha256"] is None


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        (b"", "invalid JSON"),
        (b'{"schema_version": "cavra.go-backend-rollback-drill-history.v1", "drills": [', "invalid JSON"),
        (b'{"schema_version": "cavra.go-backend-rollback-rehearsal.v1"}', "schema_version must be"),
        (b'{"schema_version": "cavra.go-backend-rollback-drill-history.v1"}', "drills must be a list"),
        (b"\xff", "not UTF-8"),
    ],
    ids=["empty", "truncated", "foreign", "no-drills", "not-utf8"],
)
def test_unreadable_history_exits_3(cli: Cli, tmp_path: Path, content: bytes, fragment: str) -> None:
    (tmp_path / "drills.json").write_bytes(content)
    for args in ([], ["--json"]):
        result = verify(cli, "--history", "drills.json", *args)
        assert result.returncode == 3 and result.stdout == ""
        assert result.stderr.count("\n") == 1 and fragment in result.stderr


def test_missing_files_exit_3(cli: Cli, workdir: Path) -> None:
    for args, fragment in (
        (["--history", "absent.json"], "absent.json: no drill history there"),
        (["--history", "drills.json", "--evidence", "absent.json"], "absent.json: no evidence file there"),
        (["--history", "drills.json", "--evidence", "."], "evidence is not a regular file"),
    ):
        result = verify(cli, *args)
        assert result.returncode == 3, result.stderr
        assert result.stderr.count("\n") == 1 and fragment in result.stderr
