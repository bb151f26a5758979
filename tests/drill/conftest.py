"""Drill fixtures. Every test must end with nothing it started still running: the autouse
`drill_ids` fixture checks, after each test, that no process carries one of its markers."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from cavra_drill.drill import processes
from cavra_drill.drill.sandbox import Sandbox, create_sandbox


class DrillIds:
    """The drill ids a test used; the leak check covers exactly these."""

    def __init__(self) -> None:
        self.used: list[str] = []

    def new(self) -> str:
        drill_id = f"test-{os.getpid()}-{uuid.uuid4().hex[:12]}"
        self.used.append(drill_id)
        return drill_id


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(autouse=True)
def drill_ids() -> Iterator[DrillIds]:
    ids = DrillIds()
    yield ids
    leaked: dict[str, list[int]] = {}
    for drill_id in ids.used:
        pids = [p.pid for p in processes.find_marked(drill_id)]
        if pids:
            leaked[drill_id] = pids
            # Clean up first, so one leaking test does not poison the ones after it.
            processes.sweep_drill(drill_id)
    assert not leaked, f"processes still running after the test: {leaked}"


@pytest.fixture
def drill_id(drill_ids: DrillIds) -> str:
    return drill_ids.new()


@pytest.fixture
def sandbox(tmp_path: Path, drill_id: str) -> Iterator[Sandbox]:
    box = create_sandbox(tmp_path / "sandbox", drill_id=drill_id)
    yield box
    box.remove()
