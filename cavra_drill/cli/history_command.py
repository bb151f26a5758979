"""`cavra-drill history` and `cavra-drill history verify` (registered on the main app).

`history` is a typer sub-app whose callback runs when no subcommand is given
(`invoke_without_command=True`): `cavra-drill history --last 5` shows the table and figures,
`cavra-drill history verify` checks the chain. The callback's options belong to the table; given
before `verify` they would be silently ignored, so that is a usage error instead.
"""

from __future__ import annotations

from typing import Annotated

import typer

from cavra_drill.cli.boundary import finish

HistoryOpt = Annotated[
    str | None,
    typer.Option(
        "--history",
        help="Drill history [env CAVRA_GO_ROLLBACK_DRILL_HISTORY, "
        "else ./cavra-drill-out/go-backend-rollback-drills.json].",
    ),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print the result as JSON on stdout.")]


def register(app: typer.Typer) -> None:
    """Add the history commands to `app`. Bodies import their implementation lazily."""
    history_app = typer.Typer(
        name="history",
        add_completion=False,
        pretty_exceptions_enable=False,
        rich_markup_mode=None,
        subcommand_metavar="[verify [OPTIONS]]",
    )

    @history_app.callback(invoke_without_command=True)
    def history(
        ctx: typer.Context,
        history: HistoryOpt = None,
        last: Annotated[
            int | None, typer.Option("--last", min=1, help="Only the last N entries (rows and window figures).")
        ] = None,
        max_age_days: Annotated[
            str | None,
            typer.Option(
                "--max-age-days", help="Drill freshness window [env CAVRA_GO_ROLLBACK_DRILL_MAX_AGE_DAYS, 90]."
            ),
        ] = None,
        schedule: Annotated[
            str | None,
            typer.Option("--schedule", help="Drill schedule, for the due date [env CAVRA_GO_ROLLBACK_DRILL_SCHEDULE]."),
        ] = None,
        now: Annotated[
            str | None, typer.Option("--now", help="Figures as of this ISO-8601 moment (default: now).")
        ] = None,
        as_json: JsonOpt = False,
    ) -> None:
        """The drills, pass rate, recovery times and their trend, staleness and the next due date.

        Exit 0; 3 when the history cannot be read, is not a history, or fails its chain.
        """
        given = [history, last, max_age_days, schedule, now]
        if ctx.invoked_subcommand is not None:
            if any(value is not None for value in given) or as_json:
                raise typer.BadParameter(
                    f"options of `history` do not apply to `history {ctx.invoked_subcommand}`; "
                    f"put them after it (cavra-drill history {ctx.invoked_subcommand} --help)"
                )
            return

        def action() -> int:
            from cavra_drill.cli.history import HistoryOptions, show_history

            options = HistoryOptions(
                history=history, last=last, max_age_days=max_age_days, schedule=schedule, now=now, as_json=as_json
            )
            return show_history(options)

        finish(action)

    @history_app.command("verify")
    def verify(
        history: HistoryOpt = None,
        evidence: Annotated[
            str | None,
            typer.Option(
                "--evidence",
                help="Evidence file to check against its drill's record [env CAVRA_GO_ROLLBACK_REHEARSAL_EVIDENCE, "
                "else go-backend-rollback-rehearsal.json next to the history].",
            ),
        ] = None,
        as_json: JsonOpt = False,
    ) -> None:
        """Check every record's digest, the chain links and the evidence file; print the head digest.

        Exit 0 intact (or nothing sealed yet); 1 tampered; 3 the history cannot be read or is not a history.
        """

        def action() -> int:
            from cavra_drill.cli.history import verify_history

            return verify_history(history, evidence, as_json=as_json)

        finish(action)

    app.add_typer(history_app, name="history")
