"""Fake secrets, hosts, addresses and e-mails through every user-controlled input of `run`.

Usage: python benchmarks/reliability_safety.py [--json-out FILE]

Runs every planting of tests/reliability/test_public_safety.py once (each writes evidence,
history, readiness, JUnit, step summary, metrics, attestation, then the HTML report) and
prints, per input, what happened: refused before writing anything, refused after writing
some files, or ran; and which written files, if any, hold the planted value.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from reliability.test_public_safety import PLANTINGS, Outcome, carry_out, leaked_files


def verdict(outcome: Outcome) -> str:
    if outcome.returncode == 3:
        return "refused, nothing written" if not outcome.written else "refused after writing"
    if "Traceback" in outcome.stderr:
        return "traceback"
    return f"ran (exit {outcome.returncode})"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--json-out", type=Path)
    args = parser.parse_args()
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="reliability-safety-") as tmp, ThreadPoolExecutor(max_workers=2) as pool:
        outcomes = list(pool.map(lambda item: carry_out(item[1], Path(tmp) / str(item[0])), enumerate(PLANTINGS)))
    groups: dict[str, list[Outcome]] = defaultdict(list)
    for outcome in outcomes:
        groups[outcome.planting.where].append(outcome)
    print(f"{len(outcomes)} plantings in {time.monotonic() - started:.0f} s")
    print()
    print("| input | plantings | refused, nothing written | refused after writing | ran | leaked into |")
    print("|---|---|---|---|---|---|")
    rows = []
    for where, group in groups.items():
        kinds = [verdict(o) for o in group]
        leaks = sorted({f"{Path(name).name} ({o.planting.kind})" for o in group for name in leaked_files(o)})
        row = {
            "input": where,
            "plantings": len(group),
            "refused_nothing_written": kinds.count("refused, nothing written"),
            "refused_after_writing": kinds.count("refused after writing"),
            "ran": len([k for k in kinds if k.startswith("ran")]),
            "tracebacks": kinds.count("traceback"),
            "leaked_into": leaks,
        }
        rows.append(row)
        print(
            f"| {where} | {row['plantings']} | {row['refused_nothing_written']} | {row['refused_after_writing']} |"
            f" {row['ran']} | {', '.join(leaks) or 'nothing'} |"
        )
    if args.json_out:
        args.json_out.write_text(json.dumps(rows, indent=2) + "\n")


if __name__ == "__main__":
    main()
