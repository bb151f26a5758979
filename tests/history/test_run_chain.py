"""The chain built by real `cavra-drill run` processes, checked by the real `history` commands."""

from __future__ import annotations

import json
import subprocess
import sys

from clirun import CliResult, assert_no_traceback, clean_env
from drillrun import Drills

from cavra_drill.contract.integrity import record_digest, verify_chain

EVIDENCE = "go-backend-rollback-rehearsal.json"
HISTORY = "go-backend-rollback-drills.json"


def history_cli(drills: Drills, *args: str) -> CliResult:
    done = subprocess.run(
        [sys.executable, "-m", "cavra_drill", "history", *args],
        cwd=drills.cwd,
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    result = CliResult(done.returncode, done.stdout, done.stderr)
    assert_no_traceback(result)
    return result


def test_runs_seal_a_chain_that_verifies_and_edits_break_it(drills: Drills) -> None:
    first = drills.run("--json")
    assert first.returncode == 0, first.stderr
    second = drills.run("--json")
    assert second.returncode == 0, second.stderr
    # Two drills at once: the lock orders them, and each links to whichever landed before it.
    procs = [drills.start() for _ in range(2)]
    assert [p.wait(timeout=60) for p in procs] == [0, 0]
    for p in procs:
        p.communicate()

    document = drills.history()
    records = document["drills"]
    assert len(records) == 4
    assert records[0]["previous_record_sha256"] is None
    assert [r["previous_record_sha256"] for r in records[1:]] == [r["record_sha256"] for r in records[:-1]]
    assert all(r["record_sha256"] == record_digest(r) for r in records)
    assert verify_chain(records).intact
    # What `run --json` printed is the record as sealed into the history.
    assert first.json()["drill"] == records[0] and second.json()["drill"] == records[1]

    intact = history_cli(drills, "verify", "--json")
    assert intact.returncode == 0, intact.stderr
    out = intact.json()
    assert out["status"] == "intact" and out["sealed"] == 4
    assert out["head_sha256"] == records[-1]["record_sha256"]
    # The evidence left is the latest drill's, whichever of the concurrent two wrote it last.
    assert out["evidence"]["status"] == "match"
    assert out["evidence"]["drill_id"] == drills.evidence()["drill_id"]

    table = history_cli(drills, "--json")
    assert table.returncode == 0, table.stderr
    figures = table.json()["figures"]
    assert figures["entries"] == 4 and figures["pass_rate"] == 1.0 and figures["recovered"] == 4

    # An edited evidence file: verify names its record; the history itself is intact.
    evidence_path = drills.out / EVIDENCE
    evidence_path.write_text(evidence_path.read_text().replace('"pass"', '"fail"', 1))
    mismatch = history_cli(drills, "verify", "--json")
    assert mismatch.returncode == 1
    assert mismatch.json()["first_problem"]["kind"] == "evidence_mismatch"
    assert history_cli(drills).returncode == 0

    # A deleted record: verify exits 1 and `history` refuses to compute figures.
    after_deleted = records[2]["drill_id"]
    del document["drills"][1]
    (drills.out / HISTORY).write_text(json.dumps(document, indent=2) + "\n")
    deleted = history_cli(drills, "verify")
    assert deleted.returncode == 1
    assert f"first broken: drills[1] ({after_deleted}): deleted" in deleted.stderr
    refused = history_cli(drills)
    assert refused.returncode == 3 and refused.stderr.count("\n") == 1
    assert "tampered" in refused.stderr
