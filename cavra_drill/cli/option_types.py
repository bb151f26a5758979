"""Option types shared by commands that judge CAVRA's four files (`readiness`, `report`).

They live here rather than in `cli.main` because command modules registered by `main` cannot
import `main` back (it imports them before it has defined anything). Only typer is imported,
so that importing this module costs nothing at start-up.
"""

from __future__ import annotations

from typing import Annotated

import typer

ModeOpt = Annotated[
    str | None,
    typer.Option("--mode", help="Go backend mode [env CAVRA_GO_BACKEND_MODE]; unknown means disabled."),
]
PlanOpt = Annotated[str | None, typer.Option("--plan", help="Rollback plan [env CAVRA_GO_ROLLBACK_PLAN].")]
RehearsalOpt = Annotated[
    str | None,
    typer.Option("--rehearsal", help="Rehearsal evidence [env CAVRA_GO_ROLLBACK_REHEARSAL_EVIDENCE]."),
]
HistoryOpt = Annotated[
    str | None,
    typer.Option("--history", help="Drill history [env CAVRA_GO_ROLLBACK_DRILL_HISTORY]."),
]
ScheduleOpt = Annotated[
    str | None,
    typer.Option("--schedule", help="Drill schedule [env CAVRA_GO_ROLLBACK_DRILL_SCHEDULE]."),
]
MaxAgeOpt = Annotated[
    str | None,
    typer.Option(
        "--max-age-days",
        help="Drill freshness window [env CAVRA_GO_ROLLBACK_DRILL_MAX_AGE_DAYS, 90].",
    ),
]
DueSoonOpt = Annotated[
    str | None,
    typer.Option("--due-soon-days", help="Due-soon window [env CAVRA_GO_ROLLBACK_DRILL_DUE_SOON_DAYS, 14]."),
]
NowOpt = Annotated[str | None, typer.Option("--now", help="Judge as of this ISO-8601 moment (default: now).")]
