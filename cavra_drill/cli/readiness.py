"""`cavra-drill readiness`: the verdict CAVRA would give, from the command line."""

from __future__ import annotations

import sys

from cavra_drill.cli.options import ReadinessSettings
from cavra_drill.contract.reports import REPORTS, exit_ok
from cavra_drill.errors import EXIT_FAILED, EXIT_OK
from cavra_drill.formats.human import render_readiness
from cavra_drill.formats.json_text import render_json

# The artifacts whose failed rules each report lists.
ARTIFACTS: dict[str, tuple[str, ...]] = {
    "production": (),
    "rollback": ("plan",),
    "rehearsal": ("rehearsal",),
    "drills": ("history",),
    "schedule": ("schedule", "history"),
}
TITLES = {
    "production": "production readiness (rollback part)",
    "rollback": "rollback readiness",
    "rehearsal": "rollback rehearsal",
    "drills": "rollback drill history",
    "schedule": "rollback drill schedule",
}


def readiness(settings: ReadinessSettings, *, report_kind: str, as_json: bool) -> int:
    judgements = settings.judge()
    report = REPORTS[report_kind](judgements)
    if as_json:
        sys.stdout.write(render_json(report))
    else:
        sys.stderr.write(
            render_readiness(
                TITLES[report_kind],
                report,
                judgements.failures(*ARTIFACTS[report_kind]),
                settings.as_of,
            )
        )
    return EXIT_OK if exit_ok(report) else EXIT_FAILED
