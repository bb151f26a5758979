"""Drills at once on one history, and a history lock someone else holds too long.

The append itself under contention (many processes appending directly) is tested in
tests/test_history_store.py::test_concurrent_processes_all_land (8 x 20) and at scale by
benchmarks/reliability_concurrency.py (16 x 50).
"""

from __future__ import annotations

import json
import subprocess

from reliability.harness import (
    HISTORY,
    NEW_UNRECORDED,
    OLD,
    DrillRunner,
    Files,
    finish,
    history_drills,
    history_lock_held,
    judge_files,
    sandboxes,
    sha256,
    temp_files,
)


def test_eight_drills_at_once_all_land_in_one_valid_history(runner: DrillRunner) -> None:
    assert runner.run().returncode == 0  # the workdir, the sample plan and a first drill
    procs: list[subprocess.Popen[str]] = [runner.start("--json", "--lock-timeout", "120") for _ in range(8)]
    results = [finish(proc, timeout=180) for proc in procs]
    assert [r.returncode for r in results] == [0] * 8, [r.stderr[-300:] for r in results if r.returncode]
    ids = [json.loads(r.stdout)["drill"]["drill_id"] for r in results]
    files = Files.in_workdir(runner.out)
    drills = history_drills(files.history)
    assert len(drills) == 9
    assert sorted(d["drill_id"] for d in drills[1:]) == sorted(ids)
    # The evidence on disk is the last one written, and its drill is in the history.
    assert files.evidence is not None
    assert sha256(files.evidence) in {d["evidence_sha256"] for d in drills}
    valid = runner.run(str(runner.out / HISTORY), command="validate")
    assert valid.returncode == 0, valid.stdout + valid.stderr
    chain = runner.run("verify", "--history", str(runner.out / HISTORY), command="history")
    assert chain.returncode == 0, chain.stdout + chain.stderr
    assert temp_files(runner.out) == []
    assert sandboxes(runner.out) == []


def test_a_history_lock_held_too_long_exits_4_and_leaves_the_history_as_it_was(runner: DrillRunner) -> None:
    assert runner.run().returncode == 0
    before = Files.in_workdir(runner.out)
    with history_lock_held(runner.out / HISTORY):
        result = runner.run("--lock-timeout", "1")
    assert result.returncode == 4, result.stderr
    assert not result.traceback
    lines = [line for line in result.stderr.splitlines() if line.startswith("cavra-drill: ")]
    assert lines[-1].startswith(
        f"cavra-drill: drill history cavra-drill-out/{HISTORY} is locked by another process (waited 1 s)"
    ), result.stderr
    # The history and the readiness report are untouched. The evidence is the old file or a
    # complete new one: run.py (at the time of writing) writes it before it takes the lock, so
    # today it is new and its drill not in the history; tests/review asks that it stay old.
    verdict = judge_files(before, Files.in_workdir(runner.out))
    assert verdict.ok, verdict.problems
    assert verdict.evidence in (OLD, NEW_UNRECORDED)
    after = Files.in_workdir(runner.out)
    assert after.history == before.history and after.readiness == before.readiness
    assert temp_files(runner.out) == []
    # Once the holder lets go, the next drill appends.
    assert runner.run("--lock-timeout", "5").returncode == 0
    assert len(history_drills(Files.in_workdir(runner.out).history)) == 2
