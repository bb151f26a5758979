"""The Markdown step summary of one `cavra-drill run` (GitHub's `$GITHUB_STEP_SUMMARY`).

Status, recovery against the target, the phases, the readiness checks and the names of the
files written. Only file *names* are shown, not their directories: a CI workspace path says
nothing useful to a reader and may name the runner. Every value from the run is escaped so
that it renders as text, never as Markdown or HTML.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from cavra_drill.formats.drill_cases import (
    FAILED,
    PASSED,
    PRODUCTION_GROUP,
    SECTIONS,
    DrillCase,
    drill_cases,
    readiness_cases,
)

SECTION_TITLES = {
    "go_backend_rollback": "rollback plan",
    "go_backend_rollback_rehearsal": "rehearsal evidence",
    "go_backend_rollback_drill_history": "drill history",
    "go_backend_rollback_drill_schedule": "drill schedule",
}
_MARK = {PASSED: "pass", FAILED: "**FAIL**"}
# Punctuation that Markdown or GitHub's HTML would interpret in running text or a table cell.
_ESCAPES = str.maketrans(
    {
        "\\": "\\\\",
        "`": "\\`",
        "*": "\\*",
        "_": "\\_",
        "[": "\\[",
        "]": "\\]",
        "|": "\\|",
        "#": "\\#",
        "&": "&amp;",
        "<": "&lt;",
        ">": "&gt;",
        "\r": " ",
        "\n": " ",
    }
)


def render_step_summary(
    evidence: Mapping[str, object],
    readiness: Mapping[str, object],
    files: Mapping[str, str],
    *,
    failure: str | None,
) -> str:
    passed = evidence.get("status") == "pass"
    lines = [
        f"## {'✅' if passed else '❌'} CAVRA rollback drill {'passed' if passed else 'FAILED'}",
        "",
        "| | |",
        "|---|---|",
        f"| drill | {_code(evidence.get('drill_id'))} |",
        f"| environment | {_code(evidence.get('environment'))} |",
        f"| status | **{_text(str(evidence.get('status')).upper())}** |",
        f"| recovery | {_recovery(evidence)} |",
        f"| Python fallback verified | {'yes' if evidence.get('fallback_verified') is True else 'no'} |",
        f"| production readiness (rollback part) | **{_text(readiness.get('status'))}** |",
    ]
    if failure:
        lines += ["", f"Why it failed: {_text(failure)}"]
    lines += ["", "### Phases", "", "| phase | result | seconds | detail |", "|---|---|---:|---|"]
    for case in drill_cases(evidence, failure=failure):
        lines.append(f"| {_code(case.name)} | {_mark(case)} | {case.seconds:.3f} | {_text(case.message)} |")
    lines += ["", "### Readiness checks", "", "| section | check | status | message |", "|---|---|---|---|"]
    lines += _check_rows(readiness)
    lines += ["", "### Files", "", "| file | name |", "|---|---|"]
    lines += [f"| {_text(kind)} | {_code(os.path.basename(path))} |" for kind, path in files.items()]
    return "\n".join(lines) + "\n\n"


def _recovery(evidence: Mapping[str, object]) -> str:
    seconds = evidence.get("recovery_seconds")
    minutes = evidence.get("recovery_minutes")
    target = evidence.get("max_recovery_minutes")
    if not all(_number(v) for v in (seconds, minutes, target)):
        return f"{_text(seconds)} s ({_text(minutes)} min) against a target of {_text(target)} min"
    assert isinstance(seconds, int | float) and isinstance(minutes, int | float) and isinstance(target, int | float)
    text = f"{seconds:.3f} s ({minutes:g} min) against a target of {target:g} min ({target * 60:g} s)"
    if evidence.get("fallback_verified") is not True:
        return f"{text}: **not recovered**, Python fallback was not verified"
    if minutes <= target:
        return f"{text}: {target * 60 - seconds:.3f} s headroom ({100 * (1 - minutes / target):.1f}%)"
    return f"{text}: **over the target** by {seconds - target * 60:.3f} s"


def _check_rows(readiness: Mapping[str, object]) -> list[str]:
    by_group: dict[str, list[DrillCase]] = {}
    for case in readiness_cases(readiness):
        by_group.setdefault(case.group, []).append(case)
    rows = [_row("production", case) for case in by_group.get(PRODUCTION_GROUP, [])]
    for key in SECTIONS:
        section = readiness.get(key)
        if not isinstance(section, Mapping):
            continue
        title = SECTION_TITLES[key]
        if section.get("status") == "not_requested":
            # Its checks warn by design ("not requested"); one row says so without the noise.
            rows.append(f"| {title} | | not requested | not configured for this run; not blocking |")
            continue
        rows += [_row(title, case) for case in by_group.get(f"readiness.{key}", [])]
    return rows


def _row(title: str, case: DrillCase) -> str:
    return f"| {title} | {_code(case.name)} | {_mark(case)} | {_text(case.message)} |"


def _mark(case: DrillCase) -> str:
    return _MARK.get(case.outcome, "warn (not blocking)")


def _number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and value > 0


def _text(value: object) -> str:
    return str(value).translate(_ESCAPES)


def _code(value: object) -> str:
    # Inside a code span nothing is interpreted, except that a backtick would end it and a
    # pipe would end the table cell.
    text = str(value).replace("`", "'").replace("|", "\\|").replace("\n", " ").replace("\r", " ")
    return f"`{text}`"
