"""A failed rule, named by the field it is about: what the human output and `validate` list."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Failure:
    """One rule that did not hold. `field` is a JSON path (`drills[3].status`) or `(file)`."""

    field: str
    message: str

    def describe(self) -> str:
        return f"{self.field}: {self.message}"


FILE_FIELD = "(file)"
