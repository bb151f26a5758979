"""Loading any of CAVRA's four files: the load-failure rules of contract §2, on bytes.

The reading itself (the file system) is in `cavra_drill.store.documents`; this module only
decides what the bytes are, so that every content, however hostile, gives a judged result.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from cavra_drill.contract.values import NonFinite

NOT_CONFIGURED = "metadata path is not configured"
MISSING = "metadata file is missing"
INVALID_PREFIX = "metadata JSON is invalid: "
NOT_OBJECT = "metadata JSON must be an object"
LONE_SURROGATE = "a string holds a lone UTF-16 surrogate escape, which is not text"

_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")
_SURROGATE = re.compile("[\ud800-\udfff]")


def holds_lone_surrogate(document: object) -> bool:
    """Whether any string (or key) in a parsed document holds a surrogate code point.

    Decoded from valid UTF-8, a document can only hold one through a `\\uD800`-style escape
    that no partner completed (a completed pair decodes to one code point above U+FFFF). Such
    a string cannot be written out as UTF-8: echoing it would crash every report.
    """
    stack = [document]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if _SURROGATE.search(item):
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


def may_hold_lone_surrogate(text: str) -> bool:
    """Cheap pre-check on the JSON text: only a surrogate escape can bring one in."""
    return _SURROGATE_ESCAPE.search(text) is not None


@dataclass(frozen=True)
class Document:
    """One of CAVRA's files after loading: `data` is the object, or `error` says why not."""

    path: str
    data: dict[str, Any] | None
    error: str | None

    @property
    def loaded(self) -> bool:
        return self.data is not None

    def get(self, key: str) -> object:
        return None if self.data is None else self.data.get(key)

    @property
    def schema_version(self) -> str | None:
        value = self.get("schema_version")
        return value if isinstance(value, str) else None


def not_configured() -> Document:
    return Document(path="", data=None, error=NOT_CONFIGURED)


def missing(path: str) -> Document:
    return Document(path=path, data=None, error=MISSING)


def unreadable(path: str, reason: str) -> Document:
    """A regular file we cannot read (permissions, I/O): CAVRA would crash; we call it invalid."""
    return Document(path=path, data=None, error=f"{INVALID_PREFIX}file could not be read ({reason})")


def parse_document(path: str, raw: bytes) -> Document:
    """Bytes into a Document; never raises, whatever the bytes are."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        # CAVRA crashes on non-UTF-8 files; we report them as invalid JSON instead (§9).
        return Document(path, None, f"{INVALID_PREFIX}file is not UTF-8 ({exc.reason} at byte {exc.start})")
    try:
        data = json.loads(text, parse_constant=NonFinite)
    except json.JSONDecodeError as exc:
        return Document(path, None, INVALID_PREFIX + str(exc))
    except RecursionError:
        return Document(path, None, INVALID_PREFIX + "document is nested too deeply")
    except ValueError as exc:
        # Not a JSONDecodeError but the decoder refusing a value, e.g. an integer longer than
        # Python's int-conversion limit (4300 digits): CAVRA crashes; we call it invalid.
        return Document(path, None, INVALID_PREFIX + str(exc))
    if not isinstance(data, dict):
        return Document(path, None, NOT_OBJECT)
    if may_hold_lone_surrogate(text) and holds_lone_surrogate(data):
        # Valid JSON syntax, but not text: stricter than CAVRA, which would crash echoing it.
        return Document(path, None, INVALID_PREFIX + LONE_SURROGATE)
    return Document(path, data, None)
