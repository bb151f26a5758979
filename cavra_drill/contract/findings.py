"""A failed rule, named by the field it is about: what the human output and `validate` list."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Failure:
    """One rule that did not hold. `field` is a JSON path (`drills[3].status`) or `(file)`."""

    field: str
    message: str

    def describe(self) -> str:
        return f"{self.field}: {self.message}"


FILE_FIELD = "(file)"


@dataclass
class Rules:
    """Collects failed rules, and CAVRA's message: the failures CAVRA's own message names.

    CAVRA's messages leave some failed rules out (§9); `in_message=False` records such a rule
    as a failure for our output without adding it to the CAVRA-compatible message.
    """

    failures: list[Failure] = field(default_factory=list)
    message_parts: list[str] = field(default_factory=list)

    def check(self, ok: bool, where: str, text: str, *, in_message: bool) -> bool:
        if not ok:
            self.failures.append(Failure(where, text))
            if in_message:
                self.message_parts.append(text)
        return ok

    def message(self, success: str) -> str:
        return "; ".join(self.message_parts) if self.message_parts else success
