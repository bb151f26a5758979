"""Kept for test modules that import `Drills`/`drills` from here; the suite-wide fixture is in tests/conftest.py."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from drillrun import Drills, drills_with_leak_check

__all__ = ["Drills", "drills"]


@pytest.fixture
def drills(tmp_path: Path) -> Iterator[Drills]:
    yield from drills_with_leak_check(tmp_path)
