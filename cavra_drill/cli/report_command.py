"""`cavra-drill report --out report.html` (registered on the main app)."""

from __future__ import annotations

from typing import Annotated

import typer

from cavra_drill.cli.boundary import finish
from cavra_drill.cli.option_types import (
    DueSoonOpt,
    HistoryOpt,
    MaxAgeOpt,
    ModeOpt,
    NowOpt,
    PlanOpt,
    RehearsalOpt,
    ScheduleOpt,
)

OutOpt = Annotated[
    str,
    typer.Option("--out", help="Where to write the HTML page (replaced atomically).", show_default=False),
]


def register(app: typer.Typer) -> None:
    """Add the report command to `app`."""

    @app.command()
    def report(
        out: OutOpt,
        mode: ModeOpt = None,
        plan: PlanOpt = None,
        rehearsal: RehearsalOpt = None,
        history: HistoryOpt = None,
        schedule: ScheduleOpt = None,
        max_age_days: MaxAgeOpt = None,
        due_soon_days: DueSoonOpt = None,
        now: NowOpt = None,
    ) -> None:
        """Write the production readiness report (rollback part) as one self-contained HTML page.

        Exit 0 ready; 1 needs attention (an unreadable drill history is one) or the history's
        hash chain is broken; 2 usage; 3 the output path cannot be written or the page would
        not be public-safe; 4 no space left to write it.
        """

        def action() -> int:
            from cavra_drill.cli.options import resolve_readiness
            from cavra_drill.cli.report import write_report

            settings = resolve_readiness(
                mode=mode,
                plan=plan,
                rehearsal=rehearsal,
                history=history,
                schedule=schedule,
                max_age_days=max_age_days,
                due_soon_days=due_soon_days,
                now=now,
            )
            return write_report(settings, out)

        finish(action)
