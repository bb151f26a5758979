"""The `cavra-drill` command line: thin typer commands that parse, call, render and exit.

Command bodies import their implementation lazily: `readiness --json` must start in well
under 150 ms, so nothing here pulls in pydantic, anyio or psutil at import time.
"""

from __future__ import annotations

import os
import sys
from enum import StrEnum
from typing import Annotated

import typer

from cavra_drill.cli import history_command, report_command
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

app = typer.Typer(
    name="cavra-drill",
    help="Rehearse CAVRA's Go-to-Python rollback and produce the evidence its promoted-mode gate reads.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


class ReportKind(StrEnum):
    production = "production"
    rollback = "rollback"
    rehearsal = "rehearsal"
    drills = "drills"
    schedule = "schedule"


class FileKind(StrEnum):
    auto = "auto"
    plan = "plan"
    rehearsal = "rehearsal"
    history = "history"
    schedule = "schedule"


class SchemaKind(StrEnum):
    plan = "plan"
    rehearsal = "rehearsal"
    drill = "drill"
    history = "history"
    schedule = "schedule"


JsonOpt = Annotated[bool, typer.Option("--json", help="Print the result as JSON on stdout.")]


@app.command()
def readiness(
    mode: ModeOpt = None,
    plan: PlanOpt = None,
    rehearsal: RehearsalOpt = None,
    history: HistoryOpt = None,
    schedule: ScheduleOpt = None,
    max_age_days: MaxAgeOpt = None,
    due_soon_days: DueSoonOpt = None,
    now: NowOpt = None,
    report: Annotated[ReportKind, typer.Option("--report", help="Which report to compute.")] = ReportKind.production,
    as_json: JsonOpt = False,
) -> None:
    """The readiness verdict CAVRA would give. Exit 0 ready/not requested, 1 needs attention."""

    def action() -> int:
        from cavra_drill.cli.options import resolve_readiness
        from cavra_drill.cli.readiness import readiness as run_readiness

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
        return run_readiness(settings, report_kind=report.value, as_json=as_json)

    finish(action)


@app.command()
def validate(
    files: Annotated[list[str], typer.Argument(help="Files to judge.")],
    kind: Annotated[FileKind, typer.Option("--kind", help="File kind; auto reads schema_version.")] = FileKind.auto,
    plan: PlanOpt = None,
    history: HistoryOpt = None,
    now: NowOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Judge files against every contract rule and the public-safety gate. Exit 0 all valid, 1 any invalid."""

    def action() -> int:
        from cavra_drill.cli.options import resolve_readiness
        from cavra_drill.cli.validate import validate as run_validate

        settings = resolve_readiness(
            mode="promoted",
            plan=plan,
            rehearsal=None,
            history=history,
            schedule=None,
            max_age_days=None,
            due_soon_days=None,
            now=now,
        )
        return run_validate(files, kind.value, settings, as_json=as_json)

    finish(action)


@app.command()
def schema(kind: Annotated[SchemaKind, typer.Argument(help="What cavra-drill writes.")]) -> None:
    """Print the JSON Schema of a file cavra-drill writes."""

    def action() -> int:
        from cavra_drill.contract.models import SCHEMA_MODELS
        from cavra_drill.formats.json_text import render_json

        sys.stdout.write(render_json(SCHEMA_MODELS[kind.value].model_json_schema()))
        return 0

    finish(action)


@app.command()
def run(
    workdir: Annotated[str | None, typer.Option("--workdir", help="Where outputs go [./cavra-drill-out].")] = None,
    plan: PlanOpt = None,
    rehearsal: Annotated[
        str | None,
        typer.Option("--rehearsal", help="Evidence path [env CAVRA_GO_ROLLBACK_REHEARSAL_EVIDENCE, else in workdir]."),
    ] = None,
    history: HistoryOpt = None,
    schedule: ScheduleOpt = None,
    mode: ModeOpt = None,
    environment: Annotated[
        str | None, typer.Option("--environment", help="Logical environment name [rehearsal-sandbox].")
    ] = None,
    actor: Annotated[
        str | None, typer.Option("--actor", help="Who runs it [CAVRA_DRILL_ACTOR, GITHUB_ACTOR, OS user].")
    ] = None,
    max_recovery_minutes: Annotated[
        float | None, typer.Option("--max-recovery-minutes", help="Tighten the plan's recovery target.")
    ] = None,
    incident: Annotated[
        str | None, typer.Option("--incident", help="go-runtime-crash | go-runtime-hang | go-runtime-diverge")
    ] = None,
    fault: Annotated[
        list[str] | None,
        typer.Option("--fault", help="stop-ignores-sigterm | slow-restart=SECONDS | fallback-broken (repeatable)"),
    ] = None,
    runbook: Annotated[
        str | None,
        typer.Option("--runbook", help="TOML runbook to execute [the built-in simulated sandbox drill]."),
    ] = None,
    keep_sandbox: Annotated[bool, typer.Option("--keep-sandbox", help="Keep the sandbox for inspection.")] = False,
    lock_timeout: Annotated[float, typer.Option("--lock-timeout", help="Seconds to wait for the history lock.")] = 30.0,
    as_json: JsonOpt = False,
    junit: Annotated[
        str | None, typer.Option("--junit", help="Write a JUnit XML report: drill phases and readiness checks.")
    ] = None,
    summary: Annotated[
        str | None,
        typer.Option("--summary", help="Append a Markdown summary [env GITHUB_STEP_SUMMARY]; '' for none."),
    ] = None,
    metrics: Annotated[
        str | None, typer.Option("--metrics", help="Write Prometheus metrics for node-exporter's textfile collector.")
    ] = None,
    attestation: Annotated[
        str | None, typer.Option("--attestation", help="Write an unsigned in-toto test-result statement.")
    ] = None,
) -> None:
    """Rehearse the rollback from the Go runtime to Python; write evidence, history and readiness.

    Exit 0 drill passed and readiness ready; 1 drill failed or readiness needs attention;
    2 usage; 3 invalid input (or a CI output that could not be written after the drill);
    4 environment prevented the drill (or such an output); 130 interrupted.
    """

    def action() -> int:
        from cavra_drill.cli.run import RunOptions, execute, show_progress
        from cavra_drill.formats.drill_summary import render_drill_summary
        from cavra_drill.formats.json_text import render_json

        options = RunOptions(
            workdir=workdir,
            plan=plan,
            rehearsal=rehearsal,
            history=history,
            schedule=schedule,
            mode=mode,
            environment=environment,
            actor=actor,
            max_recovery_minutes=max_recovery_minutes,
            incident=incident,
            faults=tuple(fault or ()),
            runbook=runbook,
            keep_sandbox=keep_sandbox,
            lock_timeout=lock_timeout,
            as_json=as_json,
            junit=junit,
            summary=summary,
            metrics=metrics,
            attestation=attestation,
        )
        result = execute(options)
        failure = result.outcome.failure
        sys.stderr.write(
            render_drill_summary(
                result.evidence,
                result.readiness,
                result.files,
                failure=failure,
                history_head=result.history_head,
                phases_shown=show_progress(options),
            )
        )
        if os.environ.get("GITHUB_ACTIONS") == "true":
            from cavra_drill.cli.run_outputs import safe_annotations
            from cavra_drill.formats.annotations import render_annotations, render_error

            # On stderr: the runner processes workflow commands from stderr as from stdout
            # (see formats/annotations.py), and our stdout carries only --json data.
            lines = render_annotations(result.evidence, result.readiness, failure=failure)
            lines += "".join(render_error("cavra-drill: output not written", e.message) for e in result.output_errors)
            sys.stderr.write(safe_annotations(lines))
        if as_json:
            sys.stdout.write(
                render_json({"evidence": result.evidence, "drill": result.record, "readiness": result.readiness})
            )
        for error in result.output_errors:
            sys.stderr.write(f"cavra-drill: {error.message}\n")
        if result.output_errors:
            verdict = "passed" if result.evidence.get("status") == "pass" else "failed"
            sys.stderr.write(
                f"cavra-drill: the drill {verdict}; its evidence, history and readiness report were written;"
                " only the CI outputs above are missing\n"
            )
        return result.exit_code

    finish(action)


# Commands that live in their own modules; their bodies still import lazily.
history_command.register(app)
report_command.register(app)


def run_cli() -> None:
    app(prog_name="cavra-drill")
