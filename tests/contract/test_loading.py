"""Contract §2 (loading any of the four files) and the §9 loading defects cavra-drill must not copy."""

from __future__ import annotations

import json
import os
from pathlib import Path

import cavra_samples as samples
import pytest

from cavra_drill.contract.documents import Document, parse_document
from cavra_drill.contract.history import judge_history
from cavra_drill.contract.plan import judge_plan
from cavra_drill.contract.rehearsal import judge_rehearsal
from cavra_drill.contract.reports import judge_all, rehearsal_report, rollback_report
from cavra_drill.contract.schedule import judge_schedule
from cavra_drill.formats.json_text import render_json
from cavra_drill.store.documents import read_document

INVALID = "metadata JSON is invalid: "


def _write(path: Path, raw: bytes) -> str:
    path.write_bytes(raw)
    return str(path)


# ---- §2 rule 1-4, each message -------------------------------------------------------------


def test_empty_path_is_not_configured() -> None:
    document = read_document("")
    assert document.data is None
    assert document.error == "metadata path is not configured"
    assert document.path == ""


def test_absent_file_is_missing(tmp_path: Path) -> None:
    document = read_document(str(tmp_path / "absent.json"))
    assert document.error == "metadata file is missing"


def test_directory_is_missing(tmp_path: Path) -> None:
    assert read_document(str(tmp_path)).error == "metadata file is missing"


def test_symlink_loop_is_missing(tmp_path: Path) -> None:
    (tmp_path / "a.json").symlink_to(tmp_path / "b.json")
    (tmp_path / "b.json").symlink_to(tmp_path / "a.json")
    assert read_document(str(tmp_path / "a.json")).error == "metadata file is missing"


def test_dangling_symlink_is_missing(tmp_path: Path) -> None:
    (tmp_path / "plan.json").symlink_to(tmp_path / "nowhere.json")
    assert read_document(str(tmp_path / "plan.json")).error == "metadata file is missing"


def test_fifo_is_missing_and_not_read(tmp_path: Path) -> None:
    fifo = tmp_path / "plan.json"
    os.mkfifo(fifo)
    assert read_document(str(fifo)).error == "metadata file is missing"


def test_path_with_nul_byte_is_missing() -> None:
    assert read_document("plan\0.json").error == "metadata file is missing"


def test_symlink_to_a_regular_file_loads(tmp_path: Path) -> None:
    target = samples.write_json(tmp_path / "real.json", samples.plan())
    (tmp_path / "link.json").symlink_to(target)
    document = read_document(str(tmp_path / "link.json"))
    assert document.error is None
    assert document.data == samples.plan()


def test_invalid_json_carries_the_decoder_text(tmp_path: Path) -> None:
    document = read_document(_write(tmp_path / "plan.json", b'{"status": }'))
    assert document.error == INVALID + "Expecting value: line 1 column 12 (char 11)"


def test_invalid_json_message_is_the_python_decoder_message() -> None:
    raw = '{"status": "ready",}'
    with pytest.raises(json.JSONDecodeError) as decoded:
        json.loads(raw)
    assert parse_document("p.json", raw.encode()).error == INVALID + str(decoded.value)


@pytest.mark.parametrize("raw", [b"[]", b'["a"]', b'"plan"', b"42", b"true", b"null"])
def test_json_that_is_not_an_object(raw: bytes) -> None:
    assert parse_document("p.json", raw).error == "metadata JSON must be an object"


def test_an_object_loads(tmp_path: Path) -> None:
    document = read_document(_write(tmp_path / "p.json", b'{"status": "ready"}'))
    assert document.error is None
    assert document.data == {"status": "ready"}
    assert document.path == str(tmp_path / "p.json")


# ---- hostile bytes: always a judged result, never a crash ----------------------------------


def test_empty_file_is_invalid_json(tmp_path: Path) -> None:
    document = read_document(_write(tmp_path / "p.json", b""))
    assert document.error == INVALID + "Expecting value: line 1 column 1 (char 0)"


def test_whitespace_only_file_is_invalid_json() -> None:
    assert parse_document("p.json", b"  \n\t").error == INVALID + "Expecting value: line 2 column 2 (char 4)"


def test_non_utf8_file_is_invalid_not_a_crash(tmp_path: Path) -> None:
    # §9: CAVRA crashes on this; cavra-drill reports it as invalid JSON.
    document = read_document(_write(tmp_path / "p.json", b'{"status": "r\xe9ady"}'))
    assert document.data is None
    assert document.error is not None
    assert document.error.startswith(INVALID)


def test_utf16_file_is_invalid() -> None:
    error = parse_document("p.json", '{"status": "ready"}'.encode("utf-16")).error
    assert error is not None
    assert error.startswith(INVALID)


