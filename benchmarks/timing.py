"""Whole-process timing for the benchmarks: run a command N times, report median and p95.

Wall time of the whole process (fork, interpreter start, imports, work, exit) on the
monotonic clock, which is what a user or a CI job waits for.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Timing:
    label: str
    samples: list[float]

    @property
    def median(self) -> float:
        return statistics.median(self.samples)

    @property
    def p95(self) -> float:
        ordered = sorted(self.samples)
        return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]

    def line(self) -> str:
        return (
            f"{self.label}: median {self.median * 1000:.1f} ms, p95 {self.p95 * 1000:.1f} ms, "
            f"min {min(self.samples) * 1000:.1f} ms, n={len(self.samples)}"
        )


def time_command(
    label: str,
    args: Sequence[str],
    *,
    runs: int,
    cwd: Path,
    env: Mapping[str, str] | None = None,
    warmup: int = 2,
    ok_codes: tuple[int, ...] = (0,),
) -> Timing:
    samples = []
    for index in range(warmup + runs):
        start = time.monotonic()
        done = subprocess.run(args, cwd=cwd, env=env, capture_output=True, check=False)
        elapsed = time.monotonic() - start
        if done.returncode not in ok_codes:
            sys.stderr.write(done.stderr.decode(errors="replace"))
            raise SystemExit(f"{label}: exit {done.returncode}")
        if index >= warmup:
            samples.append(elapsed)
    return Timing(label, samples)
