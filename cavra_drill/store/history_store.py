"""The drill history: a locked read-modify-write that appends one drill.

Several drills (CI jobs, operators) may append to the same history at once. Each append takes
an exclusive lock on `<history>.lock`, re-reads the history under that lock (it may have
changed since the caller looked), appends, and replaces the file atomically, so no drill is
lost and a reader never sees a half-written history.

Each appended record is sealed into the history's hash chain (`contract.integrity`) under that
same lock, since only then is the record before it known for sure.

The lock is `filelock.FileLock`, which uses `flock(2)`: it serialises processes on one machine
and on most local file systems, but it does NOT work across NFS clients (each client only sees
its own locks). Keep a shared history on storage that one machine writes, or serialise the
drills some other way (one CI concurrency group).
"""

from __future__ import annotations

import json
import math
import os
import stat
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from cavra_drill.contract.documents import holds_lone_surrogate, may_hold_lone_surrogate
from cavra_drill.contract.integrity import seal_record
from cavra_drill.errors import EnvironmentFault, InputError
from cavra_drill.store.atomic import check_writable, write_json_atomic
from cavra_drill.store.documents import MAX_DOCUMENT_BYTES

HISTORY_SCHEMA = "cavra.go-backend-rollback-drill-history.v1"
# A \\u escape of a UTF-16 surrogate: the only way a lone surrogate gets into decoded JSON.


def read_history_for_append(path: Path) -> dict[str, object] | None:
    """The history document at `path`, or None when there is none yet.

    Appending to a file that is not a history would destroy it, so anything else (unreadable,
    not UTF-8, not JSON, NaN/Infinity, wrong schema, `drills` not a list) is an InputError. The
    checks stop at what appending needs: an empty `drills` list, or entries CAVRA would not
    parse, are the validator's business, not a reason to refuse a new drill.
    """
    raw = _read_regular_file(path)
    if raw is None:
        return None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise _invalid(path, f"it is not UTF-8 (byte {error.start})") from None
    try:
        document = json.loads(text, parse_constant=_reject_constant, parse_float=_finite_float)
    except _NonFiniteNumber as error:
        raise _invalid(path, str(error)) from None
    except json.JSONDecodeError as error:
        # msg/line/column only: the decoder's text never quotes the document.
        where = f"line {error.lineno} column {error.colno}"
        raise _invalid(path, f"invalid JSON: {error.msg} ({where})") from None
    except RecursionError:
        raise _invalid(path, "invalid JSON: nested too deeply") from None
    except ValueError:
        # The decoder refusing a value rather than the syntax: an integer past Python's
        # int-conversion limit (4300 digits).
        raise _invalid(path, "invalid JSON: a number has too many digits") from None
    if not isinstance(document, dict):
        raise _invalid(path, "the top level must be a JSON object")
    if may_hold_lone_surrogate(text) and holds_lone_surrogate(document):
        # `"\ud800"` is valid JSON syntax but not text: the history could never be written
        # back as UTF-8, so the append would fail after the drill.
        raise _invalid(path, "a string holds a lone UTF-16 surrogate escape, which is not text")
    if document.get("schema_version") != HISTORY_SCHEMA:
        raise _invalid(path, f"schema_version must be {HISTORY_SCHEMA}")
    if not isinstance(document.get("drills"), list):
        raise _invalid(path, "drills must be a list")
    return document


class HistoryLocked(EnvironmentFault):
    """Another process held the history's lock for longer than the caller would wait."""


@contextmanager
def history_lock(path: Path, *, lock_timeout: float = 30.0) -> Iterator[None]:
    """Hold the history's lock (`<history>.lock`) for a read-modify-write of it.

    Raises EnvironmentFault when another process holds it longer than `lock_timeout` seconds,
    InputError when the lock file cannot be created. Waiting is interruptible.
    """
    # Imported here: `history` and `history verify` read histories through this module, and
    # filelock would add to their start.
    from filelock import FileLock, Timeout

    # Before locking: filelock creates missing parent directories for its lock file, which would
    # turn a mistyped path into a new directory tree instead of an error.
    check_writable(path, what="drill history")
    lock = FileLock(str(path) + ".lock", timeout=lock_timeout)
    try:
        lock.acquire()
    except Timeout:
        raise HistoryLocked(f"drill history {path} is locked by another process (waited {lock_timeout:g} s)") from None
    except OSError as error:
        reason = error.strerror or type(error).__name__
        raise InputError(f"cannot lock drill history {path}: {reason.lower()}") from None
    try:
        yield
    finally:
        lock.release()