def test_utf8_bom_is_invalid_as_python_json_reports_it() -> None:
    document = parse_document("p.json", b'\xef\xbb\xbf{"status": "ready"}')
    assert document.data is None
    assert document.error == INVALID + "Unexpected UTF-8 BOM (decode using utf-8-sig): line 1 column 1 (char 0)"


def test_non_ascii_utf8_loads() -> None:
    assert parse_document("p.json", '{"actor": "équipe"}'.encode()).data == {"actor": "équipe"}


@pytest.mark.parametrize("depth", [100_000])
def test_deeply_nested_array_is_invalid_not_a_crash(depth: int) -> None:
    document = parse_document("p.json", b"[" * depth + b"]" * depth)
    assert document.data is None
    assert document.error is not None
    assert document.error.startswith(INVALID)


def test_deeply_nested_value_inside_an_object_is_invalid_not_a_crash() -> None:
    depth = 100_000
    raw = b'{"controls": ' + b'{"a": ' * depth + b"1" + b"}" * depth + b"}"
    document = parse_document("p.json", raw)
    assert document.data is None
    judged = judge_plan(document)
    assert judged.valid is False
    assert judged.message == document.error


def test_integer_beyond_python_conversion_limit_is_invalid_not_a_crash() -> None:
    raw = b'{"max_recovery_minutes": ' + b"9" * 5000 + b"}"
    document = parse_document("p.json", raw)
    assert document.data is None
    assert document.error is not None
    assert document.error.startswith(INVALID)


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_non_finite_constants_are_never_numbers(constant: str) -> None:
    # §9: Python's decoder accepts them and CAVRA takes Infinity for a positive number.
    plan_raw = json.dumps(samples.plan()).replace('"max_recovery_minutes": 15', f'"max_recovery_minutes": {constant}')
    plan = judge_plan(parse_document("plan.json", plan_raw.encode()))
    assert plan.valid is False
    assert "rollback plan must include positive max_recovery_minutes" in plan.message
    assert plan.max_recovery_minutes is None

    evidence = samples.rehearsal()
    del evidence["max_recovery_minutes"]
    raw = json.dumps(evidence)[:-1] + f', "max_recovery_minutes": {constant}}}'
    judged = judge_rehearsal(parse_document("ev.json", raw.encode()), None)
    assert judged.recovery_sla_met is False
    assert judged.max_recovery_minutes is None


def test_infinite_recovery_minutes_is_not_a_number() -> None:
    raw = json.dumps(samples.rehearsal()).replace('"recovery_minutes": 6', '"recovery_minutes": -Infinity')
    judged = judge_rehearsal(parse_document("ev.json", raw.encode()), None)
    assert judged.recovery_sla_met is False
    assert judged.recovery_minutes is None


def test_non_finite_values_never_reach_printed_reports() -> None:
    raw = json.dumps(samples.plan()).replace('"max_recovery_minutes": 15', '"max_recovery_minutes": NaN')
    judgements = judge_all(
        mode="promoted",
        now=samples.NOW,
        plan=parse_document("plan.json", raw.encode()),
        rehearsal=parse_document("ev.json", b'{"recovery_minutes": Infinity, "runbook_ref": NaN}'),
        history=Document("", None, "metadata path is not configured"),
        schedule=Document("", None, "metadata path is not configured"),
        max_age_days=90.0,
        due_soon_days=14.0,
    )
    for report in (rollback_report(judgements), rehearsal_report(judgements)):
        text = render_json(report)
        json.loads(text, parse_constant=lambda name: pytest.fail(f"non-standard {name} printed"))


# ---- a file that fails to load fails every content rule ------------------------------------


def test_a_file_that_fails_to_load_fails_every_rule() -> None:
    missing = Document("x.json", None, "metadata file is missing")
    plan = judge_plan(missing)
    assert (plan.valid, plan.approved, plan.approval_id) == (False, False, "")
    assert plan.missing_controls == sorted(samples.REQUIRED_CONTROLS)
    assert plan.message == "metadata file is missing"

    evidence = judge_rehearsal(missing, None)
    assert not any(
        (
            evidence.valid,
            evidence.simulated,
            evidence.fallback_verified,
            evidence.recovery_sla_met,
            evidence.evidence_refs_ok,
        )
    )
    assert evidence.message == "metadata file is missing"

    history = judge_history(missing, now=samples.NOW, max_age_days=90.0)
    assert not any(
        (
            history.valid,
            history.passed,
            history.target_disabled,
            history.fallback_verified,
            history.recovery_sla_met,
            history.fresh,
        )
    )
    assert history.message == "metadata file is missing"

    schedule = judge_schedule(missing, history, now=samples.NOW, due_soon_days=14.0)
    assert (schedule.valid, schedule.active, schedule.cadence_ok, schedule.stale, schedule.routes_ok) == (
        False,
        False,
        False,
        True,
        False,
    )
    assert schedule.message == "metadata file is missing"
