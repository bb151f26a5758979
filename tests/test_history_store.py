"""The locked drill-history append, with real files and real competing processes."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from cavra_drill.contract.integrity import canonical_json, record_digest, sha256_hex, verify_chain
from cavra_drill.errors import EXIT_ENVIRONMENT, EXIT_INPUT, EnvironmentFault, InputError
from cavra_drill.store.history_store import HISTORY_SCHEMA, append_drill, read_history_for_append


def _drill(drill_id: str, **extra: object) -> dict[str, object]:
    return {
        "drill_id": drill_id,
        "executed_at": "2026-11-29T16:01:02Z",
        "actor": "release-agent",
        "source_mode": "promoted",
        "target_mode": "disabled",
        "status": "pass",
        "fallback_verified": True,
        "recovery_minutes": 0.0123,
        "max_recovery_minutes": 15,
        "runbook_ref": "docs/go-backend-rollback-rehearsal.md",
        "evidence_refs": [f"go-rollback-drill://ci/{drill_id}"],
        **extra,
    }


def _drills(document: dict[str, object]) -> list[Any]:
    drills = document["drills"]
    assert isinstance(drills, list)
    return drills


def _without_digest(record: dict[str, Any]) -> dict[str, Any]:
    """The appended record without its own digest (checked separately with record_digest)."""
    assert record["record_sha256"] == record_digest(record)
    return {k: v for k, v in record.items() if k != "record_sha256"}


def _leftovers(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if ".tmp" in p.name)


def test_absent_history_reads_as_none(tmp_path: Path) -> None:
    assert read_history_for_append(tmp_path / "history.json") is None


def test_append_creates_the_history(tmp_path: Path) -> None:
    path = tmp_path / "history.json"
    document = append_drill(path, _drill("drill_1"), environment="production-pilot")
    (record,) = _drills(document)
    assert document == {
        "schema_version": HISTORY_SCHEMA,
        "environment": "production-pilot",
        "drills": [{**_drill("drill_1"), "previous_record_sha256": None, "record_sha256": record_digest(record)}],
    }
    assert path.read_text(encoding="utf-8") == json.dumps(document, indent=2) + "\n"


def test_append_keeps_earlier_drills_and_the_recorded_environment(tmp_path: Path) -> None:
    path = tmp_path / "history.json"
    earlier: list[object] = [{"drill_id": "older", "note": "kept as written"}, "not an object"]
    handwritten = {
        "schema_version": HISTORY_SCHEMA,
        "environment": "production-pilot",
        "drills": earlier,
        "owner_note": "unknown fields survive",
    }
    path.write_text(json.dumps(handwritten), encoding="utf-8")
    document = append_drill(path, _drill("drill_2"), environment="production-pilot")
    assert document["environment"] == "production-pilot"
    assert document["owner_note"] == "unknown fields survive"
    *kept, new = _drills(document)
    assert kept == earlier
    # The first sealed record links to the digest of the legacy entry before it.
    legacy_link = sha256_hex(canonical_json("not an object"))
    assert _without_digest(new) == {**_drill("drill_2"), "previous_record_sha256": legacy_link}
    assert json.loads(path.read_bytes()) == document
    assert _leftovers(tmp_path) == []


def test_append_refuses_a_history_of_another_environment_under_the_lock(tmp_path: Path) -> None:
    # Checked under the lock: the history may have been created by another drill since the
    # caller's preflight looked and found none.
    path = tmp_path / "history.json"
    append_drill(path, _drill("staging_drill"), environment="staging")
    before = path.read_bytes()
    with pytest.raises(InputError, match="records environment 'staging', not 'production'"):
        append_drill(path, _drill("production_drill"), environment="production")
    assert path.read_bytes() == before
    assert _leftovers(tmp_path) == []


def test_append_to_empty_drills_list(tmp_path: Path) -> None:
    path = tmp_path / "history.json"
    path.write_text(json.dumps({"schema_version": HISTORY_SCHEMA, "drills": []}), encoding="utf-8")
    (record,) = _drills(append_drill(path, _drill("d"), environment="x"))
    assert _without_digest(record) == {**_drill("d"), "previous_record_sha256": None}


_VALID_HEAD = '{"schema_version": "' + HISTORY_SCHEMA + '", '

INVALID_FILES: list[tuple[str, bytes, str]] = [
    ("not-utf8", b'{"schema_version": "\xff\xfe"}', "it is not UTF-8 (byte 20)"),
    ("empty", b"", "invalid JSON: Expecting value (line 1 column 1)"),
    ("truncated", _VALID_HEAD.encode() + b'"drills": [', "invalid JSON: Expecting value"),
    ("nan", (_VALID_HEAD + '"drills": [NaN]}').encode(), "NaN is not a JSON number"),
    ("infinity", (_VALID_HEAD + '"drills": [Infinity]}').encode(), "Infinity is not"),
    ("minus-infinity", (_VALID_HEAD + '"drills": [-Infinity]}').encode(), "-Infinity is not"),
    ("bom", b"\xef\xbb\xbf" + (_VALID_HEAD + '"drills": []}').encode(), "invalid JSON"),
    ("array", b"[]", "the top level must be a JSON object"),
    ("string", b'"history"', "the top level must be a JSON object"),
    ("no-schema", b'{"drills": []}', f"schema_version must be {HISTORY_SCHEMA}"),
    ("plan-schema", b'{"schema_version": "cavra.go-backend-rollback-plan.v1", "drills": []}',
     "schema_version must be"),
    ("no-drills", (_VALID_HEAD + '"environment": "x"}').encode(), "drills must be a list"),
    ("drills-object", (_VALID_HEAD + '"drills": {}}').encode(), "drills must be a list"),
    ("drills-null", (_VALID_HEAD + '"drills": null}').encode(), "drills must be a list"),
    ("too-deep", b"[" * 100_000 + b"]" * 100_000, "invalid JSON"),
    ("huge-float", (_VALID_HEAD + '"drills": [{"recovery_minutes": 1e400}]}').encode(),
     "a number is too large for a float"),
    ("huge-int", (_VALID_HEAD + '"drills": [' + "9" * 5000 + "]}").encode(),
     "invalid JSON: a number has too many digits"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("content", "reason"), [(c, r) for _, c, r in INVALID_FILES], ids=[i for i, _, _ in INVALID_FILES]
)
def test_invalid_history_is_refused_and_left_untouched(tmp_path: Path, content: bytes, reason: str) -> None:
    path = tmp_path / "history.json"
    path.write_bytes(content)
    prefix = f"{path}: drill history is not a valid history: "
    with pytest.raises(InputError) as read_error:
        read_history_for_append(path)
    with pytest.raises(InputError) as append_error:
        append_drill(path, _drill("d"), environment="production-pilot")
    for caught in (read_error, append_error):
        assert caught.value.exit_code == EXIT_INPUT
        assert caught.value.message.startswith(prefix + reason)
        assert "\n" not in caught.value.message
    assert path.read_bytes() == content
    assert _leftovers(tmp_path) == []


def test_directory_at_history_path_is_an_input_error(tmp_path: Path) -> None:
    path = tmp_path / "history.json"
    path.mkdir()
    with pytest.raises(InputError, match="it is a directory"):
        read_history_for_append(path)
    with pytest.raises(InputError, match="it is a directory"):
        append_drill(path, _drill("d"), environment="production-pilot")


def test_missing_directory_is_refused_not_created(tmp_path: Path) -> None:
    path = tmp_path / "no-such-dir" / "history.json"
    with pytest.raises(InputError, match="does not exist"):
        append_drill(path, _drill("d"), environment="production-pilot")
    # filelock would create the directory for its lock file; the preflight must stop it first.
    assert not path.parent.exists()


def test_unsafe_drill_is_refused_without_writing(tmp_path: Path) -> None:
    path = tmp_path / "history.json"
    append_drill(path, _drill("first"), environment="production-pilot")
    before = path.read_bytes()
    host = "build01.corp.example.com"
    with pytest.raises(InputError) as caught:
        append_drill(path, _drill("second", actor=host), environment="production-pilot")
    assert caught.value.message == (f"drill history {path}: refusing to write: drills[1].actor: looks like a hostname")
    assert host not in caught.value.message
    assert path.read_bytes() == before


def test_unsafe_environment_is_refused_when_creating(tmp_path: Path) -> None:
    path = tmp_path / "history.json"
    with pytest.raises(InputError, match=r"refusing to write: environment: looks like an IPv4"):
        append_drill(path, _drill("d"), environment="192.0.2.8")
    assert not path.exists()


_HOLDER = """
import sys
from filelock import FileLock
lock = FileLock(sys.argv[1] + ".lock")
with lock:
    print("locked", flush=True)
    sys.stdin.read()
