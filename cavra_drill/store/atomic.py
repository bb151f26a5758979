"""Atomic file writes: a reader sees the old file or the new one, never half of either.

The data goes to a temporary file in the same directory (same file system, so the rename is
atomic), is flushed and fsynced, replaces the target with `os.replace`, and the directory is
fsynced so the rename itself survives a crash. On any failure the temporary file is removed and
the previous file is left as it was.

A writer killed with SIGKILL mid-write cannot remove its temporary file. Each writer holds an
exclusive `flock` on its temporary file until the rename, and the kernel drops that lock when
the process dies; so the next write of the same target removes the temporary files nobody holds
(`.<name>.tmp<8 hex>`), and never one that a live writer, in this or another process, is filling.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import re
import secrets
import stat
from pathlib import Path

from cavra_drill.errors import EnvironmentFault, InputError

# Errors that mean the machine, not the path we were given, stopped the write.
_NO_SPACE = frozenset({errno.ENOSPC, errno.EDQUOT})
# File systems that cannot fsync a directory say so with these; the rename has happened anyway.
_DIR_SYNC_UNSUPPORTED = frozenset({errno.EINVAL, errno.ENOTSUP, errno.EBADF})
_TEMP_ATTEMPTS = 5
_TEMP_SUFFIX = re.compile(r"\.tmp[0-9a-f]{8}")
# flock is not available everywhere (some FUSE and network file systems): writing goes on
# without it, and a temporary file that cannot be locked is never taken for a stale one.
_NO_LOCKS = frozenset({errno.ENOLCK, errno.EOPNOTSUPP, errno.ENOTSUP, errno.EINVAL})


def write_atomic(path: Path, data: bytes, *, what: str) -> None:
    """Replace `path` with `data` atomically.

    Raises InputError (exit 3) when the path cannot be written (missing or non-directory
    parent, read-only, permission, a directory or special file at the path) and EnvironmentFault
    (exit 4) when the disk is full or the quota exhausted.
    """
    _refuse_non_regular_target(path, what=what)
    _remove_stale_temps(path)
    # The temporary file, from the moment it exists: a signal handler may raise (SIGTERM,
    # Ctrl-C) between any two steps, and whatever step that is, the file must not outlive us.
    created: list[Path] = []
    try:
        fd = _create_temp(path, created)
        try:
            _write_all(fd, data)
            os.fsync(fd)
            # Renamed while still open (and so still locked): until then it is visibly in use.
            os.replace(created[0], path)
            created.clear()
        finally:
            os.close(fd)
        _fsync_directory(path.parent)
    except OSError as error:
        raise _write_error(error, path, what=what) from None
    finally:
        # BaseException too (Ctrl-C mid-write): no temp file may outlive the attempt.
        for temp_path in created:
            with contextlib.suppress(OSError):
                temp_path.unlink()


def write_json_atomic(path: Path, value: object, *, what: str) -> None:
    """Write `value` as indented UTF-8 JSON with a trailing newline, atomically.

    NaN and infinities raise ValueError (and unserialisable values TypeError) before anything is
    written: they are bugs in the caller, not properties of the path.
    """
    text = json.dumps(value, indent=2, sort_keys=False, ensure_ascii=False, allow_nan=False)
    write_atomic(path, (text + "\n").encode("utf-8"), what=what)


def check_writable(path: Path, *, what: str) -> None:
    """Refuse early (InputError) when `path` clearly cannot be written.

    Run before a drill starts so that a bad output path costs nothing; `write_atomic` still
    handles every failure, since the directory can change in between.
    """
    parent = path.parent
    try:
        parent_stat = parent.stat()
    except FileNotFoundError:
        raise InputError(_cannot(what, path, f"directory {parent} does not exist")) from None
    except NotADirectoryError:
        raise InputError(_cannot(what, path, f"{parent} is not a directory")) from None
    except OSError as error:
        raise InputError(_cannot(what, path, _reason(error))) from None
    if not stat.S_ISDIR(parent_stat.st_mode):
        raise InputError(_cannot(what, path, f"{parent} is not a directory"))
    _refuse_non_regular_target(path, what=what)
    # access() also reports a read-only file system (EROFS), which the mode bits do not show.
    if not os.access(parent, os.W_OK | os.X_OK):
        read_only = os.statvfs(parent).f_flag & os.ST_RDONLY
        reason = "read-only file system" if read_only else f"directory {parent} is not writable"
        raise InputError(_cannot(what, path, reason))


def _create_temp(path: Path, created: list[Path]) -> int:
    """Create, lock and return a new temporary file next to `path`, recorded in `created`.

    `created` gets the name as soon as the file exists, so that the caller's cleanup removes it
    whatever interrupts us afterwards; until it is recorded, we remove it ourselves.
    """
    # Our own O_EXCL open rather than tempfile.mkstemp: mkstemp forces mode 0600, and the file
    # must end up readable by the CAVRA process exactly as a normally created file would be.
    mode = 0o666  # no previous file: the umask decides, as for any new file
    with contextlib.suppress(OSError):
        mode = stat.S_IMODE(path.stat().st_mode)
    for _ in range(_TEMP_ATTEMPTS):
        candidate = path.with_name(f".{path.name}.tmp{secrets.token_hex(4)}")
        try:
            fd = os.open(candidate, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
            created.append(candidate)
        except FileExistsError:
            continue
        except BaseException:
            # Raised right after the open (a signal handler), before the name was recorded.
            with contextlib.suppress(OSError):
                candidate.unlink()
            raise
        try:
            _lock(fd)
            if not _names(candidate, fd):
                # Another writer's sweep took it for stale between our open and our lock.
                created.remove(candidate)
                os.close(fd)
                continue
            if mode != 0o666:
                os.fchmod(fd, mode)  # the umask must not narrow an existing file's mode
        except BaseException:
            os.close(fd)
            raise
        return fd
    raise FileExistsError(errno.EEXIST, "could not pick a temporary file name")


def _lock(fd: int) -> None:
    """Hold an exclusive flock on `fd` until it is closed (or this process dies)."""
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
    except OSError as error:
        if error.errno not in _NO_LOCKS:
            raise


def _names(candidate: Path, fd: int) -> bool:
    """Whether `candidate` is still the name of the open file `fd`."""
    try:
        named = candidate.lstat()
    except FileNotFoundError:
        return False
    opened = os.fstat(fd)
    return (named.st_dev, named.st_ino) == (opened.st_dev, opened.st_ino)


def _remove_stale_temps(path: Path) -> None:
    """Remove the temporary files of `path` that no live writer holds; never raises.

    Left by a writer killed mid-write. A file is removed only while this process holds its
    lock, so a writer that opened it but has not locked it yet sees it gone and picks another.
    """
    prefix = f".{path.name}"
    try:
        names = os.listdir(path.parent)
    except OSError:
        return
    for name in names:
        if not name.startswith(prefix) or not _TEMP_SUFFIX.fullmatch(name, len(prefix)):
            continue
        candidate = path.parent / name
        try:
            fd = os.open(candidate, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
        except OSError:
            continue  # gone already, a symlink, or not ours to open
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            if stat.S_ISREG(os.fstat(fd).st_mode) and _names(candidate, fd):
                candidate.unlink()
        except OSError:
            pass  # held by a live writer (EWOULDBLOCK), or no locks here: leave it
        finally:
            os.close(fd)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def _fsync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    except OSError as error:
        if error.errno not in _DIR_SYNC_UNSUPPORTED:
            raise
    finally:
        os.close(fd)


def _refuse_non_regular_target(path: Path, *, what: str) -> None:
    try:
        target = path.lstat()
    except FileNotFoundError:
        return
    except NotADirectoryError:
        raise InputError(_cannot(what, path, f"{path.parent} is not a directory")) from None
    except OSError as error:
        raise InputError(_cannot(what, path, _reason(error))) from None
    if stat.S_ISLNK(target.st_mode):
        # os.replace would replace the link itself: a symlinked history would silently part
        # from the file it pointed to, and a dangling one vanish. Writing through it instead
        # would let whoever can place a link choose what a root-run drill overwrites.
        raise InputError(_cannot(what, path, "it is a symbolic link; give the path of the file itself"))
    if stat.S_ISDIR(target.st_mode):
        raise InputError(_cannot(what, path, "it is a directory"))
    if not stat.S_ISREG(target.st_mode):
        # As root, os.replace would happily swap out /dev/null or a FIFO.
        raise InputError(_cannot(what, path, "it is not a regular file"))


def _write_error(error: OSError, path: Path, *, what: str) -> InputError | EnvironmentFault:
    if error.errno in _NO_SPACE:
        return EnvironmentFault(f"no space left writing {what} {path}")
    if error.errno == errno.EIO:
        return EnvironmentFault(f"input/output error writing {what} {path}")
    if isinstance(error, FileNotFoundError):
        return InputError(_cannot(what, path, f"directory {path.parent} does not exist"))
    if isinstance(error, NotADirectoryError):
        return InputError(_cannot(what, path, f"{path.parent} is not a directory"))
    if isinstance(error, IsADirectoryError):
        return InputError(_cannot(what, path, "it is a directory"))
    return InputError(_cannot(what, path, _reason(error)))


def _reason(error: OSError) -> str:
    if error.errno == errno.EROFS:
        return "read-only file system"
    if isinstance(error, PermissionError):
        return "permission denied"
    return (error.strerror or type(error).__name__).lower()


def _cannot(what: str, path: Path, reason: str) -> str:
    return f"cannot write {what} {path}: {reason}"
