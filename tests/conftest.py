"""Fixtures shared by the whole suite: run the real `cavra-drill` as a subprocess, in a clean env."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

import pytest
from clirun import CliResult, assert_no_traceback, clean_env
from drillrun import Drills, drills_with_leak_check

__all__ = ["CliResult", "CliRunner", "Drills", "assert_no_traceback", "clean_env"]

CliRunner = Callable[..., CliResult]


@pytest.fixture
def cli(tmp_path: Path) -> CliRunner:
    """Run `python -m cavra_drill ARGS` in `tmp_path` (or `cwd`), with a clean environment."""

    def run(
        *args: str, env: Mapping[str, str] | None = None, cwd: Path | None = None, timeout: float = 60
    ) -> CliResult:
        done = subprocess.run(
            [sys.executable, "-m", "cavra_drill", *args],
            cwd=cwd or tmp_path,
            env=clean_env(env),
            capture_output=True,
            text=True,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
            check=False,
        )
        return CliResult(done.returncode, done.stdout, done.stderr)

    return run


@pytest.fixture
def drills(tmp_path: Path) -> Iterator[Drills]:
    """Real `cavra-drill run` subprocesses in `tmp_path`; the test fails if one leaves a process running."""
    yield from drills_with_leak_check(tmp_path)
