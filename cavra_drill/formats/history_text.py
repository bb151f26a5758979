"""`cavra-drill history` and `history verify` as text for people (written to stderr)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from cavra_drill.contract.history_figures import DrillRow, HistoryFigures
from cavra_drill.contract.integrity import MAX_PROBLEMS_LISTED, UNSEALED, ChainReport, Verification
from cavra_drill.contract.timestamps import format_utc

MAX_PROBLEMS_SHOWN = 20
_COLUMNS = ("#", "drill", "executed_at", "actor", "status", "recovery min", "target min", "headroom")


def _minutes(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:.4f}".rstrip("0").rstrip(".")


def _moment(value: datetime | None) -> str:
    return format_utc(value) if value is not None else "-"


def _days(value: float) -> str:
    return f"{value:g} day" + ("" if value == 1 else "s")


def _cells(row: DrillRow) -> tuple[str, ...]:
    headroom = f"{row.headroom_percent:.1f}%" if row.headroom_percent is not None else "-"
    return (
        str(row.index),
        row.drill_id or "-",
        row.executed_at or "-",
        row.actor or "-",
        row.status or "-",
        _minutes(row.recovery_minutes),
        _minutes(row.max_recovery_minutes),
        headroom,
    )


def render_drill_table(rows: Sequence[DrillRow]) -> list[str]:
    """One line per entry; an unparseable entry says why instead of filling the columns."""
    cells = [_cells(row) if row.parseable else None for row in rows]
    columns = zip(*(line for line in cells if line is not None), strict=True)
    widths = [len(title) for title in _COLUMNS]
    for number, column in enumerate(columns):
        widths[number] = max(widths[number], *map(len, column))
    lines = ["  " + "  ".join(title.ljust(width) for title, width in zip(_COLUMNS, widths, strict=True)).rstrip()]
    for row, line in zip(rows, cells, strict=True):
        if line is not None:
            lines.append("  " + "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip())
        else:
            lines.append(f"  {str(row.index).ljust(widths[0])}  unparseable entry: {row.problem}")
    return lines


def render_history(figures: HistoryFigures, *, path: str, environment: str | None, chain: ChainReport) -> str:
    where = f" (environment {environment})" if environment else ""
    lines = [f"drill history {path}{where}, as of {format_utc(figures.now.replace(microsecond=0))}"]
    if figures.rows:
        lines += render_drill_table(figures.rows)
    else:
        lines.append("  no drills recorded")
    shown = len(figures.rows)
    scope = f"last {shown} of {figures.entries} entries" if shown < figures.entries else f"{shown} entries"
    lines.append(f"figures ({scope}):")
    lines.append(f"  drills         {figures.parseable} parseable, {figures.unparseable} unparseable")
    if figures.pass_rate is not None:
        lines.append(f"  pass rate      {figures.pass_rate:.1%} ({figures.passes} of {figures.parseable})")
    else:
        lines.append("  pass rate      - (no parseable drill)")
    if figures.recovered:
        lines.append(
            f"  recovery       median {_minutes(figures.median_recovery_minutes)} min, "
            f"p95 {_minutes(figures.p95_recovery_minutes)} min, max {_minutes(figures.max_recovery_minutes)} min "
            f"({figures.recovered} recovered drills)"
        )
    else:
        lines.append("  recovery       - (no drill restored Python)")
    trend = figures.trend
    if trend.direction == "unknown":
        lines.append(f"  trend          unknown ({trend.drills} recovered drills; at least 3 needed)")
    else:
        lines.append(
            f"  trend          {trend.direction} ({trend.relative_change:+.1%} fitted over the last {trend.drills} "
            f"recovered drills, {trend.slope_minutes_per_drill:+g} min per drill)"
        )
    lines.append("whole history:")
    if figures.last_pass_at is not None:
        lines.append(
            f"  last pass      {_moment(figures.last_pass_at)}, {_days(figures.days_since_last_pass or 0)} ago"
        )
    else:
        lines.append("  last pass      none")
    latest = figures.latest
    if latest is not None:
        freshness = "fresh" if figures.fresh else "stale"
        name = latest.drill_id or f"drills[{latest.index}]"
        lines.append(
            f"  latest drill   {name} ({latest.status or 'no status'}): {freshness}; "
            f"stale after {_moment(figures.stale_at)} (max age {_days(figures.max_age_days)})"
        )
    else:
        lines.append("  latest drill   none")
    schedule = figures.schedule
    if schedule is None:
        lines.append("  next due       - (no schedule configured)")
    elif schedule.due_at is None:
        lines.append(f"  next due       unknown ({schedule.path}: {schedule.message})")
    else:
        days = schedule.days_until_due or 0.0
        when = f"in {_days(days)}" if days >= 0 else f"overdue by {_days(-days)}"
        soon = ", due soon" if schedule.due_soon else ""
        lines.append(f"  next due       {_moment(schedule.due_at)}, {when}{soon} (schedule {schedule.path})")
    lines.append(f"chain: {chain_summary(chain)}")
    return "\n".join(lines) + "\n"


def chain_summary(chain: ChainReport) -> str:
    state = "intact" if chain.intact else "TAMPERED"
    if chain.entries and not chain.chained:
        state = "unsealed (no entry carries a digest)"
    parts = [state, f"{chain.chained} sealed", f"{chain.legacy} legacy"]
    return ", ".join(parts) + f"; head {chain.head_sha256 or '-'}"


def render_verify(result: Verification) -> str:
    """The `history verify` result for people: the verdict, the first broken record, the head."""
    chain = result.chain
    lines = [f"drill history {result.history}: {result.status.upper()}"]
    lines.append(
        f"  {chain.entries} entries: {chain.chained} sealed records, {chain.legacy} legacy entries before sealing began"
    )
    if result.status == UNSEALED:
        lines.append("  nothing to verify: no entry carries a digest (drills appended from now on will)")
    problems = result.problems
    if problems:
        lines.append(f"  first broken: {problems[0].describe()}")
        lines += [f"  also:         {problem.describe()}" for problem in problems[1:MAX_PROBLEMS_SHOWN]]
        if len(problems) > MAX_PROBLEMS_SHOWN:
            lines.append(
                f"  ... and {len(problems) - MAX_PROBLEMS_SHOWN} more (--json lists up to {MAX_PROBLEMS_LISTED})"
            )
    evidence = result.evidence
    where = f" {evidence.path}" if evidence.path else ""
    lines.append(f"  evidence{where}: {evidence.status}: {evidence.message}")
    if result.evidence_not_checked:
        lines.append(
            f"  evidence of {result.evidence_not_checked} other records: not checked "
            "(only the latest evidence file is kept)"
        )
    lines.append(f"  head sha256: {chain.head_sha256 or '-'}")
    return "\n".join(lines) + "\n"
