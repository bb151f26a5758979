"""Many writers on one drill history: concurrent drills, a raw append stress, a busy lock.

Usage: python benchmarks/reliability_concurrency.py [--rounds 10] [--drills 8]
                                                    [--appenders 16] [--appends 50] [--lock-trials 20]

1. `--rounds` times, `--drills` `cavra-drill run` processes start at once on one work directory
   (one history); every one must exit 0 and its drill id must be in the history, which must
   stay a valid history (`cavra-drill validate`) with an intact chain (`history verify`).
2. `--appenders` processes each call `append_drill` `--appends` times on one history, all
   released at the same moment: every record must land, each process's in its own order.
3. `--lock-trials` times, another process holds the history lock while a drill runs with
   `--lock-timeout 0.5`: exit 4 with the lock message, the history unchanged, no temp file.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from reliability.harness import (
    HISTORY,
    DrillRunner,
    Files,
    finish,
    history_drills,
    history_lock_held,
    temp_files,
)

_APPENDER = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from cavra_drill.store.history_store import append_drill

    path, worker, count = Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
    print("ready", flush=True)
    sys.stdin.read()  # released by the parent closing stdin, all at once
    for n in range(count):
        append_drill(
            path,
            {
                "drill_id": f"drill_{worker}_{n}",
                "executed_at": "2026-11-29T16:00:00Z",
                "actor": "stress",
                "source_mode": "promoted",
                "target_mode": "disabled",
                "status": "pass",
                "fallback_verified": True,
                "recovery_minutes": 0.01,
                "max_recovery_minutes": 15,
                "runbook_ref": "runbooks/go-backend-python-fallback.md",
                "evidence_refs": [f"go-rollback-rehearsal://stress/drill_{worker}_{n}"],
            },
            environment="stress",
            lock_timeout=600,
        )
    """
)


def concurrent_drills(rounds: int, drills: int) -> dict[str, object]:
    lost = failures = 0
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="reliability-concurrency-") as tmp:
        runner = DrillRunner(cwd=Path(tmp))
        expected: list[str] = []
        for _ in range(rounds):
            procs = [runner.start("--json", "--lock-timeout", "300") for _ in range(drills)]
            for result in [finish(proc, timeout=600) for proc in procs]:
                if result.returncode != 0:
                    failures += 1
                    continue
                expected.append(json.loads(result.stdout)["drill"]["drill_id"])
            landed = {d["drill_id"] for d in history_drills(Files.in_workdir(runner.out).history)}
            lost += len([i for i in expected if i not in landed])
            expected = [i for i in expected if i in landed]
        history = runner.out / HISTORY
        valid = runner.run(str(history), command="validate").returncode
        chain = runner.run("verify", "--history", str(history), command="history").returncode
        records = len(history_drills(history.read_bytes()))
        temps = len(temp_files(runner.out))
        leaked = len(runner.stop_leaks())
    return {
        "drills": rounds * drills,
        "failed_runs": failures,
        "records": records,
        "lost": lost,
        "validate_exit": valid,
        "history_verify_exit": chain,
        "temp_files": temps,
        "leaked_processes": leaked,
        "seconds": round(time.monotonic() - started, 1),
    }


def append_stress(appenders: int, appends: int) -> dict[str, object]:
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="reliability-appends-") as tmp:
        path = Path(tmp) / HISTORY
        procs = [
            subprocess.Popen(
                [sys.executable, "-c", _APPENDER, str(path), str(n), str(appends)],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
            )
            for n in range(appenders)
        ]
        for proc in procs:
            assert proc.stdout is not None and proc.stdout.readline() == "ready\n"
        released = time.monotonic()
        for proc in procs:
            assert proc.stdin is not None
            proc.stdin.close()
        codes = [proc.wait(timeout=900) for proc in procs]
        elapsed = time.monotonic() - released
        drills = history_drills(path.read_bytes())
        ids = [d["drill_id"] for d in drills]
        in_order = all(
            [i for i in ids if i.startswith(f"drill_{n}_")] == [f"drill_{n}_{k}" for k in range(appends)]
            for n in range(appenders)
        )
        chain = subprocess.run(
            [sys.executable, "-m", "cavra_drill", "history", "verify", "--history", str(path)],
            capture_output=True,
            check=False,
        ).returncode
        temps = len(temp_files(Path(tmp)))
    return {
        "appends": appenders * appends,
        "failed_processes": sum(1 for c in codes if c != 0),
        "records": len(ids),
        "lost": appenders * appends - len(set(ids)),
        "duplicated": len(ids) - len(set(ids)),
        "each_process_in_order": in_order,
        "history_verify_exit": chain,
        "temp_files": temps,
        "seconds": round(elapsed, 1),
        "seconds_since_release": round(time.monotonic() - started, 1),
    }


def busy_lock(trials: int) -> dict[str, object]:
    exits: dict[int, int] = {}
    messages_ok = unchanged = evidence_written = temps = 0
    with tempfile.TemporaryDirectory(prefix="reliability-lock-") as tmp:
        runner = DrillRunner(cwd=Path(tmp))
        assert runner.run().returncode == 0
        for _ in range(trials):
            before = Files.in_workdir(runner.out)
            with history_lock_held(runner.out / HISTORY):
                result = runner.run("--lock-timeout", "0.5")
            after = Files.in_workdir(runner.out)
            exits[result.returncode] = exits.get(result.returncode, 0) + 1
            messages_ok += "is locked by another process (waited 0.5 s)" in result.stderr
            unchanged += after.history == before.history and after.readiness == before.readiness
            evidence_written += after.evidence != before.evidence
            temps += len(temp_files(runner.out))
        runner.stop_leaks()
    return {
        "trials": trials,
        "exit_codes": exits,
        "lock_message": messages_ok,
        "history_and_readiness_unchanged": unchanged,
        "evidence_replaced": evidence_written,
        "temp_files": temps,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--drills", type=int, default=8)
    parser.add_argument("--appenders", type=int, default=16)
    parser.add_argument("--appends", type=int, default=50)
    parser.add_argument("--lock-trials", type=int, default=20)
    parser.add_argument("--json-out", type=Path)
    args = parser.parse_args()
    results = {
        "concurrent_drills": concurrent_drills(args.rounds, args.drills),
        "append_stress": append_stress(args.appenders, args.appends),
        "busy_lock": busy_lock(args.lock_trials),
    }
    for name, figures in results.items():
        print(f"{name}: " + ", ".join(f"{k}={v}" for k, v in figures.items()))
    if args.json_out:
        args.json_out.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
