"""SIGINT and SIGTERM at random moments and in each phase of `cavra-drill run`.

Usage: python benchmarks/reliability_signals.py [--signals 200] [--seed 2] [--json-out FILE]

Half SIGINT, half SIGTERM; 60 % at a uniform random delay in [0, typical run time], the rest
as soon as a phase is observed (as in reliability_kill.py: baseline, incident, rollback, and
the moment the evidence's, history's or readiness report's temporary file is created). After
each: the same invariants as after a SIGKILL (valid history holding every completed drill,
evidence old or complete, no process left after 5 s), plus how the process ended (exit 130
with the "interrupted" line, or killed by the signal before its handler was installed) and
what it left: temporary files, sandboxes. A normal run follows each and must pass.
"""

from __future__ import annotations

import argparse
import json
import random
import signal
import statistics
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from reliability.harness import (
    DrillRunner,
    Files,
    exit_code_name,
    finish,
    history_drills,
    judge_files,
    kill,
    sandboxes,
    temp_files,
)

from benchmarks.reliability_kill import plan_for, typical_run_seconds

PHASES = ["baseline", "incident", "rollback", "writing-evidence", "writing-history", "writing-readiness"]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--signals", type=int, default=200)
    parser.add_argument("--seed", type=int, default=2)
    parser.add_argument("--json-out", type=Path)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    uniform = round(args.signals * 0.6)
    schedule = ["uniform"] * uniform + [PHASES[i % len(PHASES)] for i in range(args.signals - uniform)]
    rng.shuffle(schedule)
    endings: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)
    problems: list[str] = []
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    examples: dict[str, str] = {}
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="reliability-signals-") as tmp:
        runner = DrillRunner(cwd=Path(tmp))
        typical = typical_run_seconds(runner)
        completed = [str(d["drill_id"]) for d in history_drills(Files.in_workdir(runner.out).history)]
        seconds: list[float] = []
        for number, phase in enumerate(schedule, 1):
            sig = signal.SIGINT if number % 2 else signal.SIGTERM
            cli_args, env, reach = plan_for(phase, rng, typical, sig=sig)
            before = Files.in_workdir(runner.out)
            sandboxes_before = len(sandboxes(runner.out))
            proc = runner.start(*cli_args, "--json", env=env)
            sent = time.monotonic()
            reach(runner, proc)
            if not phase.startswith("writing"):
                kill(proc, sig)
                sent = time.monotonic()
            result = finish(proc, timeout=120)
            seconds.append(time.monotonic() - sent)
            line = result.stderr.strip().splitlines()[-1:] or [""]
            if result.returncode == 130 and "interrupted" in line[0]:
                ending = "exit 130, interrupted" + (" while writing" if "while writing" in line[0] else "")
            elif result.traceback:
                ending = f"{exit_code_name(result.returncode)} with a traceback"
            else:
                ending = exit_code_name(result.returncode) + ("" if line[0] else ", no message")
            endings[(signal.Signals(sig).name, phase)][ending] += 1
            if ending not in examples:
                tail = [x for x in result.stderr.strip().splitlines() if x.strip()][-3:]
                examples[ending] = f"{signal.Signals(sig).name} {phase}: " + " / ".join(t.strip() for t in tail)
            _, outlived = runner.wait_no_leaks([proc.pid], timeout=5)
            verdict = judge_files(before, Files.in_workdir(runner.out), completed=completed)
            problems.extend(f"{number} {phase}: {p}" for p in verdict.problems)
            c = counts[phase]
            c["signals"] += 1
            c["outlived 5 s"] += len(outlived)
            c["temp files left"] += len(temp_files(runner.out))
            c["sandboxes left"] += len(sandboxes(runner.out)) - sandboxes_before
            c[f"evidence {verdict.evidence}"] += 1
            if result.returncode in (0, 1) and result.stdout.strip():
                # It finished despite the signal (sent after the work was done).
                completed.append(str(json.loads(result.stdout)["drill"]["drill_id"]))
            after = runner.run("--json")
            if after.returncode != 0:
                problems.append(f"{number} {phase}: the next run exited {after.returncode}")
            else:
                completed.append(str(json.loads(after.stdout)["drill"]["drill_id"]))
            c["temp files after next run"] += len(temp_files(runner.out))
            if number % 20 == 0:
                print(f"{number}/{len(schedule)} signals, {time.monotonic() - started:.0f} s", file=sys.stderr)
        runner.stop_leaks()
    elapsed = time.monotonic() - started
    print(f"typical run: {typical:.2f} s; {args.signals} signals in {elapsed:.0f} s (seed {args.seed})")
    print(f"signal to exit: median {statistics.median(seconds):.2f} s, max {max(seconds):.2f} s")
    print()
    print("| signal | phase | sent | how the process ended |")
    print("|---|---|---|---|")
    for (name, phase), ended in sorted(endings.items(), key=lambda item: (item[0][0], schedule_order(item[0][1]))):
        described = "; ".join(f"{k}: {v}" for k, v in ended.most_common())
        print(f"| {name} | {phase} | {sum(ended.values())} | {described} |")
    print()
    print(
        "| phase | signals | invariant violations | outlived 5 s | temp files left | temp files after next run |"
        " sandboxes left | evidence old / new+recorded / new-unrecorded |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for phase in ["uniform", *PHASES]:
        c = counts[phase]
        mine = [p for p in problems if f" {phase}: " in p]
        print(
            f"| {phase} | {c['signals']} | {len(mine)} | {c['outlived 5 s']} | {c['temp files left']} | "
            f"{c['temp files after next run']} | {c['sandboxes left']} | {c['evidence old']} / "
            f"{c['evidence new, recorded in the history']} / {c['evidence new, its drill not in the history']} |"
        )
    print()
    for ending, example in examples.items():
        print(f"example of '{ending}': {example[:400]}")
    for problem in problems:
        print(f"PROBLEM {problem}")
    if args.json_out:
        args.json_out.write_text(
            json.dumps(
                {
                    "signals": args.signals,
                    "seed": args.seed,
                    "typical_run_seconds": typical,
                    "elapsed_seconds": elapsed,
                    "endings": {f"{k[0]} {k[1]}": dict(v) for k, v in endings.items()},
                    "counts": {k: dict(v) for k, v in counts.items()},
                    "problems": problems,
                    "examples": examples,
                },
                indent=2,
            )
            + "\n"
        )


def schedule_order(phase: str) -> int:
    return (["uniform", *PHASES]).index(phase)


if __name__ == "__main__":
    main()