def append_drill_locked(path: Path, record: Mapping[str, object], *, environment: str) -> dict[str, object]:
    """Append `record` to the history at `path`; the caller holds `history_lock(path)`.

    The history is re-read here, under the lock (it may have changed since the caller looked):
    created for `environment` if absent, refused if it records another environment (a drill of
    one environment must not count as another's in CAVRA's gate). The record is sealed into the
    hash chain: `previous_record_sha256` links it to the entry before it and `record_sha256`
    covers it (chain fields passed in `record` are replaced). Returns the document as written.
    """
    from cavra_drill.contract.safety import check_safe

    document = read_history_for_append(path)
    if document is None:
        document = {"schema_version": HISTORY_SCHEMA, "environment": environment, "drills": []}
        check_safe(environment, artifact=f"drill history {path}", path="environment")
    recorded = document.get("environment")
    if recorded is not None and recorded != environment:
        raise InputError(
            f"drill history {path}: records environment {recorded!r}, not {environment!r}; "
            "pass --environment to match it or use another history"
        )
    drills = document["drills"]
    assert isinstance(drills, list)  # read_history_for_append guarantees it
    # Only the new drill is scanned: earlier entries are carried over as they are, and
    # scanning 10,000 of them on every append would add most of a second.
    sealed = seal_record(record, drills)
    check_safe(sealed, artifact=f"drill history {path}", path=f"drills[{len(drills)}]")
    drills.append(sealed)
    write_json_atomic(path, document, what="drill history")
    return document


def append_drill(
    path: Path,
    record: Mapping[str, object],
    *,
    environment: str,
    lock_timeout: float = 30.0,
) -> dict[str, object]:
    """Take the lock and append (see `history_lock` and `append_drill_locked`)."""
    with history_lock(path, lock_timeout=lock_timeout):
        return append_drill_locked(path, record, environment=environment)


def _read_regular_file(path: Path) -> bytes | None:
    """The bytes of the file at `path`; None when there is none; InputError when it is not a
    regular file of reasonable size.

    Opened without blocking and checked on the open descriptor: a FIFO must not hang the read,
    and a link to /dev/zero must not be read until memory runs out.
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except FileNotFoundError:
        return None
    except NotADirectoryError:
        raise _invalid(path, f"{path.parent} is not a directory") from None
    except PermissionError:
        raise _invalid(path, "it cannot be read (permission denied)") from None
    except OSError as error:
        raise _invalid(path, f"it cannot be read ({(error.strerror or 'i/o error').lower()})") from None
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise _invalid(path, "it is a directory")
        if not stat.S_ISREG(info.st_mode):
            raise _invalid(path, "it is not a regular file")
        if info.st_size > MAX_DOCUMENT_BYTES:
            raise _invalid(path, f"it is larger than {MAX_DOCUMENT_BYTES} bytes")
        with os.fdopen(fd, "rb", closefd=False) as handle:
            raw = handle.read(MAX_DOCUMENT_BYTES + 1)
    except OSError as error:
        raise _invalid(path, f"it cannot be read ({(error.strerror or 'i/o error').lower()})") from None
    finally:
        os.close(fd)
    if len(raw) > MAX_DOCUMENT_BYTES:
        raise _invalid(path, f"it is larger than {MAX_DOCUMENT_BYTES} bytes")
    return raw


class _NonFiniteNumber(ValueError):
    pass


def _reject_constant(name: str) -> object:
    # Python's decoder accepts NaN/Infinity; CAVRA's contract does not (spec §9), and the
    # rewritten history could not be rendered (allow_nan=False) anyway.
    raise _NonFiniteNumber(f"{name} is not a JSON number")


def _finite_float(text: str) -> float:
    # `1e400` is valid JSON syntax but decodes to infinity, which could not be written back.
    value = float(text)
    if not math.isfinite(value):
        raise _NonFiniteNumber("a number is too large for a float")
    return value


def _invalid(path: Path, reason: str) -> InputError:
    return InputError(f"{path}: drill history is not a valid history: {reason}")
