"""The hash chain over history records: sealing, verifying, and the evidence binding (pure)."""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cavra_drill.contract.integrity import (
    BROKEN_LINK,
    DELETED,
    EDITED,
    EVIDENCE_MATCH,
    EVIDENCE_MISMATCH,
    EVIDENCE_MISMATCHED,
    EVIDENCE_NO_DIGEST,
    EVIDENCE_NOT_IN_HISTORY,
    EVIDENCE_UNIDENTIFIED,
    REORDERED,
    UNCHAINED,
    Verification,
    canonical_json,
    check_evidence,
    evidence_not_found,
    link_digest,
    record_digest,
    seal_record,
    sha256_hex,
    verify_chain,
)
from cavra_drill.store.history_store import append_drill

from .support import ENVIRONMENT, record, sealed


def _records(count: int) -> list[dict[str, Any]]:
    return [record(f"drill_{i:02d}", f"2026-01-{i + 1:02d}T00:00:00Z", recovery=i + 1) for i in range(count)]


def _kinds(drills: list[object]) -> list[tuple[int, str]]:
    return [(problem.index, problem.kind) for problem in verify_chain(drills).problems]


def test_first_record_has_no_previous_and_digest_covers_everything_but_itself() -> None:
    first = seal_record(record("drill_01", "2026-01-01T00:00:00Z"), [])
    assert first["previous_record_sha256"] is None
    body = {k: v for k, v in first.items() if k != "record_sha256"}
    expected = sha256_hex(json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8"))
    assert first["record_sha256"] == expected == record_digest(first)


def test_each_record_links_to_the_record_before_it() -> None:
    drills = sealed(_records(4))
    for before, after in itertools.pairwise(drills):
        assert isinstance(before, dict) and isinstance(after, dict)
        assert after["previous_record_sha256"] == before["record_sha256"]
    report = verify_chain(drills)
    assert report.intact and report.chained == 4 and report.legacy == 0
    assert report.head_sha256 == drills[-1]["record_sha256"]  # type: ignore[index]


def test_sealing_replaces_chain_fields_passed_in_and_normalises_to_json() -> None:
    forged = {**record("d", "2026-01-01T00:00:00Z"), "record_sha256": "f" * 64, "previous_record_sha256": "e" * 64}
    forged["evidence_refs"] = ("a://b",)  # a tuple reads back as a list
    result = seal_record(forged, [])
    assert result["previous_record_sha256"] is None
    assert result["evidence_refs"] == ["a://b"]
    assert result["record_sha256"] == record_digest(result)
    assert verify_chain([result]).intact


def test_a_history_begun_without_digests_is_sealed_from_its_first_cavra_drill_record() -> None:
    legacy: list[object] = [{"drill_id": "by-hand", "status": "pass"}, "garbage", 7]
    drills = sealed(_records(2), before=legacy)
    first = drills[3]
    assert isinstance(first, dict)
    assert first["previous_record_sha256"] == sha256_hex(canonical_json(7)) == link_digest(7)
    report = verify_chain(drills)
    assert report.intact and report.legacy == 3 and report.chained == 2
    # Editing a legacy entry breaks the first sealed record's link.
    edited = [drills[0], "garbage", 8, *drills[3:]]
    assert _kinds(edited) == [(3, DELETED)]


def test_nothing_sealed_is_not_tampered_and_has_a_head() -> None:
    report = verify_chain([{"drill_id": "x"}])
    assert report.intact and report.chained == 0 and report.legacy == 1
    assert report.head_sha256 == sha256_hex(canonical_json({"drill_id": "x"}))
    empty = verify_chain([])
    assert empty.intact and empty.head_sha256 is None


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("status", "fail"),
        ("recovery_minutes", 1.5),
        ("executed_at", "2026-02-01T00:00:00Z"),
        ("evidence_sha256", "1" * 64),
        ("note", "added field"),
    ],
)
def test_an_edited_field_is_named_with_its_record(field: str, value: object) -> None:
    drills = sealed(_records(4))
    target = drills[2]
    assert isinstance(target, dict)
    target[field] = value
    report = verify_chain(drills)
    assert [(p.index, p.drill_id, p.kind) for p in report.problems] == [(2, "drill_02", EDITED)]
    assert "edited" in report.problems[0].message


