"""Process supervision: tag what a drill starts, stop it as a tree, sweep what survived.

Every process a drill starts carries `CAVRA_DRILL_MARKER=<owner_pid>:<drill_id>` and
`CAVRA_DRILL_OWNER_PID=<owner_pid>` in its environment and is started in a new session, so it
leads its own process group. That gives three independent ways to find it again: as a
descendant of the process we started, as a member of its group, and by its marker (which
survives reparenting and `setsid`, since `/proc/<pid>/environ` is fixed at exec).

Import cost matters here: the stub runtime and the decision service import this module on
their timed start paths for `set_parent_death_signal`, so psutil (~20 ms) is imported only by
the functions that need it, and `StopReport` is a NamedTuple because `dataclasses` pulls in
`inspect` (~8 ms).

Waiting is done by polling for "gone or zombie" rather than with `psutil.wait_procs`:
psutil reaps processes that are our own children, which steals the exit status from the
asyncio child watcher that anyio relies on (it then logs "unknown child" and reports 255).
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import time
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from collections.abc import Iterable

    import psutil

MARKER_ENV = "CAVRA_DRILL_MARKER"
OWNER_ENV = "CAVRA_DRILL_OWNER_PID"
# Set by the decision service on each runtime call: its own pid, which the stub must have as
# its parent once its death signal is armed.
CALLER_ENV = "CAVRA_DRILL_RUNTIME_CALLER"

_PR_SET_PDEATHSIG = 1
# After SIGKILL a process is gone within milliseconds unless it is stuck in the kernel
# (uninterruptible I/O); waiting longer than this would not change the outcome.
_KILL_WAIT_SECONDS = 2.0
# A pid can only be reused after its process is gone, and reuse needs the pid space to wrap,
# so start times this close are the same process; the tolerance absorbs psutil's rounding.
_CREATE_TIME_TOLERANCE = 0.5
_SWEEP_GRACE_SECONDS = 1.0


class StopReport(NamedTuple):
    """What `stop_tree` did. `survivors` should be empty; anything in it is a leak."""

    pid: int
    terminated: tuple[int, ...]
    killed: tuple[int, ...]
    escalated: bool
    already_gone: bool
    survivors: tuple[int, ...] = ()

    @property
    def stopped(self) -> tuple[int, ...]:
        return tuple(sorted({*self.terminated, *self.killed}))


def marker_env(drill_id: str, owner_pid: int | None = None) -> dict[str, str]:
    """The environment entries that tag a child process as belonging to this drill."""
    if not drill_id or "\0" in drill_id or "\n" in drill_id:
        raise ValueError("drill id must be a non-empty single line")
    owner = os.getpid() if owner_pid is None else owner_pid
    return {MARKER_ENV: f"{owner}:{drill_id}", OWNER_ENV: str(owner)}


def parse_marker(value: str) -> tuple[int, str] | None:
    """`(owner_pid, drill_id)` from a marker value, or None when it is not one of ours."""
    owner, sep, drill_id = value.partition(":")
    if not sep or not drill_id or not owner.isdigit():
        return None
    return int(owner), drill_id


def set_parent_death_signal(sig: int = signal.SIGKILL) -> None:
    """Ask the kernel to send `sig` to this process when its parent dies (Linux only).

    The kernel tracks the parent *thread*: a process started from a worker thread receives
    the signal when that thread exits, even if the parent process lives on. Start children
    that call this from a long-lived thread (anyio spawns from the event loop thread).

    The setting applies from now on: if the parent died before the call, no signal comes.
    Callers close that race by comparing `os.getppid()` with the parent they expect.
    """
    if not sys.platform.startswith("linux"):
        return
    import ctypes  # here, not at the top: ~2 ms, and only Linux needs it

    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(_PR_SET_PDEATHSIG, int(sig), 0, 0, 0) != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, os.strerror(errno))


def stop_tree(pid: int, *, grace: float, create_time: float | None = None) -> StopReport:
    """Stop `pid`, its descendants and its process group: SIGTERM, wait `grace`, SIGKILL.

    Never raises because a process vanished, and returns within about
    `grace + _KILL_WAIT_SECONDS` plus the time to list processes.

    `create_time` (from psutil) guards against pid reuse: if `pid` now belongs to a process
    started at another time, ours is long gone and nothing is signalled.
    """
    import psutil  # lazily: see the module docstring

    root = _process(pid)
    if root is not None and create_time is not None:
        try:
            if abs(root.create_time() - create_time) > _CREATE_TIME_TOLERANCE:
                return StopReport(pid, (), (), escalated=False, already_gone=True)
        except psutil.Error:
            root = None
    already_gone = root is None or _is_gone(root)
    pgid = _own_group(pid, root)

    snapshot = _collect(root, pgid)
    if not snapshot:
        return StopReport(pid, (), (), escalated=False, already_gone=already_gone)

    _signal_all(snapshot, pgid, signal.SIGTERM)
    gone, alive = _wait_gone(snapshot, grace)
    if not alive:
        return StopReport(pid, _pids(gone), (), escalated=False, already_gone=already_gone)

    # Collect again: between the snapshot and now the tree may have forked (a service
    # spawning one more runtime call while ignoring SIGTERM).
    late = [p for p in _collect(root, pgid) if p.pid not in {g.pid for g in gone}]
    targets = {p.pid: p for p in [*alive, *late]}
    _signal_all(list(targets.values()), pgid, signal.SIGKILL)
    killed, survivors = _wait_gone(list(targets.values()), _KILL_WAIT_SECONDS)
    return StopReport(
        pid,
        _pids(gone),
        _pids(killed),
        escalated=True,
        already_gone=already_gone,
        survivors=_pids(survivors),
    )


def find_marked(drill_id: str | None = None) -> list[psutil.Process]:
    """Live processes carrying a drill marker (for `drill_id` only, when given)."""
    import psutil

    found: list[psutil.Process] = []
    me = os.getpid()
    for proc in psutil.process_iter():
        if proc.pid == me:
            continue
        parsed = _marker_of(proc)
        if parsed is None:
            continue
        if drill_id is None or parsed[1] == drill_id:
            found.append(proc)
    return found


def sweep_orphans(*, grace: float = _SWEEP_GRACE_SECONDS) -> list[int]:
    """Stop every marked process whose owner is gone; the pids that were stopped.

    This is how a run cleans up after a previous run that was SIGKILLed before its own
    cleanup could run. Processes whose owner is alive belong to a drill in progress (maybe in
    another terminal) and are left alone.
    """
    orphans: list[psutil.Process] = []
    for proc in find_marked():
        parsed = _marker_of(proc)
        if parsed is not None and not _owner_alive(parsed[0], proc):
            orphans.append(proc)
    return _stop_all(orphans, grace)


def sweep_drill(drill_id: str, *, grace: float = _SWEEP_GRACE_SECONDS) -> list[int]:
    """Stop everything still marked with `drill_id`; the pids that were stopped."""
    return _stop_all(find_marked(drill_id), grace)


def _stop_all(procs: list[psutil.Process], grace: float) -> list[int]:
    import psutil

    def started(proc: psutil.Process) -> float:
        try:
            return float(proc.create_time())
        except psutil.Error:
            return 0.0

    # Oldest first, so a parent's tree stop takes its marked children with it.
    stopped: set[int] = set()
    for proc in sorted(procs, key=started):
        if proc.pid in stopped:
            continue
        try:
            created = float(proc.create_time())
        except psutil.Error:
            continue
        report = stop_tree(proc.pid, grace=grace, create_time=created)
        stopped.update(report.stopped)
    return sorted(stopped)


def _owner_alive(owner_pid: int, proc: psutil.Process) -> bool:
    import psutil

    owner = _process(owner_pid)
    if owner is None or _is_gone(owner):
        return False
    try:
        # A process cannot have been started by one that was created after it: the owner
        # pid has been reused by an unrelated process.
        return bool(owner.create_time() <= proc.create_time() + _CREATE_TIME_TOLERANCE)
    except psutil.Error:
        return False


def _pid_namespace(pid: int | str) -> str | None:
    try:
        return os.readlink(f"/proc/{pid}/ns/pid")
    except OSError:
        return None


def _marker_of(proc: psutil.Process) -> tuple[int, str] | None:
    import psutil

    # A marker's owner pid is as seen from the owner's own pid namespace: from any other
    # namespace (a drill in a container, seen from the host) it names someone else or no one,
    # and a live drill would look orphaned. Only processes of our own namespace are ours to judge.
    if _pid_namespace(proc.pid) != _pid_namespace("self"):
        return None
    try:
        if proc.status() == psutil.STATUS_ZOMBIE:
            return None
        value = proc.environ().get(MARKER_ENV)
    except (psutil.Error, OSError):
        # AccessDenied for other users' processes, NoSuchProcess for ones that just exited.
        return None
    return None if value is None else parse_marker(value)


def _process(pid: int) -> psutil.Process | None:
    import psutil

    try:
        return psutil.Process(pid)
    except (psutil.Error, ValueError):
        return None


def _own_group(pid: int, root: psutil.Process | None) -> int | None:
    """The process group to signal as a whole, or None when that would not be safe.

    Only a group that `pid` leads (it was started with start_new_session) and that is not
    our own: killpg on a shared group would take down the caller and its siblings.
    """
    if root is None:
        # The leader is gone but the group may live on; its id cannot be handed out as a
        # pid while the group exists, so it still names the same group.
        pgid = pid
    else:
        try:
            pgid = os.getpgid(pid)
        except OSError:
            pgid = pid
        if pgid != pid:
            return None
    if pgid == os.getpgrp() or pgid <= 1:
        return None
    return pgid


def _collect(root: psutil.Process | None, pgid: int | None) -> list[psutil.Process]:
    import psutil

    found: dict[int, psutil.Process] = {}
    if root is not None:
        found[root.pid] = root
        try:
            for child in root.children(recursive=True):
                found.setdefault(child.pid, child)
        except psutil.Error:
            pass
    if pgid is not None:
        me = os.getpid()
        for proc in psutil.process_iter():
            if proc.pid == me or proc.pid in found:
                continue
            try:
                if os.getpgid(proc.pid) == pgid:
                    found[proc.pid] = proc
            except OSError:
                continue
    return [p for p in found.values() if not _is_gone(p)]


def _signal_all(procs: Iterable[psutil.Process], pgid: int | None, sig: int) -> None:
    import psutil

    if pgid is not None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pgid, sig)
    for proc in procs:
        # psutil checks the pid still names the same process before signalling.
        with contextlib.suppress(psutil.Error):
            proc.send_signal(sig)


def _is_gone(proc: psutil.Process) -> bool:
    import psutil

    try:
        return bool(proc.status() == psutil.STATUS_ZOMBIE or not proc.is_running())
    except psutil.Error:
        return True


def _wait_gone(procs: list[psutil.Process], timeout: float) -> tuple[list[psutil.Process], list[psutil.Process]]:
    """Wait until each process has exited (a zombie counts), without reaping any of them."""
    deadline = time.monotonic() + max(timeout, 0.0)
    pending = list(procs)
    gone: list[psutil.Process] = []
    interval = 0.002
    while True:
        still: list[psutil.Process] = []
        for proc in pending:
            (gone if _is_gone(proc) else still).append(proc)
        pending = still
        remaining = deadline - time.monotonic()
        if not pending or remaining <= 0:
            return gone, pending
        time.sleep(min(interval, remaining))
        interval = min(interval * 2, 0.05)


def _pids(procs: Iterable[psutil.Process]) -> tuple[int, ...]:
    return tuple(sorted({p.pid for p in procs}))
