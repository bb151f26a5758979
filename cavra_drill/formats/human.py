"""Readable text for people at a terminal or reading a CI log (written to stderr)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from cavra_drill.contract.findings import Failure

SECTION_TITLES = {
    "go_backend_rollback": "rollback plan",
    "go_backend_rollback_rehearsal": "rehearsal evidence",
    "go_backend_rollback_drill_history": "drill history",
    "go_backend_rollback_drill_schedule": "drill schedule",
}


def _checks(checks: object, indent: str) -> list[str]:
    lines = []
    for item in checks if isinstance(checks, list) else []:
        if isinstance(item, Mapping):
            lines.append(f"{indent}{item.get('status', '?'):<5} {item.get('id')}: {item.get('message')}")
    return lines


def render_readiness(
    title: str, report: Mapping[str, object], failures: Sequence[tuple[str, Failure]], as_of: str
) -> str:
    """The status, each check with its status and message, then every failed rule (§9)."""
    lines = [f"{title}: {report.get('status')}  (as of {as_of})"]
    lines += _checks(report.get("checks"), "  ")
    for key, section_title in SECTION_TITLES.items():
        section = report.get(key)
        if isinstance(section, Mapping):
            lines.append(f"  {section_title}: {section.get('status')}")
            if section.get("status") != "not_requested":  # unrequested checks are noise here
                lines += _checks(section.get("checks"), "    ")
    lines += render_failures(failures)
    return "\n".join(lines) + "\n"


def render_failures(failures: Iterable[tuple[str, Failure]]) -> list[str]:
    rows = [f"  {artifact} {failure.describe()}" for artifact, failure in failures]
    return ["failed rules:", *rows] if rows else []
