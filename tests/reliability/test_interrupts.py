"""SIGINT and SIGTERM during each phase of `cavra-drill run`: cleanup runs, nothing is
half-written, exit 130. (The rollback phase is covered by tests/run/test_run_interrupts.py.)
"""

from __future__ import annotations

import signal
import subprocess
import time

import pytest

from reliability.harness import (
    EVIDENCE,
    HISTORY,
    NEW_RECORDED,
    NEW_UNRECORDED,
    OLD,
    DrillRunner,
    Files,
    finish,
    history_lock_held,
    is_runtime_call,
    judge_files,
    kill,
    kill_when_created,
    sandboxes,
    temp_files,
    temp_prefix,
    wait_for_incident,
    wait_for_process,
    wait_until,
)

SIGNALS = [signal.SIGINT, signal.SIGTERM]
IDS = ["SIGINT", "SIGTERM"]


def assert_interrupted(runner: DrillRunner, proc: subprocess.Popen[str], before: Files) -> str:
    """Exit 130 with one line, no traceback, nothing half-written; returns the evidence state."""
    result = finish(proc, timeout=60)
    assert result.returncode == 130, result.stderr
    assert not result.traceback, result.stderr
    assert "interrupted" in result.stderr
    assert result.stdout == ""
    verdict = judge_files(before, Files.in_workdir(runner.out))
    assert verdict.ok, verdict.problems
    assert temp_files(runner.out) == []
    assert sandboxes(runner.out) == []
    return verdict.evidence


@pytest.fixture
def primed(runner: DrillRunner) -> DrillRunner:
    """A work directory with one completed drill, so there are old files to keep."""
    assert runner.run().returncode == 0
    return runner


@pytest.mark.parametrize("sig", SIGNALS, ids=IDS)
def test_signal_during_the_baseline(primed: DrillRunner, sig: signal.Signals) -> None:
    before = Files.in_workdir(primed.out)
    proc = primed.start()
    # A Go runtime call exists only while the baseline probes run.
    assert wait_for_process(proc.pid, is_runtime_call, timeout=30)
    kill(proc, sig)
    assert assert_interrupted(primed, proc, before) == OLD
    assert Files.in_workdir(primed.out) == before


@pytest.mark.parametrize("sig", SIGNALS, ids=IDS)
def test_signal_during_a_hanging_runtime_incident(primed: DrillRunner, sig: signal.Signals) -> None:
    before = Files.in_workdir(primed.out)
    proc = primed.start("--incident", "go-runtime-hang", env={"CAVRA_GO_RUNTIME_TIMEOUT_SECONDS": "2"})
    assert wait_for_incident(primed, proc)
    # The hanging runtime calls are alive now; they must be stopped too (the fixture checks).
    assert wait_for_process(proc.pid, is_runtime_call, timeout=30)
    kill(proc, sig)
    assert assert_interrupted(primed, proc, before) == OLD
    assert Files.in_workdir(primed.out) == before


@pytest.mark.parametrize("sig", SIGNALS, ids=IDS)
@pytest.mark.parametrize("name", [EVIDENCE, HISTORY], ids=["evidence", "history"])
def test_signal_in_the_middle_of_a_write(primed: DrillRunner, sig: signal.Signals, name: str) -> None:
    # Sent the moment the atomic writer creates its temporary file (at real-time priority
    # when running as root, so it lands mid-write): the writer removes the temporary file.
    before = Files.in_workdir(primed.out)
    proc = primed.start()
    assert kill_when_created(proc, primed.out, temp_prefix(name), sig=sig)
    # Whichever way run.py orders and shields its writes, the three files stay one consistent
    # set or the old set plus complete new evidence: never half of anything.
    assert assert_interrupted(primed, proc, before) in (OLD, NEW_UNRECORDED, NEW_RECORDED)


@pytest.mark.parametrize("sig", SIGNALS, ids=IDS)
def test_signal_while_waiting_for_the_history_lock(primed: DrillRunner, sig: signal.Signals) -> None:
    before = Files.in_workdir(primed.out)
    with history_lock_held(primed.out / HISTORY):
        proc = primed.start("--lock-timeout", "60")
        # The drill is over (its processes are gone): what is left is writing, held by the lock.
        assert wait_for_process(proc.pid, lambda _environ, _cmdline: True, timeout=30)
        assert wait_until(lambda: primed.leaked([proc.pid]) == [], timeout=30)
        time.sleep(0.5)
        assert proc.poll() is None, "the run did not wait for the lock"
        kill(proc, sig)
        # Old, or new with its drill not in the history (run.py writes it before the append).
        assert assert_interrupted(primed, proc, before) in (OLD, NEW_UNRECORDED)
    after = Files.in_workdir(primed.out)
    assert after.history == before.history
    # The interrupted append released its lock: the next drill appends.
    result = primed.run("--lock-timeout", "5")
    assert result.returncode == 0, result.stderr
