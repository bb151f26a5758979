"""The CLI's one error boundary: a `DrillError` becomes one line on stderr and its exit code."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import NoReturn

import typer

from cavra_drill.errors import DrillError


def finish(action: Callable[[], int]) -> NoReturn:
    """Run a command body and exit with its code; no traceback ever reaches the user."""
    try:
        code = action()
    except DrillError as error:
        sys.stderr.write(f"cavra-drill: {error.message}\n")
        raise typer.Exit(error.exit_code) from None
    raise typer.Exit(code)
