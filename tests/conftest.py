"""Fixtures shared by the whole suite: run the real `cavra-drill` as a subprocess, in a clean env."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

CAVRA_PREFIXES = ("CAVRA_", "GITHUB_")


@dataclass(frozen=True)
class CliResult:
    returncode: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        return json.loads(self.stdout)


CliRunner = Callable[..., CliResult]


def clean_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The test's environment without inherited CAVRA_*/GITHUB_* settings, plus `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(CAVRA_PREFIXES)}
    env.update(extra or {})
    return env


@pytest.fixture
def cli(tmp_path: Path) -> CliRunner:
    """Run `python -m cavra_drill ARGS` in `tmp_path` (or `cwd`), with a clean environment."""

    def run(*args: str, env: Mapping[str, str] | None = None, cwd: Path | None = None, timeout: float = 60) -> CliResult:
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


def assert_no_traceback(result: CliResult) -> None:
    assert "Traceback" not in result.stderr, result.stderr
    assert "Traceback" not in result.stdout, result.stdout
