"""Driving real `cavra-drill run` processes into trouble, and judging what they leave behind.

Shared by the reliability tests (a small sample) and the `benchmarks/reliability_*.py` scripts
(hundreds of repetitions), so both check exactly the same invariants:

- the history is a valid history holding every drill that completed before;
- the evidence is the previous file or a complete new one, whose sha256 a history record names
  (or, honestly reported, a new one whose drill never reached the history);
- no process a drill started outlives it;
- no temporary file is left behind, except by a kill exactly during a write, and the next
  write of that file removes it.

Phases are targeted by what can be observed from outside: the drill's marked processes (their
`CAVRA_DRILL_MARKER` environment), the sandbox's incident file, and (through inotify) the
temporary file an atomic write creates.
"""

from __future__ import annotations

import ctypes
import errno
import hashlib
import json
import os
import select
import shutil
import signal
import struct
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from waiting import poll_until

from cavra_drill.drill import processes

EVIDENCE = "go-backend-rollback-rehearsal.json"
HISTORY = "go-backend-rollback-drills.json"
READINESS = "production-readiness.json"
PLAN = "go-backend-rollback-plan.json"
OUT = "cavra-drill-out"
HISTORY_SCHEMA = "cavra.go-backend-rollback-drill-history.v1"
EVIDENCE_SCHEMA = "cavra.go-backend-rollback-rehearsal.v1"
READINESS_SCHEMA = "cavra.deployment.production_readiness.v1"
SERVICE_MODULE = "cavra_drill.drill.service"
RUNTIME_NAME = "cavra-runtime"
FAULT_ENV = "CAVRA_DRILL_SERVICE_FAULT"
MODE_ENV = "CAVRA_GO_BACKEND_MODE"
CLEAN_PREFIXES = ("CAVRA_", "GITHUB_")


