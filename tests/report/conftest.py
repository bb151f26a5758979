"""The report tests reuse the run tests' `drills` fixture: real drills, and no process left behind."""

from __future__ import annotations

from run.conftest import Drills, drills

__all__ = ["Drills", "drills"]
