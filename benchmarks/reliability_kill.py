"""SIGKILL `cavra-drill run` at random moments and in every phase; check what survives.

Usage: python benchmarks/reliability_kill.py [--kills 240] [--seed 1] [--json-out FILE]

Each kill: a drill starts in one work directory (whose history grows), is killed with SIGKILL
at a uniform random delay in [0, typical run time] or as soon as a phase is observed (baseline:
a Go runtime call exists; incident: the sandbox's incident file exists, with a hanging runtime;
rollback: the slow-restarting service exists; verify: the restarted service exists; writing:
the evidence's, history's or readiness report's temporary file was just created, seen through
inotify). Then, before anything else runs: the history must be a valid history holding every
drill that completed, the evidence the old file or a complete new one, the readiness report
the old or a complete new one, and every process of the killed drill gone within 5 s. Then a
normal run follows on the same work directory: it must pass, and leave no temporary file and
no process of the killed drill. Sandboxes left by killed drills are counted.
"""

from __future__ import annotations

import argparse
import json
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from reliability.harness import (
    EVIDENCE,
    HISTORY,
    READINESS,
    DrillRunner,
    Files,
    history_drills,
    is_runtime_call,
    is_service,
    judge_files,
    kill,
    kill_when_created,
    sandboxes,
    temp_files,
    temp_prefix,
    wait_for_incident,
    wait_for_process,
)

HANG = {"CAVRA_GO_RUNTIME_TIMEOUT_SECONDS": "2"}
Reach = Callable[[DrillRunner, subprocess.Popen[str]], bool]


@dataclass
class PhaseStats:
    kills: int = 0
    reached: int = 0
    problems: list[str] = field(default_factory=list)
    evidence: Counter[str] = field(default_factory=Counter)
    readiness_replaced: int = 0
    drills_added: int = 0
    outlived: int = 0
    kills_with_survivors: int = 0
    max_child_seconds: float = 0.0
    temps_after_kill: int = 0
    temps_after_next_run: int = 0
    leaked_after_next_run: int = 0
    sandboxes_left: int = 0
    next_run_codes: Counter[int] = field(default_factory=Counter)


def alive(proc: subprocess.Popen[str]) -> Callable[[], bool]:
    return lambda: proc.poll() is None


def plan_for(
    phase: str, rng: random.Random, typical: float, sig: int = signal.SIGKILL
) -> tuple[tuple[str, ...], dict[str, str], Reach]:
    """Arguments, environment and the wait for `phase`; `sig` is sent by the wait itself only
    for the writing phases (it must follow the temp file's creation at once)."""
    if phase == "uniform":
        delay = rng.uniform(0, typical)

        def after(_r: DrillRunner, _p: subprocess.Popen[str]) -> bool:
            time.sleep(delay)
            return True

        return (), {}, after
    if phase == "baseline":
        return (), {}, lambda _r, p: wait_for_process(p.pid, is_runtime_call, timeout=30, alive=alive(p))
    if phase == "incident":
        return (
            ("--incident", "go-runtime-hang"),
            HANG,
            wait_for_incident,
        )
    if phase == "rollback":
        slow = is_service("disabled", fault_prefix="slow-restart")
        pause = rng.uniform(0, 0.5)

        def during_restart(_r: DrillRunner, p: subprocess.Popen[str]) -> bool:
            seen = wait_for_process(p.pid, slow, timeout=30, alive=alive(p))
            time.sleep(pause)  # somewhere inside the slow restart
            return seen

        return ("--fault", "slow-restart=1"), {}, during_restart
    if phase == "verify":
        pause = rng.uniform(0, 0.03)

        def around_verify(_r: DrillRunner, p: subprocess.Popen[str]) -> bool:
            seen = wait_for_process(p.pid, is_service("disabled"), timeout=30, alive=alive(p))
            time.sleep(pause)
            return seen

        return (), {}, around_verify
    name = {"writing-evidence": EVIDENCE, "writing-history": HISTORY, "writing-readiness": READINESS}[phase]

    def writing(r: DrillRunner, p: subprocess.Popen[str]) -> bool:
        return kill_when_created(p, r.out, temp_prefix(name), sig=sig)

    return (), {}, writing


