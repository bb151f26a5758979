"""`cavra-drill report --out FILE` through the real CLI: exit codes, what is written, what is refused."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import cavra_samples as samples
import pytest
from clirun import CliResult, assert_no_traceback

from cavra_drill.contract.integrity import seal_record

Cli = Callable[..., CliResult]

NOW = samples.zulu(samples.NOW)
FILES = {"plan": "plan.json", "rehearsal": "rehearsal.json", "history": "drills.json", "schedule": "schedule.json"}


def write_samples(directory: Path, **overrides: object) -> None:
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


def report(cli: Cli, *args: str, env: dict[str, str] | None = None) -> CliResult:
    result = cli("report", "--now", NOW, *args, env=env)
    assert_no_traceback(result)
    return result


def lines(result: CliResult) -> list[str]:
    return result.stderr.splitlines()


# ---- exit 0 and 1 ----------------------------------------------------------------------------


def test_ready_exits_0_and_writes_one_self_contained_page(cli: Cli, tmp_path: Path) -> None:
    write_samples(tmp_path)
    result = report(cli, "--mode", "promoted", *file_flags(), "--out", "report.html")
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    assert lines(result) == ["production readiness (rollback part): ready; wrote report.html"]
    page = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and page.endswith("</html>\n")
    assert 'class="banner s-ready"' in page
    assert "http://" not in page and "https://" not in page
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([*FILES.values(), "report.html"])


def test_needs_attention_exits_1_and_counts_failed_rules(cli: Cli, tmp_path: Path) -> None:
    stale = samples.history(samples.drill(samples.zulu(samples.NOW - timedelta(days=120))))
    write_samples(tmp_path, history=stale)
    result = report(cli, "--mode", "promoted", *file_flags(), "--out", "report.html")
    assert result.returncode == 1
    assert lines(result) == ["production readiness (rollback part): needs_attention, 1 failed rule; wrote report.html"]
    page = (tmp_path / "report.html").read_text()
    assert "latest rollback drill is missing, invalid, or stale" in page


def test_settings_come_from_cavra_variables_and_flags_win(cli: Cli, tmp_path: Path) -> None:
    write_samples(tmp_path)
    env = {
        "CAVRA_GO_BACKEND_MODE": "promoted",
        "CAVRA_GO_ROLLBACK_PLAN": "plan.json",
        "CAVRA_GO_ROLLBACK_REHEARSAL_EVIDENCE": "rehearsal.json",
        "CAVRA_GO_ROLLBACK_DRILL_HISTORY": "drills.json",
        "CAVRA_GO_ROLLBACK_DRILL_SCHEDULE": "schedule.json",
    }
    assert report(cli, "--out", "a.html", env=env).returncode == 0
    # A tighter freshness window on the command line beats the default: the 3-day-old drill is stale.
    assert report(cli, "--out", "b.html", "--max-age-days", "1", env=env).returncode == 1
    assert "latest rollback drill is missing, invalid, or stale" in (tmp_path / "b.html").read_text()


def test_not_requested_is_ready(cli: Cli, tmp_path: Path) -> None:
    result = report(cli, "--out", "report.html")
    assert result.returncode == 0
    assert "No drill history is configured" in (tmp_path / "report.html").read_text()


def test_an_existing_page_is_replaced_whole(cli: Cli, tmp_path: Path) -> None:
    write_samples(tmp_path)
    (tmp_path / "report.html").write_text("old")
    assert report(cli, "--mode", "promoted", *file_flags(), "--out", "report.html").returncode == 0
    assert (tmp_path / "report.html").read_text().startswith("<!DOCTYPE html>")
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".report.html.tmp")]


# ---- usage: exit 2 ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--now", "yesterday", "--out", "report.html"], "--now: 'yesterday' is not an ISO-8601 timestamp"),
        (["--max-age-days", "soon", "--out", "report.html"], "--max-age-days: 'soon' is not a number of days"),
        (["--due-soon-days", "-1", "--out", "report.html"], "--due-soon-days: must be a non-negative number"),
        ([], "Missing option '--out'"),
    ],
)
def test_usage_errors_exit_2_and_write_nothing(cli: Cli, tmp_path: Path, args: list[str], words: str) -> None:
    result = cli("report", *args)
    assert_no_traceback(result)
    assert result.returncode == 2
    assert words in result.stderr
    assert not (tmp_path / "report.html").exists()


# ---- output refused: exit 3 ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("out", "words"),
    [
        ("no-such-dir/report.html", "directory no-such-dir does not exist"),
        ("plan.json/report.html", "plan.json is not a directory"),
        ("a-directory", "it is a directory"),
        ("/dev/null", "it is not a regular file"),
    ],
)
def test_unwritable_out_exits_3_and_writes_nothing(cli: Cli, tmp_path: Path, out: str, words: str) -> None:
    write_samples(tmp_path)
    (tmp_path / "a-directory").mkdir()
    before = sorted(p.name for p in tmp_path.iterdir())
    result = report(cli, "--mode", "promoted", *file_flags(), "--out", out)
    assert result.returncode == 3
    assert lines(result) == [f"cavra-drill: cannot write report {out}: {words}"]
    assert sorted(p.name for p in tmp_path.iterdir()) == before


@pytest.mark.parametrize("name", ["plan", "rehearsal", "history", "schedule"])
def test_out_may_not_be_one_of_the_files_reported_on(cli: Cli, tmp_path: Path, name: str) -> None:
    write_samples(tmp_path)
    before = (tmp_path / FILES[name]).read_bytes()
    result = report(cli, "--mode", "promoted", *file_flags(), "--out", f"./{FILES[name]}")
    assert result.returncode == 3
    assert "being reported on" in result.stderr
    assert (tmp_path / FILES[name]).read_bytes() == before


def test_a_page_that_would_not_be_public_safe_is_refused_with_exit_3(cli: Cli, tmp_path: Path) -> None:
    leaky = samples.history(
        samples.drill(samples.zulu(samples.NOW - timedelta(days=5)), drill_id="ops@corp.example.com"),
        samples.drill(),
    )
    write_samples(tmp_path, history=leaky)
    result = report(cli, "--mode", "promoted", *file_flags(), "--out", "report.html")
    assert result.returncode == 3
    assert lines(result) == [
        "cavra-drill: report report.html: refusing to write: drills[0].drill_id: looks like an e-mail address"
    ]
    assert "corp" not in result.stderr
    assert not (tmp_path / "report.html").exists()


# ---- histories that are truncated, tampered with or not histories ----------------------------


def history_bytes() -> bytes:
    drills = [samples.drill(samples.zulu(samples.NOW - timedelta(days=d)), drill_id=f"d{d}") for d in (9, 6, 3)]
    return json.dumps(samples.history(*drills), indent=2).encode()


@pytest.mark.parametrize(
    ("make", "warning"),
    [
        (lambda raw: raw[: len(raw) // 2], "is unreadable (metadata JSON is invalid: "),
        (lambda raw: b"", "is unreadable (metadata JSON is invalid: Expecting value: line 1 column 1 (char 0))"),
        (lambda raw: raw.replace(b'"d6"', b'"d\xff6"'), "is unreadable (metadata JSON is invalid: file is not UTF-8"),
        (
            lambda raw: json.dumps(samples.plan()).encode(),
            "is not a drill history (its schema_version is not cavra.go-backend-rollback-drill-history.v1)",
        ),
        (
            lambda raw: raw.replace(b'"drills": [', b'"drills": {"x": [').replace(b"]\n}", b"]}\n}"),
            "is not a drill history (its drills field is not a list)",
        ),
        (lambda raw: b"[1, 2, 3]", "is unreadable (metadata JSON must be an object)"),
    ],
    ids=["truncated", "empty", "not-utf8", "foreign-plan", "drills-not-a-list", "array"],
)
def test_a_damaged_history_gives_one_line_exit_1_and_a_page_that_says_so(
    cli: Cli, tmp_path: Path, make: Callable[[bytes], bytes], warning: str
) -> None:
    write_samples(tmp_path)
    (tmp_path / "drills.json").write_bytes(make(history_bytes()))
    result = report(cli, "--mode", "promoted", *file_flags(), "--out", "report.html")
    assert result.returncode == 1, result.stderr
    page = (tmp_path / "report.html").read_text()
    assert 'class="banner s-needs_attention"' in page
    (line, summary) = lines(result)
    prefix = (
        "cavra-drill: drills.json " if "not a drill history" in warning else "cavra-drill: drill history drills.json "
    )
    assert line.startswith(prefix + warning), line
    assert line.endswith("; the report shows CAVRA's verdict, no chart")
    assert summary.startswith("production readiness (rollback part): needs_attention")
    assert "History unreadable." in page


def test_old_entries_tampered_into_garbage_are_counted_and_the_verdict_stays_cavras(cli: Cli, tmp_path: Path) -> None:
    raw = history_bytes().replace(b'"recovery_minutes": 7', b'"recovery_minutes": NaN', 1)  # the oldest drill
    history = json.loads(raw)
    history["drills"].insert(0, "gone")
    history["drills"][2]["executed_at"] = "last tuesday"
    write_samples(tmp_path, history=history)  # json.dumps writes the NaN back as NaN
    result = report(cli, "--mode", "promoted", *file_flags(), "--out", "report.html")
    assert result.returncode == 0  # CAVRA judges the latest drill only, and it is fine
    assert lines(result) == [
        "cavra-drill: drill history drills.json: 3 of 4 entries not charted (1 not a JSON object; "
        "1 executed_at missing or unparseable; 1 recovery_minutes missing, not a positive number or out of range)",
        "production readiness (rollback part): ready; wrote report.html",
    ]
    page = (tmp_path / "report.html").read_text()
    assert "3 of 4 history entries cannot be charted" in page
    assert page.count('<g class="mark passed">') == 1


# ---- a history sealed by cavra-drill, then edited ---------------------------------------------


def sealed_history() -> dict[str, object]:
    drills: list[object] = []
    for days in (9, 6, 3):
        drills.append(
            seal_record(samples.drill(samples.zulu(samples.NOW - timedelta(days=days)), drill_id=f"d{days}"), drills)
        )
    return samples.history(*drills)


def test_an_intact_sealed_history_says_so_and_exits_0(cli: Cli, tmp_path: Path) -> None:
    write_samples(tmp_path, history=sealed_history())
    result = report(cli, "--mode", "promoted", *file_flags(), "--out", "report.html")
    assert result.returncode == 0, result.stderr
    assert "intact: 3 sealed" in (tmp_path / "report.html").read_text()


@pytest.mark.parametrize(
    ("edit", "problem"),
    [
        (lambda raw: raw.replace(b'"recovery_minutes": 7', b'"recovery_minutes": 1', 2), "drills[0] (d9): edited: "),
        (lambda raw: raw.replace(b'"status": "pass"', b'"status": "pass", "note": NaN', 1), "drills[0] (d9): edited: "),
    ],
    ids=["edited-minutes", "nan-added"],
)
def test_a_tampered_sealed_history_exits_1_with_one_line_even_when_cavra_says_ready(
    cli: Cli, tmp_path: Path, edit: Callable[[bytes], bytes], problem: str
) -> None:
    write_samples(tmp_path)
    (tmp_path / "drills.json").write_bytes(edit(json.dumps(sealed_history(), indent=2).encode()))
    result = report(cli, "--mode", "promoted", *file_flags(), "--out", "report.html")
    assert result.returncode == 1
    (line, summary) = lines(result)
    assert line.startswith(f"cavra-drill: drill history drills.json is tampered: {problem}"), line
    assert line.endswith("; exit 1 whatever CAVRA's verdict")
    assert summary == "production readiness (rollback part): ready; wrote report.html"
    page = (tmp_path / "report.html").read_text()
    assert "History tampered with." in page and "Hash chain problems" in page
    assert 'class="banner s-ready"' in page  # CAVRA's verdict, which does not look at the chain
