"""How `cavra-drill report --out report.html` scales with the number of drills in the history.

Usage: python benchmarks/report_scale.py [--sizes 100,1000,10000,100000] [--runs 10]

For each size, writes a sealed history as `cavra-drill run` leaves one (records with the fields
`drill.evidence.build_record` gives them, chained by `contract.integrity.seal_record`, indented
as the store writes them; one drill an hour, the latest a day old, about 1 in 20 failed, recovery
times of a few seconds against a 15-minute target) next to the sample plan, evidence and
schedule, and measures the whole-process wall time of `cavra-drill report` in promoted mode:
reading and judging the four files, checking the hash chain of every record, charting the
latest 200 drills, the public-safety gate over what the page shows, and the atomic write.
Target: median <= 1 s at 10,000 drills.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.startup import write_samples
from benchmarks.timing import time_command
from cavra_drill.contract.integrity import seal_record

HISTORY_SCHEMA = "cavra.go-backend-rollback-drill-history.v1"
ENVIRONMENT = "production-pilot"

TARGET_SECONDS = {10_000: 1.0}


def write_history(directory: Path, size: int) -> Path:
    """A sealed history of `size` hourly drills, the latest a day old (seeded: the same every time)."""
    rng = random.Random(size)
    latest = datetime.now(UTC).replace(microsecond=0) - timedelta(days=1)
    drills: list[object] = []
    for index in range(size):
        executed_at = latest - timedelta(hours=size - 1 - index)
        drill_id = f"drill_{executed_at:%Y%m%dT%H%M%SZ}_{index:06x}"
        passed = index == size - 1 or rng.random() > 0.05
        outcome = "fallback-restored" if passed else "fallback-not-restored"
        record = {
            "drill_id": drill_id,
            "executed_at": f"{executed_at:%Y-%m-%dT%H:%M:%SZ}",
            "actor": "release-agent",
            "environment": ENVIRONMENT,
            "source_mode": "promoted",
            "target_mode": "disabled",
            "status": "pass" if passed else "fail",
            "fallback_verified": passed,
            "recovery_minutes": round(rng.uniform(0.02, 0.09), 4),
            "max_recovery_minutes": 15,
            "runbook_ref": "runbooks/go-backend-python-fallback.md",
            "evidence_refs": [
                f"go-rollback-rehearsal://{ENVIRONMENT}/{drill_id}/{outcome}",
                f"go-production-readiness://{ENVIRONMENT}/{drill_id}/after-rehearsal",
            ],
            "evidence_sha256": rng.randbytes(32).hex(),
        }
        drills.append(seal_record(record, drills))
    path = directory / "go-backend-rollback-drills.json"
    document = {"schema_version": HISTORY_SCHEMA, "environment": ENVIRONMENT, "drills": drills}
    path.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="100,1000,10000,100000")
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    cli = shutil.which("cavra-drill", path=str(Path(sys.executable).parent)) or "cavra-drill"
    env = {k: v for k, v in os.environ.items() if not k.startswith("CAVRA_")}
    for size in (int(text) for text in args.sizes.split(",")):
        with tempfile.TemporaryDirectory() as tmp:
            directory = Path(tmp)
            samples = write_samples(directory)
            history = write_history(directory, size)
            argv = [
                cli,
                "report",
                "--mode",
                "promoted",
                "--plan",
                samples["plan"],
                "--rehearsal",
                samples["rehearsal"],
                "--history",
                str(history),
                "--schedule",
                samples["schedule"],
                "--out",
                str(directory / "report.html"),
            ]
            # Exit 1 is a verdict, not an error: about 1 in 20 generated drills failed, the latest too.
            timing = time_command(
                f"report, {size:,} drills", argv, runs=args.runs, cwd=directory, env=env, ok_codes=(0, 1)
            )
            page = (directory / "report.html").stat().st_size
            target = TARGET_SECONDS.get(size)
            verdict = (
                "" if target is None else f"  target <= {target:g} s: {'met' if timing.median <= target else 'MISSED'}"
            )
            print(
                f"{timing.line()}; history {history.stat().st_size / 1e6:.1f} MB, page {page / 1e3:.0f} kB{verdict}",
                flush=True,
            )


if __name__ == "__main__":
    main()
