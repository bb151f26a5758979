"""How `cavra-drill run` takes SIGINT, SIGTERM and SIGHUP, at every moment of its life.

- Before and after the drill, a signal raises `Signalled` in the main thread (SIGINT raises
  KeyboardInterrupt as usual); the caller turns either into `Interrupted` (exit 130).
- During the drill, anyio's signal receiver owns them: the first cancels the drill (cleanup
  still runs, shielded), later ones are only acknowledged, so a second Ctrl-C or a SIGTERM
  from a supervisor cannot cut cleanup short.
- Across the hand-over between the two (asyncio puts SIGTERM back to "terminate" when its
  receiver closes) and while the drill's files are written, the signals are blocked: one that
  arrives then waits, and is taken the moment they are unblocked.
"""

from __future__ import annotations

import signal
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

TERMINATING = frozenset({signal.SIGINT, signal.SIGTERM, signal.SIGHUP})


class Signalled(Exception):
    """SIGTERM or SIGHUP arrived while no drill was running."""


def _raise(signum: int, _frame: FrameType | None) -> None:
    raise Signalled(signal.Signals(signum).name)


def install_raising_handlers() -> None:
    """SIGTERM/SIGHUP raise `Signalled`; SIGINT raises KeyboardInterrupt (Python's default)."""
    signal.signal(signal.SIGTERM, _raise)
    signal.signal(signal.SIGHUP, _raise)
    signal.signal(signal.SIGINT, signal.default_int_handler)


@contextmanager
def raising_signals() -> Iterator[None]:
    """For the whole run: signals become exceptions; the previous handlers come back after."""
    previous = {sig: signal.getsignal(sig) for sig in TERMINATING}
    install_raising_handlers()
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def block() -> set[int | signal.Signals]:
    """Hold the terminating signals back; returns the previous mask for `restore`."""
    return signal.pthread_sigmask(signal.SIG_BLOCK, TERMINATING)


def unblock() -> None:
    signal.pthread_sigmask(signal.SIG_UNBLOCK, TERMINATING)


def restore(mask: set[int | signal.Signals]) -> None:
    """Put the mask back; a signal held meanwhile is delivered now, to the current handlers."""
    signal.pthread_sigmask(signal.SIG_SETMASK, mask)


@contextmanager
def deferred() -> Iterator[None]:
    """Signals wait until the block ends (for writing a set of files that belong together)."""
    mask = block()
    try:
        yield
    finally:
        restore(mask)
