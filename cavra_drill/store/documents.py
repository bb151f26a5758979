"""Reading CAVRA's files from disk into `contract.documents.Document` (contract §2).

Only the file system lives here: what counts as missing, unreadable or too large. Whatever
the bytes are, `contract.documents.parse_document` turns them into a judged document.
"""

from __future__ import annotations

import os
import stat

from cavra_drill.contract.documents import (
    INVALID_PREFIX,
    Document,
    missing,
    not_configured,
    parse_document,
    unreadable,
)

# Far above any real CAVRA file (a 100,000-drill history is ~60 MB); a bound so that a
# mistaken path to a disk image cannot exhaust memory.
MAX_DOCUMENT_BYTES = 256 * 1024 * 1024


class NotAFile(Exception):
    """The path is absent or not a regular file (CAVRA's "missing")."""


class Unreadable(Exception):
    """A regular file that could not be read, or is larger than the bound."""


def read_file_bytes(path: str, *, limit: int = MAX_DOCUMENT_BYTES) -> bytes:
    """The bytes of a regular file, read without ever blocking or reading without end.

    Raises NotAFile for an absent path, a directory, a FIFO or a device, and Unreadable for a
    permission or I/O error or a file over `limit` bytes. The file is opened non-blocking and
    checked again after opening, so a FIFO swapped in after the first look cannot hang us.
    """
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):
            raise NotAFile(path)
    except (OSError, ValueError):
        # Absent, a dangling link, a symlink loop, a path through a non-directory, a NUL byte.
        raise NotAFile(path) from None
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as exc:
        raise Unreadable(exc.strerror or type(exc).__name__) from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise NotAFile(path)
        if info.st_size > limit:
            raise Unreadable(f"file is larger than {limit} bytes")
        with os.fdopen(os.dup(fd), "rb") as handle:
            raw = handle.read(limit + 1)
    except OSError as exc:
        raise Unreadable(exc.strerror or type(exc).__name__) from None
    finally:
        os.close(fd)
    if len(raw) > limit:
        raise Unreadable(f"file is larger than {limit} bytes")
    return raw


def read_document(path: str) -> Document:
    if not path:
        return not_configured()
    try:
        raw = read_file_bytes(path)
    except NotAFile:
        return missing(path)
    except Unreadable as exc:
        reason = str(exc)
        if reason.startswith("file is larger"):
            return Document(path, None, f"{INVALID_PREFIX}{reason}")
        return unreadable(path, reason)
    return parse_document(path, raw)
