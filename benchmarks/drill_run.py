"""Whole-process time of a default `cavra-drill run` (target: median <= 1.0 s).

Usage: python benchmarks/drill_run.py [--runs 20]
Each run drills in the same fresh work directory, so the history grows by one per run, as a
scheduled drill's would.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.timing import time_command


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    cli = shutil.which("cavra-drill", path=str(Path(sys.executable).parent)) or "cavra-drill"
    env = {k: v for k, v in os.environ.items() if not k.startswith("CAVRA_")}
    with tempfile.TemporaryDirectory() as tmp:
        print(time_command("cavra-drill run (default)", [cli, "run"], runs=args.runs, cwd=Path(tmp), env=env).line())


if __name__ == "__main__":
    main()