def clean_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """Our environment without inherited CAVRA_*/GITHUB_* settings, plus `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(CLEAN_PREFIXES)}
    env.update(extra or {})
    return env


@dataclass(frozen=True)
class Finished:
    returncode: int
    stdout: str
    stderr: str

    @property
    def traceback(self) -> bool:
        return "Traceback" in self.stderr or "Traceback" in self.stdout


@dataclass
class DrillRunner:
    """Starts `cavra-drill` subprocesses in `cwd` and remembers their pids (the drills' owners)."""

    cwd: Path
    actor: str = "reliability-check"
    owners: set[int] = field(default_factory=set)
    # Sandboxes already in the workdir when the last drill started (left by killed drills).
    sandboxes_at_start: set[str] = field(default_factory=set)

    @property
    def out(self) -> Path:
        return self.cwd / OUT

    def start(self, *args: str, env: Mapping[str, str] | None = None, command: str = "run") -> subprocess.Popen[str]:
        self.sandboxes_at_start = set(sandboxes(self.out))
        proc = subprocess.Popen(
            [sys.executable, "-m", "cavra_drill", command, *args],
            cwd=self.cwd,
            env=clean_env({"CAVRA_DRILL_ACTOR": self.actor, **(env or {})}),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.owners.add(proc.pid)
        return proc

    def run(
        self, *args: str, env: Mapping[str, str] | None = None, timeout: float = 120, command: str = "run"
    ) -> Finished:
        return finish(self.start(*args, env=env, command=command), timeout=timeout)

    def leaked(self, owners: Sequence[int] | None = None) -> list[int]:
        """Live processes marked by a drill whose owner is one of ours (or of `owners`)."""
        wanted = set(self.owners if owners is None else owners)
        found = []
        for proc in processes.find_marked():
            marker = marker_of(proc)
            if marker is not None and marker[0] in wanted:
                found.append(proc.pid)
        return found

    def wait_no_leaks(self, owners: Sequence[int] | None = None, timeout: float = 5.0) -> tuple[float, list[int]]:
        """(seconds it took, pids still alive after `timeout`) for the drills of `owners`."""
        started = time.monotonic()
        poll_until(lambda: not self.leaked(owners), timeout=timeout)
        return time.monotonic() - started, self.leaked(owners)

    def stop_leaks(self) -> list[int]:
        """Stop whatever is left (after a failed check), so one failure does not cascade."""
        leaked = self.leaked()
        for pid in leaked:
            processes.stop_tree(pid, grace=0.5)
        return leaked


def finish(proc: subprocess.Popen[str], *, timeout: float = 120) -> Finished:
    try:
        out, err = proc.communicate(timeout=timeout)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    return Finished(proc.returncode, out, err)


def marker_of(proc: Any) -> tuple[int, str] | None:
    try:
        value = proc.environ().get(processes.MARKER_ENV, "")
    except Exception:  # vanished or not ours to read
        return None
    return processes.parse_marker(value)


def _environ_and_cmdline(proc: Any) -> tuple[dict[str, str], list[str]] | None:
    try:
        return dict(proc.environ()), list(proc.cmdline())
    except Exception:  # vanished while we looked
        return None


ProcessTest = Callable[[dict[str, str], list[str]], bool]


def wait_for_process(owner: int, test: ProcessTest, *, timeout: float, alive: Callable[[], bool] | None = None) -> bool:
    """Until a process marked by `owner`'s drill passes `test`; False on timeout or when `alive` says no."""
    stopped = False

    def found() -> bool:
        nonlocal stopped
        if alive is not None and not alive():
            stopped = True
            return True
        for proc in processes.find_marked():
            marker = marker_of(proc)
            if marker is None or marker[0] != owner:
                continue
            seen = _environ_and_cmdline(proc)
            if seen is not None and test(*seen):
                return True
        return False

    return poll_until(found, timeout=timeout, interval=0.005) and not stopped


def is_runtime_call(environ: dict[str, str], cmdline: list[str]) -> bool:
    """A stub Go runtime process: in the baseline (or an incident), one per decision."""
    return any(part.endswith(RUNTIME_NAME) for part in cmdline)


def is_service(mode: str, *, fault_prefix: str | None = None) -> ProcessTest:
    def test(environ: dict[str, str], cmdline: list[str]) -> bool:
        if SERVICE_MODULE not in cmdline or environ.get(MODE_ENV) != mode:
            return False
        return fault_prefix is None or environ.get(FAULT_ENV, "").startswith(fault_prefix)

    return test


def wait_for_path(pattern: str, root: Path, *, timeout: float, alive: Callable[[], bool] | None = None) -> bool:
    stopped = False

    def found() -> bool:
        nonlocal stopped
        if alive is not None and not alive():
            stopped = True
            return True
        return any(root.glob(pattern))

    return poll_until(found, timeout=timeout, interval=0.005) and not stopped


def wait_until(condition: Callable[[], bool], *, timeout: float, interval: float = 0.01) -> bool:
    return poll_until(condition, timeout=timeout, interval=interval)


def wait_for_incident(runner: DrillRunner, proc: subprocess.Popen[str], *, timeout: float = 30) -> bool:
    """Until the drill started last has injected its incident (its sandbox's incident file).

    Sandboxes left by earlier, killed drills may hold an incident file too: they do not count.
    """

    def injected() -> bool:
        return any(
            found.parent.parent.name not in runner.sandboxes_at_start
            for found in runner.out.glob("sandbox/*/runtime/incident")
        )

    poll_until(lambda: proc.poll() is not None or injected(), timeout=timeout, interval=0.005)
    return injected()


# --- inotify: react to a temporary file the moment it is created ---------------------------

_IN_CREATE = 0x100
_IN_MOVED_TO = 0x80
_EVENT = struct.Struct("iIII")


class CreationWatch:
    """Reports files created in one directory whose names start with one of `prefixes`."""

    def __init__(self, directory: Path, prefixes: tuple[str, ...]) -> None:
        self._libc = ctypes.CDLL(None, use_errno=True)
        self.prefixes = prefixes
        self.fd = int(self._libc.inotify_init1(os.O_NONBLOCK | os.O_CLOEXEC))
        if self.fd < 0:
            raise OSError(ctypes.get_errno(), "inotify_init1 failed")
        if self._libc.inotify_add_watch(self.fd, os.fsencode(directory), _IN_CREATE | _IN_MOVED_TO) < 0:
            number = ctypes.get_errno()
            os.close(self.fd)
            raise OSError(number, os.strerror(number))

    def wait(self, timeout: float, *, alive: Callable[[], bool] | None = None) -> str | None:
        deadline = time.monotonic() + timeout
        while (remaining := deadline - time.monotonic()) > 0:
            if alive is not None and not alive():
                return None
            ready, _, _ = select.select([self.fd], [], [], min(remaining, 0.05))
            if not ready:
                continue
            try:
                data = os.read(self.fd, 65536)
            except BlockingIOError:
                continue
            offset = 0
            while offset < len(data):
                _wd, _mask, _cookie, length = _EVENT.unpack_from(data, offset)
                name = data[offset + _EVENT.size : offset + _EVENT.size + length].rstrip(b"\0").decode()
                offset += _EVENT.size + length
                if name.startswith(self.prefixes):
                    return name
        return None

    def close(self) -> None:
        with suppress(OSError):
            os.close(self.fd)


@contextmanager
def watch_creations(directory: Path, *prefixes: str) -> Iterator[CreationWatch]:
    watch = CreationWatch(directory, prefixes)
    try:
        yield watch
    finally:
        watch.close()


@contextmanager
def prompt_reaction() -> Iterator[bool]:
    """Run the caller at real-time priority (root only) while it waits for an event to act on.

    A drill writes its three files within a few milliseconds; at normal priority on a busy
    machine the waiter wakes up after all of them are done. Under SCHED_FIFO it preempts the
    drill, so a kill sent right after "temporary file created" lands in the middle of that write.
    Yields whether real-time priority was granted.
    """
    try:
        os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(10))
    except OSError:
        yield False
        return
    try:
        yield True
    finally:
        os.sched_setscheduler(0, os.SCHED_OTHER, os.sched_param(0))


def kill_when_created(
    proc: subprocess.Popen[str], directory: Path, prefix: str, *, timeout: float = 30, sig: int = signal.SIGKILL
) -> bool:
    """Send `sig` to `proc` the moment a file named `prefix...` appears in `directory`.

    False when the file never appeared (the process ended first, or `timeout`).
    """
    with watch_creations(directory, prefix) as watch, prompt_reaction():
        if watch.wait(timeout, alive=lambda: proc.poll() is None) is None:
            return False
        kill(proc, sig)
        return True


def temp_prefix(name: str) -> str:
    """How the atomic writer names its temporary files for `name`."""
    return f".{name}.tmp"


# --- what a run leaves behind ----------------------------------------------------------------


@dataclass(frozen=True)
class Files:
    """The bytes of the three files a run replaces (None when absent)."""

    evidence: bytes | None
    history: bytes | None
    readiness: bytes | None

    @classmethod
    def read(cls, evidence: Path, history: Path, readiness: Path) -> Files:
        return cls(_read(evidence), _read(history), _read(readiness))

    @classmethod
    def in_workdir(cls, out: Path) -> Files:
        return cls.read(out / EVIDENCE, out / HISTORY, out / READINESS)


def _read(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _strict_json(data: bytes) -> Any:
    def refuse(name: str) -> object:
        raise ValueError(f"{name} is not JSON")

    return json.loads(data.decode("utf-8"), parse_constant=refuse)


def history_drills(data: bytes | None) -> list[dict[str, Any]]:
    if data is None:
        return []
    document = _strict_json(data)
    return [d for d in document["drills"] if isinstance(d, dict)]


# Evidence states after an interrupted run.
OLD = "old"  # the run never replaced it
NEW_RECORDED = "new, recorded in the history"
NEW_UNRECORDED = "new, its drill not in the history"  # killed between the two writes
ABSENT = "absent"


@dataclass
class Verdict:
    """What an interrupted run left, judged against the files before it started."""

    problems: list[str] = field(default_factory=list)
    evidence: str = ABSENT
    drills_added: int = 0
    readiness_replaced: bool = False

    @property
    def ok(self) -> bool:
        return not self.problems


def judge_files(before: Files, after: Files, *, completed: Sequence[str] = ()) -> Verdict:
    """Every invariant of an interruption, as a list of problems (empty: nothing lost)."""
    verdict = Verdict()
    old_ids = [d.get("drill_id") for d in history_drills(before.history)]

    # The history: a valid history, earlier drills kept in order, at most the interrupted one added.
    shas: set[str] = set()
    if after.history is None:
        if before.history is not None:
            verdict.problems.append("history disappeared")
    else:
        try:
            document = _strict_json(after.history)
            assert isinstance(document, dict), "not an object"
            assert document.get("schema_version") == HISTORY_SCHEMA, "wrong schema_version"
            drills = document.get("drills")
            assert isinstance(drills, list) and drills, "drills is not a non-empty list"
            ids = [d.get("drill_id") for d in drills if isinstance(d, dict)]
            shas = {str(d.get("evidence_sha256")) for d in drills if isinstance(d, dict)}
            if ids[: len(old_ids)] != old_ids:
                verdict.problems.append("history lost or reordered earlier drills")
            missing = [i for i in completed if i not in ids]
            if missing:
                verdict.problems.append(f"history lost {len(missing)} completed drill(s)")
            verdict.drills_added = len(ids) - len(old_ids)
            if verdict.drills_added not in (0, 1):
                verdict.problems.append(f"history gained {verdict.drills_added} drills from one run")
        except (ValueError, AssertionError, KeyError, TypeError) as exc:
            verdict.problems.append(f"history is not a valid history: {exc}")

    # The evidence: the old file, or a complete new one.
    if after.evidence is None:
        if before.evidence is not None:
            verdict.problems.append("evidence disappeared")
    elif after.evidence == before.evidence:
        verdict.evidence = OLD
    else:
        try:
            evidence = _strict_json(after.evidence)
            assert isinstance(evidence, dict) and evidence.get("schema_version") == EVIDENCE_SCHEMA
            assert evidence.get("status") in ("pass", "fail")
        except (ValueError, AssertionError) as exc:
            verdict.problems.append(f"evidence is neither the old file nor a complete new one: {exc!r}")
        else:
            verdict.evidence = NEW_RECORDED if sha256(after.evidence) in shas else NEW_UNRECORDED

    # The readiness report: the old one or a complete new one.
    if after.readiness is not None and after.readiness != before.readiness:
        verdict.readiness_replaced = True
        try:
            report = _strict_json(after.readiness)
            assert isinstance(report, dict) and report.get("schema_version") == READINESS_SCHEMA
        except (ValueError, AssertionError) as exc:
            verdict.problems.append(f"readiness report is neither old nor complete: {exc!r}")
    elif after.readiness is None and before.readiness is not None:
        verdict.problems.append("readiness report disappeared")
    return verdict


def temp_files(*directories: Path) -> list[str]:
    """Temporary files of atomic writes (`.<name>.tmp<hex>`) in `directories`."""
    found: list[str] = []
    for directory in directories:
        with suppress(FileNotFoundError):
            found.extend(str(p) for p in directory.iterdir() if p.name.startswith(".") and ".tmp" in p.name)
    return sorted(found)


def sandboxes(out: Path) -> list[str]:
    """Sandbox directories under the workdir (a finished drill removes its own)."""
    with suppress(FileNotFoundError):
        return sorted(p.name for p in (out / "sandbox").iterdir())
    return []


def kill(proc: subprocess.Popen[str], sig: int = signal.SIGKILL) -> None:
    with suppress(ProcessLookupError):
        os.kill(proc.pid, sig)


def remove_tree(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)


def exit_code_name(code: int) -> str:
    if code < 0:
        with suppress(ValueError):
            return f"killed by {signal.Signals(-code).name}"
    return f"exit {code}"


def errno_name(number: int) -> str:
    return errno.errorcode.get(number, str(number))


_LOCK_HOLDER = """
import sys
from filelock import FileLock
with FileLock(sys.argv[1] + ".lock"):
    print("locked", flush=True)
    sys.stdin.read()
"""


@contextmanager
def history_lock_held(history: Path) -> Iterator[subprocess.Popen[str]]:
    """Another process holds the history's lock (as a concurrent drill would) until the block ends."""
    holder = subprocess.Popen(
        [sys.executable, "-c", _LOCK_HOLDER, str(history)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None
        if holder.stdout.readline() != "locked\n":
            raise RuntimeError("the lock holder did not take the lock")
        yield holder
    finally:
        holder.kill()
        holder.wait()
