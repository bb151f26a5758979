"""The suite's one way to wait for something that has no event to wait on (another process's state)."""

from __future__ import annotations

import time
from collections.abc import Callable


def poll_until(condition: Callable[[], object], *, timeout: float, interval: float = 0.02) -> bool:
    """Poll `condition` until it is true (True) or `timeout` seconds pass (its last answer)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() >= deadline:
            return bool(condition())
        time.sleep(interval)
    return True


def wait_until(condition: Callable[[], object], *, timeout: float, what: str, interval: float = 0.02) -> None:
    """Poll `condition` until it is true; fail naming `what` after `timeout` seconds."""
    if not poll_until(condition, timeout=timeout, interval=interval):
        raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
