"""`cavra-drill run` SIGKILLed at any moment: nothing completed is lost, nothing is half-written,
nothing keeps running, and the next run starts cleanly and cleans up.

A small sample (about 15 kills); `benchmarks/reliability_kill.py` does the same hundreds of times.
"""

from __future__ import annotations

import random
import subprocess
import time
from collections.abc import Callable

import pytest

from reliability.harness import (
    EVIDENCE,
    HISTORY,
    NEW_UNRECORDED,
    OLD,
    DrillRunner,
    Files,
    Verdict,
    history_drills,
    is_runtime_call,
    is_service,
    judge_files,
    kill,
    kill_when_created,
    prompt_reaction,
    sandboxes,
    temp_files,
    temp_prefix,
    wait_for_incident,
    wait_for_process,
)

HANG = {"CAVRA_GO_RUNTIME_TIMEOUT_SECONDS": "2"}
Reach = Callable[[DrillRunner, subprocess.Popen[str]], bool]


def alive(proc: subprocess.Popen[str]) -> Callable[[], bool]:
    return lambda: proc.poll() is None


def in_baseline(runner: DrillRunner, proc: subprocess.Popen[str]) -> bool:
    # A Go runtime call exists only while the baseline sends its probes.
    return wait_for_process(proc.pid, is_runtime_call, timeout=30, alive=alive(proc))


def in_incident(runner: DrillRunner, proc: subprocess.Popen[str]) -> bool:
    return wait_for_incident(runner, proc)


def in_rollback(runner: DrillRunner, proc: subprocess.Popen[str]) -> bool:
    return wait_for_process(
        proc.pid, is_service("disabled", fault_prefix="slow-restart"), timeout=30, alive=alive(proc)
    )


def in_verify(runner: DrillRunner, proc: subprocess.Popen[str]) -> bool:
    # The restarted service is up: start-service is ending and verify about to run.
    return wait_for_process(proc.pid, is_service("disabled"), timeout=30, alive=alive(proc))


def kill_and_judge(runner: DrillRunner, reach: Reach, *args: str, env: dict[str, str] | None = None) -> Verdict:
    """Start a drill, wait for `reach`, SIGKILL it, and check what it left."""
    before = Files.in_workdir(runner.out)
    completed = [str(d["drill_id"]) for d in history_drills(before.history)]
    proc = runner.start(*args, env=env)
    assert reach(runner, proc), "the drill never reached the phase"
    kill(proc)
    proc.communicate(timeout=30)
    # Children die with their parent (parent-death signal), without the next run's help.
    _, alive_after = runner.wait_no_leaks([proc.pid], timeout=5)
    assert alive_after == [], "drill processes outlived the killed drill"
    verdict = judge_files(before, Files.in_workdir(runner.out), completed=completed)
    assert verdict.ok, verdict.problems
    return verdict


def next_run_is_clean(runner: DrillRunner) -> None:
    result = runner.run()
    assert result.returncode == 0, result.stderr
    assert not result.traceback
    assert temp_files(runner.out) == []
    assert runner.leaked() == []


@pytest.mark.parametrize(
    ("reach", "args", "env"),
    [
        (in_baseline, (), None),
        (in_incident, ("--incident", "go-runtime-hang"), HANG),
        (in_rollback, ("--fault", "slow-restart=10"), None),
        (in_verify, (), None),
    ],
    ids=["baseline", "incident", "rollback", "verify"],
)
def test_sigkill_in_a_drill_phase_loses_nothing(
    runner: DrillRunner, reach: Reach, args: tuple[str, ...], env: dict[str, str] | None
) -> None:
    assert runner.run().returncode == 0
    for _ in range(2):
        verdict = kill_and_judge(runner, reach, *args, env=env)
        if reach is not in_verify:  # killed before anything could be written
            assert verdict.evidence == OLD and verdict.drills_added == 0
        next_run_is_clean(runner)


def writing(name: str) -> Reach:
    """Until the atomic writer creates its temporary file for `name`; the kill follows at once."""

    def reach(runner: DrillRunner, proc: subprocess.Popen[str]) -> bool:
        return kill_when_created(proc, runner.out, temp_prefix(name))

    return reach


@pytest.mark.parametrize("name", [EVIDENCE, HISTORY], ids=["evidence", "history"])
def test_sigkill_while_writing_leaves_old_or_new_and_the_next_run_removes_the_temp_file(
    runner: DrillRunner, name: str
) -> None:
    assert runner.run().returncode == 0
    mid_write = 0
    for _ in range(3):
        verdict = kill_and_judge(runner, writing(name))
        left = temp_files(runner.out)
        if left:
            # Killed between creating the temporary file and renaming it: the old file stands.
            assert left == [str(runner.out / f"{temp_prefix(name)}{left[0][-8:]}")]
            mid_write += 1
            if name == EVIDENCE:
                assert verdict.evidence == OLD and verdict.drills_added == 0
            else:
                # run.py replaces the evidence before the append starts, so a kill during the
                # append leaves new evidence whose drill the history does not hold.
                assert verdict.evidence in (OLD, NEW_UNRECORDED) and verdict.drills_added == 0
        next_run_is_clean(runner)  # ...which removed the temporary file
    with prompt_reaction() as prompt:
        pass
    if prompt:
        # At real-time priority the kill follows the temp file's creation within microseconds.
        assert mid_write >= 1, "no kill landed in the middle of the write"


def test_sigkill_at_uniform_random_moments_loses_nothing(runner: DrillRunner) -> None:
    assert runner.run().returncode == 0
    rng = random.Random(5)
    for _ in range(5):
        delay = rng.uniform(0, 0.7)  # a default run takes about 0.5-0.7 s here

        def after_delay(_runner: DrillRunner, proc: subprocess.Popen[str], delay: float = delay) -> bool:
            time.sleep(delay)
            return True

        kill_and_judge(runner, after_delay)
        next_run_is_clean(runner)


def test_the_next_run_removes_the_sandbox_a_killed_drill_left(runner: DrillRunner) -> None:
    # BUG (engine): a SIGKILLed drill cannot run its cleanup, and no later run removes its
    # sandbox (stub runtime, policy, logs, maybe a socket): sandboxes pile up in the workdir.
    kill_and_judge(runner, in_rollback, "--fault", "slow-restart=10")
    assert len(sandboxes(runner.out)) == 1
    assert runner.run().returncode == 0
    assert sandboxes(runner.out) == []