"""


def test_busy_lock_is_an_environment_fault(tmp_path: Path) -> None:
    path = tmp_path / "history.json"
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLDER, str(path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdin is not None
        assert holder.stdout.readline() == "locked\n"
        started = time.monotonic()
        with pytest.raises(EnvironmentFault) as caught:
            append_drill(path, _drill("d"), environment="production-pilot", lock_timeout=0.5)
        waited = time.monotonic() - started
        assert caught.value.exit_code == EXIT_ENVIRONMENT
        assert caught.value.message == (f"drill history {path} is locked by another process (waited 0.5 s)")
        assert 0.4 <= waited < 3.0
        assert not path.exists()
        holder.stdin.close()  # the holder releases the lock and exits
        assert holder.wait(timeout=10) == 0
    finally:
        if holder.poll() is None:
            holder.kill()
            holder.wait()
    append_drill(path, _drill("d"), environment="production-pilot", lock_timeout=0.5)
    assert read_history_for_append(path) is not None


_APPENDER = """
import sys
from pathlib import Path
from cavra_drill.store.history_store import append_drill
path, worker, count = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
print("ready", flush=True)
sys.stdin.read()  # start together: wait until the test closes stdin
for i in range(count):
    append_drill(path, {"drill_id": f"drill_{worker}_{i}"}, environment="production-pilot")
