"""Figures over a drill history: one row per entry, and what the rows add up to.

Pure: the history and schedule arrive parsed, `now` is given. What CAVRA judges (the latest
drill, its freshness, the schedule's due date) comes from `contract.history` and
`contract.schedule`, so these figures never disagree with a readiness verdict.

Definitions (also in docs/history.md):

- A row is *parseable* when the entry is an object with a non-empty string `drill_id`, an
  ISO-8601 `executed_at` and a non-empty string `status`; any other entry is shown as an
  unparseable row and counts in no figure (CAVRA may still judge it as the latest drill).
- `headroom_percent` = (max_recovery_minutes - recovery_minutes) / max_recovery_minutes x 100:
  how much of the target was left; negative when the target was missed.
- `pass_rate` = drills with status `pass` / parseable drills.
- Recovery figures (median, p95, max, trend) are over *recovered* drills: parseable, with
  `fallback_verified` true and a positive `recovery_minutes`. A drill that never restored
  Python measured something other than a recovery; one that restored it too slowly counts.
  p95 is the nearest-rank percentile (the ceil(0.95 n)-th smallest).
- The window: with `last`, the rows and every figure above cover the last `last` entries in
  file order (append order). The latest drill, its stale date, the days since the last pass
  and the due date always cover the whole history: they are about now, not about a window.
- `stale_at` = the latest drill's executed_at + max age days (CAVRA's latest: greatest
  executed_at). CAVRA calls the drill fresh up to and including that moment.
- `days_since_last_pass`: now - the greatest executed_at among parseable drills with status
  `pass`, in days rounded to 4 decimals as CAVRA rounds ages.
- Trend: over the last `TREND_WINDOW` recovered drills of the window, in executed_at order,
  the least-squares slope b of recovery_minutes against the drill's position (0, 1, 2, ...).
  The fitted change across the window, b x (n - 1), relative to the window's mean recovery,
  says the direction: `up` at +10 % or more, `down` at -10 % or less, else `flat`; `unknown`
  with fewer than `TREND_MIN_DRILLS` drills. Position rather than time: drills are irregular,
  and the question is whether each rollback is slower than the ones before it. Ten noisy
  points can fake a trend; the rule is a prompt to look, not a statistical test.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from cavra_drill.contract.documents import Document
from cavra_drill.contract.history import judge_history
from cavra_drill.contract.schedule import judge_schedule
from cavra_drill.contract.timestamps import days_between, format_utc, parse_timestamp
from cavra_drill.contract.values import is_json_true, is_nonempty_string, is_positive_number, positive_or_none

TREND_WINDOW = 10
TREND_MIN_DRILLS = 3
TREND_THRESHOLD = 0.10


@dataclass(frozen=True)
class DrillRow:
    """One entry of `drills`; `problem` says why it is unparseable (None when it is not)."""

    index: int
    drill_id: str | None
    executed_at: str | None
    actor: str | None
    status: str | None
    recovery_minutes: float | None
    max_recovery_minutes: float | None
    headroom_percent: float | None
    fallback_verified: bool
    moment: datetime | None
    problem: str | None

    @property
    def parseable(self) -> bool:
        return self.problem is None

    @property
    def recovered(self) -> bool:
        return self.parseable and self.fallback_verified and self.recovery_minutes is not None

    def as_json(self) -> dict[str, object]:
        return {
            "index": self.index,
            "drill_id": self.drill_id,
            "executed_at": self.executed_at,
            "actor": self.actor,
            "status": self.status,
            "recovery_minutes": self.recovery_minutes,
            "max_recovery_minutes": self.max_recovery_minutes,
            "headroom_percent": self.headroom_percent,
            "fallback_verified": self.fallback_verified,
            "parseable": self.parseable,
            "problem": self.problem,
        }


@dataclass(frozen=True)
class Trend:
    direction: str  # up | down | flat | unknown
    drills: int
    slope_minutes_per_drill: float | None
    relative_change: float | None

    def as_json(self) -> dict[str, object]:
        return {
            "direction": self.direction,
            "drills": self.drills,
            "slope_minutes_per_drill": self.slope_minutes_per_drill,
            "relative_change": self.relative_change,
            "rule": (
                f"least-squares slope over the last {TREND_WINDOW} recovered drills; up/down when the fitted "
                f"change is at least {TREND_THRESHOLD:.0%} of their mean recovery"
            ),
        }


@dataclass(frozen=True)
class ScheduleFigure:
    """The due date CAVRA's schedule report gives (contract §6), or why there is none."""

    path: str
    due_at: datetime | None
    days_until_due: float | None
    stale: bool
    due_soon: bool
    valid: bool
    message: str

    def as_json(self) -> dict[str, object]:
        return {
            "path": self.path,
            "next_due_at": format_utc(self.due_at) if self.due_at is not None else None,
            "days_until_due": self.days_until_due,
            "stale": self.stale,
            "due_soon": self.due_soon,
            "valid": self.valid,
            "message": self.message,
        }


