"""The reliability tests' fixture: real drills in a temporary directory, and a leak check.

Whatever a test does to its drills (SIGKILL, signals, full disks), no process any of them
started may still be running when the test ends.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from reliability.harness import DrillRunner


@pytest.fixture
def runner(tmp_path: Path) -> Iterator[DrillRunner]:
    drills = DrillRunner(cwd=tmp_path)
    yield drills
    _, alive = drills.wait_no_leaks(timeout=5.0)
    if alive:
        drills.stop_leaks()
    assert not alive, f"drill processes still running after the test: {alive}"