"""


def test_concurrent_processes_all_land(tmp_path: Path) -> None:
    path = tmp_path / "history.json"
    workers, per_worker = 8, 20
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", _APPENDER, str(path), str(n), str(per_worker)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for n in range(workers)
    ]
    try:
        for process in processes:
            assert process.stdout is not None
            assert process.stdout.readline() == "ready\n"
        for process in processes:
            assert process.stdin is not None
            process.stdin.close()
        assert [process.wait(timeout=90) for process in processes] == [0] * workers
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.wait()
    document = json.loads(path.read_bytes())
    drill_ids = [drill["drill_id"] for drill in document["drills"]]
    expected = {f"drill_{n}_{i}" for n in range(workers) for i in range(per_worker)}
    assert len(drill_ids) == workers * per_worker
    assert set(drill_ids) == expected
    for n in range(workers):  # each process's drills land in the order it appended them
        own = [d for d in drill_ids if d.startswith(f"drill_{n}_")]
        assert own == [f"drill_{n}_{i}" for i in range(per_worker)]
    # Sealed under the lock: every record links to the one that landed just before it.
    assert verify_chain(document["drills"]).intact
    assert _leftovers(tmp_path) == []


def test_large_history_appends_quickly(tmp_path: Path) -> None:
    path = tmp_path / "history.json"
    drills = [_drill(f"drill_{i}") for i in range(10_000)]
    document = {"schema_version": HISTORY_SCHEMA, "environment": "production-pilot", "drills": drills}
    path.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    started = time.perf_counter()
    result = append_drill(path, _drill("drill_new"), environment="production-pilot")
    elapsed = time.perf_counter() - started
    assert len(result["drills"]) == 10_001  # type: ignore[arg-type]
    # Measured about 0.13 s; the bound is loose so that a slow CI machine does not flake.
    assert elapsed < 1.0
