"""How the history commands scale with the number of drills in the history.

Usage: python benchmarks/history_scale.py [--sizes 100,1000,10000,100000] [--runs 10]

For each size, writes a realistic sealed history (records as `cavra-drill run` builds them,
chained as `append_drill` chains them, written as it writes them; the latest drill a day old,
its evidence file next to the history) and measures the whole-process median of
`cavra-drill readiness --json` (promoted, the history from CAVRA_GO_ROLLBACK_DRILL_HISTORY),
`cavra-drill history` and `cavra-drill history verify`, plus one in-process `append_drill` on a
fresh copy of the history each time (the copy is not timed).
Targets at 10,000 drills: readiness and history <= 0.5 s, append <= 0.3 s.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.startup import write_samples
from benchmarks.timing import Timing, time_command
from cavra_drill.contract.integrity import seal_record, sha256_hex
from cavra_drill.store.history_store import HISTORY_SCHEMA, append_drill

ENVIRONMENT = "production-pilot"
TARGETS = {"readiness": 0.5, "history": 0.5, "append": 0.3}


def drill_record(
    index: int, executed_at: datetime, rng: random.Random, evidence_sha256: str, *, status: str = "pass"
) -> dict[str, object]:
    """A record as `cavra_drill.drill.evidence.build_record` makes it."""
    drill_id = f"drill_{executed_at.strftime('%Y%m%dT%H%M%SZ')}_{index % 0xFFFFFF:06x}"
    base = f"{ENVIRONMENT}/{drill_id}"
    restored = "fallback-restored" if status == "pass" else "fallback-not-restored"
    return {
        "drill_id": drill_id,
        "executed_at": executed_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "actor": "release-agent",
        "environment": ENVIRONMENT,
        "source_mode": "promoted",
        "target_mode": "disabled",
        "status": status,
        "fallback_verified": status == "pass",
        "recovery_minutes": round(rng.uniform(0.0008, 0.0015), 4),
        "max_recovery_minutes": 15,
        "runbook_ref": "runbooks/go-backend-python-fallback.md",
        "evidence_refs": [
            f"go-rollback-rehearsal://{base}/{restored}",
            f"go-production-readiness://{base}/after-rehearsal",
        ],
        "evidence_sha256": evidence_sha256,
    }


def write_history(directory: Path, size: int) -> Path:
    """A sealed history of `size` drills, hourly, the latest one day old; its evidence beside it."""
    rng = random.Random(size)
    latest = datetime.now(UTC).replace(microsecond=0) - timedelta(days=1)
    drills: list[object] = []
    for index in range(size):
        executed_at = latest - timedelta(hours=size - 1 - index)
        # One drill in twenty fails; the latest passes, so readiness judges a ready history.
        status = "pass" if index == size - 1 or rng.random() > 0.05 else "fail"
        record = drill_record(index, executed_at, rng, sha256_hex(rng.randbytes(32)), status=status)
        if index == size - 1:
            evidence = (
                json.dumps({"drill_id": record["drill_id"], "status": record["status"]}, indent=2) + "\n"
            ).encode()
            (directory / "go-backend-rollback-rehearsal.json").write_bytes(evidence)
            record["evidence_sha256"] = sha256_hex(evidence)
        drills.append(seal_record(record, drills))
    path = directory / "go-backend-rollback-drills.json"
    document = {"schema_version": HISTORY_SCHEMA, "environment": ENVIRONMENT, "drills": drills}
    path.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def time_append(path: Path, size: int, runs: int) -> Timing:
    rng = random.Random(-size)
    copy = path.with_name("append-copy.json")
    samples = []
    for index in range(runs + 1):
        shutil.copyfile(path, copy)
        record = drill_record(size + index, datetime.now(UTC), rng, sha256_hex(rng.randbytes(32)))
        started = time.perf_counter()
        append_drill(copy, record, environment=ENVIRONMENT)
        elapsed = time.perf_counter() - started
        if index:  # the first is a warm-up
            samples.append(elapsed)
    return Timing("append_drill (in-process)", samples)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="100,1000,10000,100000")
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",")]
    exe = [sys.executable, "-m", "cavra_drill"]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        samples = write_samples(Path(tmp))
        for size in sizes:
            directory = Path(tmp) / f"h{size}"
            directory.mkdir()
            path = write_history(directory, size)
            runs = args.runs if size <= 10_000 else max(3, args.runs // 2)
            env = {
                **{k: v for k, v in os.environ.items() if not k.startswith("CAVRA_")},
                "CAVRA_GO_BACKEND_MODE": "promoted",
                "CAVRA_GO_ROLLBACK_PLAN": samples["plan"],
                "CAVRA_GO_ROLLBACK_REHEARSAL_EVIDENCE": samples["rehearsal"],
                "CAVRA_GO_ROLLBACK_DRILL_SCHEDULE": samples["schedule"],
                "CAVRA_GO_ROLLBACK_DRILL_HISTORY": str(path),
            }
            verify_env = {k: v for k, v in env.items() if k != "CAVRA_GO_ROLLBACK_REHEARSAL_EVIDENCE"}
            timings = {
                "readiness": time_command(
                    "readiness --json", [*exe, "readiness", "--json"], runs=runs, cwd=directory, env=env, warmup=1
                ),
                "history": time_command("history", [*exe, "history"], runs=runs, cwd=directory, env=env, warmup=1),
                "verify": time_command(
                    "history verify", [*exe, "history", "verify"], runs=runs, cwd=directory, env=verify_env, warmup=1
                ),
                "append": time_append(path, size, runs),
            }
            megabytes = path.stat().st_size / 1e6
            print(f"{size} drills ({megabytes:.1f} MB):")
            for name, timing in timings.items():
                target = TARGETS.get(name)
                verdict = (
                    "" if target is None or size != 10_000 else ("  [ok]" if timing.median <= target else "  [MISSED]")
                )
                print(f"  {timing.line()}{verdict}")
            rows.append((size, megabytes, {name: statistics.median(t.samples) for name, t in timings.items()}))
    print("\n| drills | file | readiness --json | history | history verify | append_drill |")
    print("|---:|---:|---:|---:|---:|---:|")
    for size, megabytes, medians in rows:
        cells = " | ".join(f"{medians[name]:.3f} s" for name in ("readiness", "history", "verify", "append"))
        print(f"| {size:,} | {megabytes:.1f} MB | {cells} |")


if __name__ == "__main__":
    main()
