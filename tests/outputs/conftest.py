"""Real drills for the CI-output tests: the `drills` fixture of `tests/run` (leak check included)."""

from __future__ import annotations

from run.conftest import Drills, drills

__all__ = ["Drills", "drills"]
