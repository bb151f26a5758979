"""Running the real `cavra-drill` in tests: a clean environment and the result of one run."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

CAVRA_PREFIXES = ("CAVRA_", "GITHUB_")


@dataclass(frozen=True)
class CliResult:
    returncode: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        return json.loads(self.stdout)


def clean_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The test's environment without inherited CAVRA_*/GITHUB_* settings, plus `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(CAVRA_PREFIXES)}
    env.update(extra or {})
    return env


def assert_no_traceback(result: CliResult) -> None:
    assert "Traceback" not in result.stderr, result.stderr
    assert "Traceback" not in result.stdout, result.stdout
