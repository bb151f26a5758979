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


def read_document(path: str) -> Document:
    if not path:
        return not_configured()
    try:
        info = os.stat(path)
    except (OSError, ValueError):
        # Absent, a dangling link, a symlink loop, a path through a non-directory, a NUL byte.
        return missing(path)
    if not stat.S_ISREG(info.st_mode):
        # A directory, a FIFO or a device is "missing" to CAVRA; never block reading one.
        return missing(path)
    if info.st_size > MAX_DOCUMENT_BYTES:
        return Document(path, None, f"{INVALID_PREFIX}file is larger than {MAX_DOCUMENT_BYTES} bytes")
    try:
        with open(path, "rb") as handle:
            raw = handle.read(MAX_DOCUMENT_BYTES + 1)
    except OSError as exc:
        return unreadable(path, exc.strerror or type(exc).__name__)
    if len(raw) > MAX_DOCUMENT_BYTES:
        return Document(path, None, f"{INVALID_PREFIX}file is larger than {MAX_DOCUMENT_BYTES} bytes")
    return parse_document(path, raw)
