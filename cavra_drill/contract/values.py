"""What CAVRA counts as a number, a true, a string and a list of strings (contract, preamble).

CAVRA judges raw JSON field by field, so these predicates take `object` and never raise.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class NonFinite:
    """A `NaN`/`Infinity` constant from a JSON file.

    Python's decoder turns these into floats and CAVRA then accepts `Infinity` as a positive
    number; we keep them as this sentinel so that no rule takes them for a number (§9), and
    so that reports never echo a non-standard JSON value (renderers print it as null).
    """

    name: str


def is_number(value: object) -> bool:
    """An int or float that is finite and not a boolean."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    # An int is always finite; math.isfinite would overflow on one beyond float range.
    return isinstance(value, int) or math.isfinite(value)


def is_positive_number(value: object) -> bool:
    return is_number(value) and value > 0  # type: ignore[operator]


def positive_or_none(value: object) -> float | int | None:
    """The value when it is a positive number, else None (how summaries echo numbers)."""
    if is_positive_number(value):
        assert isinstance(value, int | float)
        return value
    return None


def is_json_true(value: object) -> bool:
    """The literal `true`: not 1, not "true"."""
    return value is True


def is_nonempty_string(value: object) -> bool:
    """A string with something other than white space in it; null and non-strings are missing (§9)."""
    return isinstance(value, str) and value.strip() != ""


def is_string_list(value: object) -> bool:
    return isinstance(value, list) and all(isinstance(item, str) for item in value)


def is_nonempty_string_list(value: object) -> bool:
    return is_string_list(value) and len(value) > 0  # type: ignore[arg-type]


def string_or_none(value: object) -> str | None:
    return value if isinstance(value, str) else None


def string_list_or_empty(value: object) -> list[str]:
    """Echo of a list of strings; anything else echoes as [] (as CAVRA's summaries do)."""
    if is_string_list(value):
        assert isinstance(value, list)
        return list(value)
    return []