def test_a_removed_field_and_malformed_digests_are_edits() -> None:
    drills = sealed(_records(3))
    assert isinstance(drills[1], dict) and isinstance(drills[2], dict)
    del drills[1]["actor"]
    drills[2]["previous_record_sha256"] = 42
    kinds = _kinds(drills)
    assert kinds == [(1, EDITED), (2, EDITED), (2, EDITED)]  # its digest and its link field


def test_an_edit_resealed_breaks_the_next_link() -> None:
    drills = sealed(_records(4))
    target = drills[1]
    assert isinstance(target, dict)
    target["recovery_minutes"] = 0.5
    target["record_sha256"] = record_digest(target)  # the editor recomputed the digest
    assert _kinds(drills) == [(2, DELETED)]


def test_a_deleted_record_is_named_by_the_record_after_it() -> None:
    drills = sealed(_records(5))
    del drills[2]
    report = verify_chain(drills)
    (problem,) = report.problems
    assert (problem.index, problem.drill_id, problem.kind) == (2, "drill_03", DELETED)
    assert "no longer in the history" in problem.message


def test_deleting_the_first_records_is_detected() -> None:
    drills = sealed(_records(3))
    assert _kinds(drills[1:]) == [(0, DELETED)]


def test_swapped_records_are_reordered() -> None:
    drills = sealed(_records(5))
    drills[1], drills[3] = drills[3], drills[1]
    report = verify_chain(drills)
    first = report.problems[0]
    assert (first.index, first.drill_id, first.kind) == (1, "drill_03", REORDERED)
    assert "drills[2] (drill_02), which now comes after it" in first.message
    assert all(problem.kind == REORDERED for problem in report.problems)


def test_adjacent_swap_links_forward() -> None:
    drills = sealed(_records(3))
    drills[1], drills[2] = drills[2], drills[1]
    report = verify_chain(drills)
    assert (report.problems[0].index, report.problems[0].kind) == (1, REORDERED)
    assert "now comes after it" in report.problems[0].message


def test_a_record_inserted_before_the_first_breaks_its_link() -> None:
    drills = sealed(_records(2))
    forged = sealed([record("forged", "2025-12-01T00:00:00Z")])
    assert _kinds([*forged, *drills]) == [(1, BROKEN_LINK)]


def test_an_unsealed_entry_after_sealing_began_is_unchained() -> None:
    drills = sealed(_records(2))
    drills.append(record("forged-latest", "2026-12-01T00:00:00Z"))  # a fake passing latest drill
    report = verify_chain(drills)
    assert [(p.index, p.drill_id, p.kind) for p in report.problems] == [(2, "forged-latest", UNCHAINED)]


def test_duplicated_record_is_reordered() -> None:
    drills = sealed(_records(3))
    drills.insert(2, drills[1])
    assert _kinds(drills)[0] == (2, REORDERED)


def test_chain_across_real_appends(tmp_path: Path) -> None:
    path = tmp_path / "history.json"
    for item in _records(5):
        append_drill(path, item, environment=ENVIRONMENT)
    document = json.loads(path.read_bytes())
    drills = document["drills"]
    assert drills[0]["previous_record_sha256"] is None
    assert [d["previous_record_sha256"] for d in drills[1:]] == [d["record_sha256"] for d in drills[:-1]]
    report = verify_chain(drills)
    assert report.intact and report.chained == 5
    assert report.head_sha256 == drills[-1]["record_sha256"]


def test_appends_after_a_hand_written_history_link_to_its_last_entry(tmp_path: Path) -> None:
    path = tmp_path / "history.json"
    legacy = {"drill_id": "by-hand", "executed_at": "2025-12-01T00:00:00Z", "status": "pass"}
    document = {"schema_version": "cavra.go-backend-rollback-drill-history.v1", "drills": [legacy]}
    path.write_text(json.dumps(document), encoding="utf-8")
    for item in _records(2):
        append_drill(path, item, environment=ENVIRONMENT)
    drills = json.loads(path.read_bytes())["drills"]
    assert drills[1]["previous_record_sha256"] == sha256_hex(canonical_json(legacy))
    report = verify_chain(drills)
    assert report.intact and report.legacy == 1 and report.chained == 2


# --- the evidence file -------------------------------------------------------------------