@dataclass(frozen=True)
class HistoryFigures:
    now: datetime
    entries: int
    rows: tuple[DrillRow, ...]  # the window
    passes: int
    recovered: int
    pass_rate: float | None
    median_recovery_minutes: float | None
    p95_recovery_minutes: float | None
    max_recovery_minutes: float | None
    last_pass_at: datetime | None
    days_since_last_pass: float | None
    latest: DrillRow | None
    max_age_days: float
    stale_at: datetime | None
    fresh: bool
    trend: Trend
    schedule: ScheduleFigure | None

    @property
    def parseable(self) -> int:
        return sum(1 for row in self.rows if row.parseable)

    @property
    def unparseable(self) -> int:
        return len(self.rows) - self.parseable

    def as_json(self) -> dict[str, object]:
        latest = self.latest
        return {
            "as_of": format_utc(self.now),
            "entries": self.entries,
            "shown": len(self.rows),
            "parseable": self.parseable,
            "unparseable": self.unparseable,
            "passes": self.passes,
            "pass_rate": self.pass_rate,
            "recovered": self.recovered,
            "median_recovery_minutes": self.median_recovery_minutes,
            "p95_recovery_minutes": self.p95_recovery_minutes,
            "max_recovery_minutes": self.max_recovery_minutes,
            "last_pass_at": format_utc(self.last_pass_at) if self.last_pass_at is not None else None,
            "days_since_last_pass": self.days_since_last_pass,
            "latest_drill_id": latest.drill_id if latest is not None else None,
            "latest_index": latest.index if latest is not None else None,
            "latest_status": latest.status if latest is not None else None,
            "max_age_days": self.max_age_days,
            "stale_at": format_utc(self.stale_at) if self.stale_at is not None else None,
            "fresh": self.fresh,
            "trend": self.trend.as_json(),
            "schedule": self.schedule.as_json() if self.schedule is not None else None,
        }


def drill_row(index: int, entry: object) -> DrillRow:
    """One entry as a row; never raises, whatever the entry is."""
    if not isinstance(entry, dict):
        kind = "null" if entry is None else _JSON_KINDS.get(type(entry), "value")
        return _unparseable(index, f"not an object (a JSON {kind})")
    drill_id = entry.get("drill_id")
    executed_at = entry.get("executed_at")
    status = entry.get("status")
    actor = entry.get("actor")
    moment = parse_timestamp(executed_at)
    recovery = _number(entry.get("recovery_minutes"))
    target = _number(entry.get("max_recovery_minutes"))
    headroom = round((target - recovery) / target * 100, 1) if recovery is not None and target is not None else None
    missing = [
        name
        for name, ok in (
            ("drill_id", is_nonempty_string(drill_id)),
            ("executed_at", moment is not None),
            ("status", is_nonempty_string(status)),
        )
        if not ok
    ]
    return DrillRow(
        index=index,
        drill_id=drill_id if isinstance(drill_id, str) else None,
        executed_at=executed_at if isinstance(executed_at, str) else None,
        actor=actor if isinstance(actor, str) else None,
        status=status if isinstance(status, str) else None,
        recovery_minutes=recovery,
        max_recovery_minutes=target,
        headroom_percent=headroom,
        fallback_verified=is_json_true(entry.get("fallback_verified")),
        moment=moment,
        problem=f"no valid {', '.join(missing)}" if missing else None,
    )


_JSON_KINDS: dict[type, str] = {str: "string", int: "number", float: "number", bool: "boolean", list: "list"}


def _unparseable(index: int, problem: str) -> DrillRow:
    return DrillRow(index, None, None, None, None, None, None, None, False, None, problem)


