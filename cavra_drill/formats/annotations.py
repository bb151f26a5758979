"""GitHub Actions error annotations (`::error title=...::message`) for a run's failures.

One line when the drill failed, and one per readiness check that blocks readiness: the
section checks that warn in a `needs_attention` report, which are the causes (the production
report's own check for that section only says "needs attention"; it is annotated only when its
section gives no cause). A `warn` in a report that does not block is not an error here either.

Where the lines go (decided in the CLI): GitHub's docs say workflow commands are "sent to the
runner over stdout", but the runner's script handler (actions/runner,
`src/Runner.Worker/Handlers/ScriptHandler.cs`) feeds stderr through the same command-processing
output manager as stdout, so commands on stderr are honoured too. cavra-drill's stdout is
reserved for `--json` data, so the annotations go to stderr with the rest of the human output.

Escaping follows the workflow-command format: in the message `%`, CR and LF become `%25`,
`%0D`, `%0A`; in a property value `:` and `,` are escaped as well (`%3A`, `%2C`).
"""

from __future__ import annotations

from collections.abc import Mapping

from cavra_drill.formats.drill_cases import DRILL_GROUP, FAILED, PRODUCTION_GROUP, readiness_cases

SECTION_CHECKS = {
    "go_backend_rollback_controls": "readiness.go_backend_rollback",
    "go_backend_rollback_rehearsal": "readiness.go_backend_rollback_rehearsal",
    "go_backend_rollback_drill_history": "readiness.go_backend_rollback_drill_history",
    "go_backend_rollback_drill_schedule": "readiness.go_backend_rollback_drill_schedule",
}


def render_annotations(evidence: Mapping[str, object], readiness: Mapping[str, object], *, failure: str | None) -> str:
    lines = []
    if evidence.get("status") != "pass":
        message = failure or f"drill status is {evidence.get('status')}"
        lines.append(render_error(f"cavra-drill: rollback drill {evidence.get('drill_id')} failed", message))
    failed = [case for case in readiness_cases(readiness) if case.outcome == FAILED and case.group != DRILL_GROUP]
    groups_with_causes = {case.group for case in failed if case.group != PRODUCTION_GROUP}
    for case in failed:
        if case.group == PRODUCTION_GROUP and SECTION_CHECKS.get(case.name) in groups_with_causes:
            continue
        lines.append(render_error(f"cavra-drill readiness: {case.name}", case.message))
    return "".join(lines)


def render_error(title: str, message: str) -> str:
    """One `::error` line, newline included."""
    return f"::error title={_escape_property(title)}::{_escape_data(message)}\n"


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")