def typical_run_seconds(runner: DrillRunner, runs: int = 5) -> float:
    times = []
    for _ in range(runs):
        started = time.monotonic()
        result = runner.run()
        times.append(time.monotonic() - started)
        if result.returncode != 0:
            raise SystemExit(f"a normal run failed: {result.stderr}")
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--kills", type=int, default=240)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json-out", type=Path)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    targeted = [
        "baseline",
        "incident",
        "rollback",
        "verify",
        "writing-evidence",
        "writing-history",
        "writing-readiness",
    ]
    uniform = round(args.kills * 0.4)
    schedule = ["uniform"] * uniform + [targeted[i % len(targeted)] for i in range(args.kills - uniform)]
    rng.shuffle(schedule)
    stats: dict[str, PhaseStats] = defaultdict(PhaseStats)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="reliability-kill-") as tmp:
        runner = DrillRunner(cwd=Path(tmp))
        typical = typical_run_seconds(runner)
        completed = [str(d["drill_id"]) for d in history_drills(Files.in_workdir(runner.out).history)]
        for number, phase in enumerate(schedule, 1):
            s = stats[phase]
            cli_args, env, reach = plan_for(phase, rng, typical)
            before = Files.in_workdir(runner.out)
            sandboxes_before = len(sandboxes(runner.out))
            proc = runner.start(*cli_args, env=env)
            s.kills += 1
            s.reached += bool(reach(runner, proc))
            kill(proc)
            proc.communicate(timeout=60)
            waited, outlived = runner.wait_no_leaks([proc.pid], timeout=5)
            s.max_child_seconds = max(s.max_child_seconds, waited)
            s.outlived += len(outlived)
            s.kills_with_survivors += bool(outlived)
            verdict = judge_files(before, Files.in_workdir(runner.out), completed=completed)
            s.problems.extend(f"kill {number}: {p}" for p in verdict.problems)
            s.evidence[verdict.evidence] += 1
            s.readiness_replaced += verdict.readiness_replaced
            s.drills_added += verdict.drills_added
            s.temps_after_kill += len(temp_files(runner.out))

            after = runner.run("--json")
            s.next_run_codes[after.returncode] += 1
            try:
                completed.append(str(json.loads(after.stdout)["drill"]["drill_id"]))
            except (ValueError, KeyError, TypeError):
                last = after.stderr.strip().splitlines()[-1:] or [""]
                s.problems.append(f"kill {number}: the next run exited {after.returncode}: {last[0][:300]}")
            s.temps_after_next_run += len(temp_files(runner.out))
            s.leaked_after_next_run += len(runner.leaked([proc.pid]))
            s.sandboxes_left += len(sandboxes(runner.out)) - sandboxes_before
            if number % 20 == 0:
                print(f"{number}/{len(schedule)} kills, {time.monotonic() - started:.0f} s", file=sys.stderr)
        final = runner.run(str(runner.out / HISTORY), command="validate")
        history_valid = final.returncode == 0
        final_drills = len(history_drills(Files.in_workdir(runner.out).history))
        sandbox_dirs = len(sandboxes(runner.out))
        runner.stop_leaks()
    elapsed = time.monotonic() - started

    print(f"typical run: {typical:.2f} s; {args.kills} kills in {elapsed:.0f} s (seed {args.seed})")
    print(f"history at the end: {final_drills} drills, `cavra-drill validate` exit {final.returncode}")
    print(f"sandbox directories left in the workdir at the end: {sandbox_dirs}")
    print()
    header = (
        "| phase | kills | phase seen | invariant violations | evidence old / new+recorded / new-unrecorded |"
        " readiness replaced | processes outliving 5 s (kills) | slowest child death (s) | temp files after kill |"
        " temp files after next run | next run exit 0 | sandboxes left |"
    )
    print(header)
    print("|" + "---|" * header.count(" | ") + "---|")
    order = ["uniform", *targeted]
    totals: dict[str, object] = {}
    for phase in order:
        s = stats[phase]
        print(
            f"| {phase} | {s.kills} | {s.reached} | {len(s.problems)} | "
            f"{s.evidence['old']} / {s.evidence['new, recorded in the history']} / "
            f"{s.evidence['new, its drill not in the history']} | {s.readiness_replaced} | "
            f"{s.outlived} ({s.kills_with_survivors}) | "
            f"{s.max_child_seconds:.2f} | {s.temps_after_kill} | {s.temps_after_next_run} | "
            f"{s.next_run_codes[0]}/{s.kills} | {s.sandboxes_left} |"
        )
        totals[phase] = {
            "kills": s.kills,
            "phase_seen": s.reached,
            "problems": s.problems,
            "evidence": dict(s.evidence),
            "readiness_replaced": s.readiness_replaced,
            "drills_added_by_killed_runs": s.drills_added,
            "processes_outliving_5s": s.outlived,
            "kills_with_survivors": s.kills_with_survivors,
            "slowest_child_death_seconds": round(s.max_child_seconds, 3),
            "temp_files_after_kill": s.temps_after_kill,
            "temp_files_after_next_run": s.temps_after_next_run,
            "leaked_after_next_run": s.leaked_after_next_run,
            "next_run_exit_codes": dict(s.next_run_codes),
            "sandboxes_left": s.sandboxes_left,
        }
    for phase in order:
        for problem in stats[phase].problems:
            print(f"PROBLEM [{phase}] {problem}")
    if args.json_out:
        summary = {
            "kills": args.kills,
            "seed": args.seed,
            "typical_run_seconds": typical,
            "elapsed_seconds": elapsed,
            "final_drills": final_drills,
            "history_valid": history_valid,
            "phases": totals,
        }
        args.json_out.write_text(json.dumps(summary, indent=2) + "\n")


if __name__ == "__main__":
    main()
