"""JSON as cavra-drill prints it: indented, UTF-8, never a non-standard NaN/Infinity."""

from __future__ import annotations

import json


def _null(_: object) -> None:
    # Only NonFinite sentinels (NaN/Infinity read from a file) reach here; JSON has no such value.
    return None


def render_json(value: object) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False, allow_nan=False, default=_null) + "\n"