def _evidence(drill_id: str) -> bytes:
    return (json.dumps({"schema_version": "x", "drill_id": drill_id}, indent=2) + "\n").encode()


def _with_evidence(drill_ids: list[str], raw: bytes, at: int) -> list[object]:
    items = [record(d, f"2026-01-0{i + 1}T00:00:00Z") for i, d in enumerate(drill_ids)]
    items[at]["evidence_sha256"] = sha256_hex(raw)
    return sealed(items)


def test_evidence_matching_its_record() -> None:
    raw = _evidence("drill_b")
    check = check_evidence(_with_evidence(["drill_a", "drill_b"], raw, 1), raw, path="e.json")
    assert (check.status, check.index, check.drill_id, check.path) == (EVIDENCE_MATCH, 1, "drill_b", "e.json")
    assert check.checked and check.problem is None


def test_edited_evidence_is_a_problem_of_its_record() -> None:
    raw = _evidence("drill_b")
    drills = _with_evidence(["drill_a", "drill_b"], raw, 1)
    edited = raw.replace(b"}", b', "recovery_minutes": 1}')
    check = check_evidence(drills, edited)
    assert check.status == EVIDENCE_MISMATCHED
    problem = check.problem
    assert problem is not None and (problem.index, problem.kind) == (1, EVIDENCE_MISMATCH)
    verification = Verification("h.json", verify_chain(drills), check, evidence_digests=2)
    assert verification.status == "tampered" and verification.problems == (problem,)
    assert verification.evidence_not_checked == 1


def test_evidence_of_another_history_or_without_drill_id_is_not_checked() -> None:
    raw = _evidence("drill_a")
    drills = _with_evidence(["drill_a"], raw, 0)
    assert check_evidence(drills, _evidence("elsewhere")).status == EVIDENCE_NOT_IN_HISTORY
    assert check_evidence(drills, b"not json").status == EVIDENCE_UNIDENTIFIED
    assert check_evidence(drills, b"\xff\xfe").status == EVIDENCE_UNIDENTIFIED
    # Matched by digest even when it names no drill.
    anonymous = b'{"note": "no drill id"}'
    drills[0]["evidence_sha256"] = sha256_hex(anonymous)  # type: ignore[index]
    assert check_evidence(drills, anonymous).status == EVIDENCE_MATCH


def test_evidence_for_a_record_without_digest_is_not_checked() -> None:
    drills: list[object] = [{"drill_id": "drill_a"}]
    check = check_evidence(drills, _evidence("drill_a"))
    assert (check.status, check.index) == (EVIDENCE_NO_DIGEST, 0) and not check.checked


def test_verification_states() -> None:
    absent = evidence_not_found("e.json", "no evidence file there")
    assert Verification("h", verify_chain(sealed(_records(2))), absent, 2).status == "intact"
    assert Verification("h", verify_chain([{"drill_id": "x"}]), absent, 0).status == "unsealed"
    assert Verification("h", verify_chain([]), absent, 0).status == "intact"
    result = Verification("h", verify_chain(sealed(_records(2))), absent, 2).as_json()
    assert result["evidence_not_checked"] == 2 and result["first_problem"] is None


# --- properties --------------------------------------------------------------------------

_values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**12), 10**12),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=8),
)
_records_strategy = st.lists(
    st.dictionaries(st.text(min_size=1, max_size=6), _values, max_size=4).map(lambda d: {"drill_id": "d", **d}),
    min_size=1,
    max_size=6,
)


@settings(max_examples=60, deadline=None)
@given(items=_records_strategy, data=st.data())
def test_any_sealed_history_verifies_and_any_edit_is_caught(items: list[dict[str, Any]], data: st.DataObject) -> None:
    drills = sealed(items)
    # Through the file format: the chain holds after a write and a read.
    reread = json.loads(json.dumps(drills, indent=2, ensure_ascii=False))
    assert verify_chain(reread).intact
    index = data.draw(st.integers(0, len(reread) - 1))
    target = reread[index]
    key = data.draw(st.sampled_from(sorted(target)))
    replacement = data.draw(_values.filter(lambda v: v != target[key] or type(v) is not type(target[key])))
    target[key] = replacement
    report = verify_chain(reread)
    assert not report.intact
    assert report.problems[0].index == index