def _number(value: object) -> float | None:
    number = positive_or_none(value)
    return float(number) if number is not None else None


def median(ordered: Sequence[float]) -> float:
    """The median of sorted, non-empty `ordered` (the mean of the middle two for an even count)."""
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def nearest_rank(ordered: Sequence[float], fraction: float) -> float:
    """The nearest-rank percentile of sorted, non-empty `ordered`: the ceil(fraction x n)-th smallest."""
    return ordered[max(1, math.ceil(fraction * len(ordered))) - 1]


def recovery_trend(values: Sequence[float]) -> Trend:
    """The trend rule (module docstring) over `values` in drill order, the last TREND_WINDOW of them."""
    window = list(values[-TREND_WINDOW:])
    n = len(window)
    if n < TREND_MIN_DRILLS:
        return Trend("unknown", n, None, None)
    mean_x = (n - 1) / 2
    mean_y = sum(window) / n
    slope = sum((x - mean_x) * (y - mean_y) for x, y in enumerate(window)) / sum((x - mean_x) ** 2 for x in range(n))
    relative = slope * (n - 1) / mean_y
    if relative >= TREND_THRESHOLD:
        direction = "up"
    elif relative <= -TREND_THRESHOLD:
        direction = "down"
    else:
        direction = "flat"
    return Trend(direction, n, round(slope, 6), round(relative, 4))


def compute_figures(
    history: Document,
    *,
    now: datetime,
    max_age_days: float,
    last: int | None = None,
    schedule: Document | None = None,
    due_soon_days: float = 14.0,
) -> HistoryFigures:
    """Rows and figures for `history` (a loaded history document) as of `now`."""
    drills = history.get("drills")
    entries: list[object] = drills if isinstance(drills, list) else []
    every = [drill_row(index, entry) for index, entry in enumerate(entries)]
    rows = tuple(every[max(0, len(every) - last) :] if last is not None else every)
    parseable = [row for row in rows if row.parseable]
    passes = sum(1 for row in parseable if row.status == "pass")
    recovered = sorted((row for row in rows if row.recovered), key=_drill_order)
    minutes = [row.recovery_minutes for row in recovered if row.recovery_minutes is not None]
    ordered = sorted(minutes)

    judged = judge_history(history, now=now, max_age_days=max_age_days)
    latest = every[judged.latest_index] if judged.latest_index is not None else None
    stale_at = None
    if judged.latest_executed_at is not None and is_positive_number(max_age_days):
        stale_at = _add_days(judged.latest_executed_at, max_age_days)
    last_pass_at = max(
        (row.moment for row in every if row.parseable and row.status == "pass" and row.moment is not None),
        default=None,
    )
    schedule_figure = None
    if schedule is not None:
        judged_schedule = judge_schedule(schedule, judged, now=now, due_soon_days=due_soon_days)
        schedule_figure = ScheduleFigure(
            path=schedule.path,
            due_at=judged_schedule.due_at,
            days_until_due=judged_schedule.days_until_due,
            stale=judged_schedule.stale,
            due_soon=judged_schedule.due_soon,
            valid=judged_schedule.valid,
            message=judged_schedule.message,
        )
    return HistoryFigures(
        now=now,
        entries=len(entries),
        rows=rows,
        passes=passes,
        recovered=len(minutes),
        pass_rate=round(passes / len(parseable), 4) if parseable else None,
        median_recovery_minutes=median(ordered) if ordered else None,
        p95_recovery_minutes=nearest_rank(ordered, 0.95) if ordered else None,
        max_recovery_minutes=ordered[-1] if ordered else None,
        last_pass_at=last_pass_at,
        days_since_last_pass=days_between(last_pass_at, now) if last_pass_at is not None else None,
        latest=latest,
        max_age_days=max_age_days,
        stale_at=stale_at,
        fresh=judged.fresh,
        trend=recovery_trend(minutes),
        schedule=schedule_figure,
    )


def _drill_order(row: DrillRow) -> tuple[datetime, int]:
    assert row.moment is not None  # recovered rows are parseable
    return row.moment, row.index


def _add_days(moment: datetime, days: float) -> datetime | None:
    try:
        return moment + timedelta(days=days)
    except OverflowError:
        return None
