"""Real drills for the history tests: the `run` tests' runner, with the same leak check."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from run.conftest import Drills

from cavra_drill.drill import processes


@pytest.fixture
def drills(tmp_path: Path) -> Iterator[Drills]:
    runner = Drills(cwd=tmp_path)
    yield runner
    leaked = runner.leaked()
    for pid in leaked:
        processes.stop_tree(pid, grace=0.5)
    assert not leaked, f"drill processes still running after the test: {leaked}"
