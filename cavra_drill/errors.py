"""The exceptions cavra-drill raises when it cannot do its job, and their exit codes.

A failed rollback or a readiness verdict of `needs_attention` is *data* (exit 1), never an
exception. An exception means the tool itself was stopped::

    DrillError                 base; carries the exit code and one line for the user
    ├── UsageError        (2)  a flag or argument is wrong
    ├── InputError        (3)  a file we were given (plan, history, runbook, output path) is unusable
    ├── EnvironmentFault  (4)  the machine prevented the drill (spawn failed, lock busy, disk full)
    └── Interrupted     (130)  SIGINT/SIGTERM; cleanup has already run

The CLI has a single boundary that turns these into `cavra-drill: <message>` and the exit code.
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_INPUT = 3
EXIT_ENVIRONMENT = 4
EXIT_INTERRUPTED = 130


class DrillError(Exception):
    """Base class: `message` is one line, safe to print (no secrets, no tracebacks)."""

    exit_code = EXIT_FAILED

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class UsageError(DrillError):
    exit_code = EXIT_USAGE


class InputError(DrillError):
    exit_code = EXIT_INPUT


class EnvironmentFault(DrillError):
    exit_code = EXIT_ENVIRONMENT


class Interrupted(DrillError):
    exit_code = EXIT_INTERRUPTED
