"""Recovery time per drill, for the HTML report: the drills of a judged history, and an inline SVG.

Pure: `collect_drills` reads a judged history (no file system), `render_recovery_svg` returns
SVG text. A history can hold 100,000 drills; the chart shows the latest `CHART_LIMIT` of them in
`executed_at` order and says how many it left out, so the page stays small and quick to draw.

Each drill is drawn against its OWN `max_recovery_minutes` (contract §5: no fallback to the
plan), as a step line. A drill is "failed" on the chart when CAVRA would not accept it as the
latest drill's result: status other than `pass`, no recovery target, or over its target.
Failed drills differ from passing ones in shape (a cross, not a dot) and colour, and every mark
carries a `<title>` with the drill's figures and verdict in words.
"""

from __future__ import annotations

import html
import math
from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from cavra_drill.contract.history import HISTORY_SCHEMA, HistoryJudgement
from cavra_drill.contract.timestamps import parse_timestamp
from cavra_drill.contract.values import is_positive_number, string_or_none

CHART_LIMIT = 200

# What the chart could make of the history file.
NOT_CONFIGURED = "not_configured"
UNREADABLE = "unreadable"
NOT_A_HISTORY = "not_a_history"
READABLE = "readable"

SKIP_NOT_OBJECT = "not a JSON object"
SKIP_NO_TIME = "executed_at missing or unparseable"
SKIP_NO_RECOVERY = "recovery_minutes missing, not a positive number or out of range"

# Geometry of the SVG (user units; the element scales to its container).
WIDTH, HEIGHT = 960, 380
LEFT, RIGHT, TOP, BOTTOM = 76, 36, 22, 70
# Above this max/min ratio a linear axis would flatten the small values into the floor.
LOG_RATIO = 50.0
MAX_X_LABELS = 6


@dataclass(frozen=True)
class ChartedDrill:
    """One drill as the chart draws it. `index` is its position in the history's `drills` list."""

    index: int
    drill_id: str | None
    executed_at: str
    at: datetime
    recovery_minutes: float
    max_recovery_minutes: float | None
    status: str | None
    latest: bool

    @property
    def failed(self) -> bool:
        return self.verdict != "passed within its target"

    @property
    def verdict(self) -> str:
        if self.status != "pass":
            return f"failed (status {self.status!r})" if self.status is not None else "failed (no status)"
        if self.max_recovery_minutes is None:
            return "failed (no recovery target recorded)"
        if self.recovery_minutes > self.max_recovery_minutes:
            return "failed (over its recovery target)"
        return "passed within its target"

    def describe(self) -> str:
        """The mark's text alternative: everything the mark encodes, in words."""
        target = "no target" if self.max_recovery_minutes is None else f"target {minutes(self.max_recovery_minutes)}"
        latest = "; the latest drill, the one CAVRA judges" if self.latest else ""
        return (
            f"{self.drill_id or '(no drill_id)'} at {self.executed_at}: recovered in "
            f"{minutes(self.recovery_minutes)} ({seconds(self.recovery_minutes)}), {target}; {self.verdict}{latest}"
        )


@dataclass(frozen=True)
class DrillSeries:
    """The drills the chart shows, and what it could not show and why."""

    state: str
    reason: str | None
    entries: int
    chartable: int
    drills: tuple[ChartedDrill, ...]
    skipped: tuple[tuple[str, int], ...]
    limit: int

    @property
    def capped(self) -> bool:
        return self.chartable > len(self.drills)

    @property
    def failed_count(self) -> int:
        return sum(1 for drill in self.drills if drill.failed)

    @property
    def skipped_count(self) -> int:
        return sum(count for _, count in self.skipped)


def collect_drills(history: HistoryJudgement, *, limit: int = CHART_LIMIT) -> DrillSeries:
    """The latest `limit` chartable drills of `history` in executed_at order (stable on ties)."""
    document = history.document

    def series(state: str, reason: str | None = None, entries: int = 0) -> DrillSeries:
        return DrillSeries(state, reason, entries, 0, (), (), limit)

    if not document.path:
        return series(NOT_CONFIGURED)
    if document.data is None:
        return series(UNREADABLE, document.error or "metadata file is missing")
    if document.get("schema_version") != HISTORY_SCHEMA:
        return series(NOT_A_HISTORY, f"its schema_version is not {HISTORY_SCHEMA}")
    entries = document.get("drills")
    if not isinstance(entries, list):
        return series(NOT_A_HISTORY, "its drills field is not a list")

    skipped: Counter[str] = Counter()
    # (time, index, minutes) only: the objects are built for the drills shown, not for 100,000.
    chartable: list[tuple[datetime, int, float]] = []
    for index, entry in enumerate(entries):
        if not isinstance(entry, dict):
            skipped[SKIP_NOT_OBJECT] += 1
            continue
        at = parse_timestamp(entry.get("executed_at"))
        if at is None:
            skipped[SKIP_NO_TIME] += 1
            continue
        recovery = _finite_positive(entry.get("recovery_minutes"))
        if recovery is None:
            skipped[SKIP_NO_RECOVERY] += 1
            continue
        chartable.append((at, index, recovery))
    chartable.sort(key=lambda item: item[0])  # stable: list order on equal timestamps
    shown = tuple(
        _charted(entries[index], index, at, recovery, latest=index == history.latest_index)
        for at, index, recovery in (chartable[-limit:] if limit > 0 else [])
    )
    reasons = tuple((reason, skipped[reason]) for reason in (SKIP_NOT_OBJECT, SKIP_NO_TIME, SKIP_NO_RECOVERY))
    return DrillSeries(
        READABLE,
        None,
        len(entries),
        len(chartable),
        shown,
        tuple((reason, count) for reason, count in reasons if count),
        limit,
    )


def _charted(entry: dict[str, object], index: int, at: datetime, recovery: float, *, latest: bool) -> ChartedDrill:
    return ChartedDrill(
        index=index,
        drill_id=string_or_none(entry.get("drill_id")),
        executed_at=str(entry["executed_at"]),
        at=at,
        recovery_minutes=recovery,
        max_recovery_minutes=_finite_positive(entry.get("max_recovery_minutes")),
        status=string_or_none(entry.get("status")),
        latest=latest,
    )


def minutes(value: float) -> str:
    return f"{number(value)} min"


def seconds(value_minutes: float) -> str:
    return f"{value_minutes * 60:.3g} s"


def number(value: float) -> str:
    """A number as people read it: `15`, `6.25`, `0.0011` (at most 6 significant digits)."""
    return f"{value:.6g}"


# ---- the SVG ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Axis:
    """Minutes to a y coordinate, linear from 0 or logarithmic between powers of ten."""

    log: bool
    low: float
    high: float
    ticks: tuple[float, ...]

    def y(self, value: float) -> float:
        """The y coordinate of `value` minutes."""
        return self.tick_y(math.log10(value) if self.log else value)

    def tick_y(self, tick: float) -> float:
        """The y coordinate of a tick (an exponent of ten on a log axis, minutes otherwise)."""
        bottom, height = HEIGHT - BOTTOM, HEIGHT - TOP - BOTTOM
        share = (tick - self.low) / (self.high - self.low)
        return bottom - min(max(share, 0.0), 1.0) * height

    def label(self, tick: float) -> str:
        if not self.log:
            return number(tick)
        return number(10**tick) if -5 <= tick <= 6 else f"1e{int(tick)}"


def _axis(values: list[float]) -> _Axis:
    low, high = min(values), max(values)
    if high / low > LOG_RATIO or high > 1e12:
        low_exp, high_exp = math.floor(math.log10(low)), math.ceil(math.log10(high))
        if high_exp == low_exp:
            high_exp += 1
        step = max(1, math.ceil((high_exp - low_exp) / 7))
        ticks = tuple(float(exp) for exp in range(low_exp, high_exp + 1, step))
        return _Axis(True, float(low_exp), float(high_exp), ticks)
    spacing = _nice_step(high * 1.08 / 5)
    top = math.ceil(high * 1.08 / spacing) * spacing
    count = round(top / spacing)
    return _Axis(False, 0.0, top, tuple(spacing * i for i in range(count + 1)))


def _nice_step(raw: float) -> float:
    magnitude = 10.0 ** math.floor(math.log10(raw))
    for factor in (1.0, 2.0, 2.5, 5.0, 10.0):
        if factor * magnitude >= raw:
            return factor * magnitude
    return 10 * magnitude


def _x_labels(drills: tuple[ChartedDrill, ...]) -> list[int]:
    count = len(drills)
    if count <= MAX_X_LABELS:
        return list(range(count))
    return sorted({round(i * (count - 1) / (MAX_X_LABELS - 1)) for i in range(MAX_X_LABELS)})


def _time_label(drill: ChartedDrill, short_span: bool) -> str:
    return drill.at.strftime("%m-%d %H:%M:%S" if short_span else "%Y-%m-%d")


def _f(value: float) -> str:
    return f"{value:.1f}"


def render_recovery_svg(series: DrillSeries) -> str:
    """The chart as an inline `<svg>` element (no namespace needed inside HTML); "" with no drills."""
    drills = series.drills
    if not drills:
        return ""
    values = [d.recovery_minutes for d in drills] + [d.max_recovery_minutes for d in drills if d.max_recovery_minutes]
    axis = _axis(values)
    plot_w, bottom = WIDTH - LEFT - RIGHT, HEIGHT - BOTTOM
    step = plot_w / len(drills)
    xs = [LEFT + (i + 0.5) * step for i in range(len(drills))]
    mark = max(2.5, min(6.0, step * 0.38))
    esc = html.escape
    scale = "log scale" if axis.log else "linear scale"
    failed = series.failed_count
    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        'aria-labelledby="recovery-chart-title recovery-chart-desc" preserveAspectRatio="xMidYMid meet">',
        '<title id="recovery-chart-title">Recovery time per drill against its recovery target</title>',
        f'<desc id="recovery-chart-desc">{len(drills)} drills in executed_at order, oldest on the left; '
        f"recovery time in minutes on a {scale}; the dashed step line is each drill's own "
        f"max_recovery_minutes. {failed} of them failed (crosses); the others passed within their "
        "target (dots).</desc>",
    ]
    # Grid and y axis.
    parts.append('<g class="grid">')
    for tick in axis.ticks:
        y = axis.tick_y(tick)
        parts.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{_f(y)}" y2="{_f(y)}"/>')
        parts.append(f'<text class="tick" x="{LEFT - 8}" y="{_f(y + 4)}" text-anchor="end">{axis.label(tick)}</text>')
    parts.append("</g>")
    parts.append(f'<line class="axis" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{bottom}" y2="{bottom}"/>')
    parts.append(f'<line class="axis" x1="{LEFT}" x2="{LEFT}" y1="{TOP}" y2="{bottom}"/>')
    parts.append(
        f'<text class="axis-title" transform="translate(16 {_f(TOP + (bottom - TOP) / 2)}) rotate(-90)" '
        f'text-anchor="middle">recovery time, minutes ({scale})</text>'
    )
    shown = f"; the latest {len(drills):,} of {series.chartable:,}" if series.capped else ""
    # x labels: a few drills' times, evenly spaced.
    short_span = (drills[-1].at - drills[0].at).total_seconds() < 2 * 86_400
    for i in _x_labels(drills):
        x = xs[i]
        parts.append(f'<line class="axis" x1="{_f(x)}" x2="{_f(x)}" y1="{bottom}" y2="{bottom + 5}"/>')
        anchor = "start" if x - LEFT < 40 else "end" if WIDTH - RIGHT - x < 40 else "middle"
        label = esc(_time_label(drills[i], short_span))
        parts.append(f'<text class="tick" x="{_f(x)}" y="{bottom + 20}" text-anchor="{anchor}">{label}</text>')
    parts.append(
        f'<text class="axis-title" x="{_f(LEFT + plot_w / 2)}" y="{HEIGHT - 18}" text-anchor="middle">'
        f"drills in executed_at order, oldest → newest (UTC){shown}</text>"
    )
    # The target: a step line, broken where a drill records no target.
    path: list[str] = []
    previous_y: float | None = None
    for x, drill in zip(xs, drills, strict=True):
        if drill.max_recovery_minutes is None:
            previous_y = None
            continue
        y = axis.y(drill.max_recovery_minutes)
        left, right = x - step / 2, x + step / 2
        path.append(f"{'L' if previous_y is not None else 'M'}{_f(left)} {_f(y)}H{_f(right)}")
        previous_y = y
    if path:
        parts.append(f'<path class="target" d="{"".join(path)}"><title>recovery target per drill</title></path>')
    last_target = drills[-1].max_recovery_minutes
    if last_target is not None:
        parts.append(
            f'<text class="target-label" x="{WIDTH - RIGHT}" y="{_f(axis.y(last_target) - 6)}" text-anchor="end">'
            f"target {esc(minutes(last_target))}</text>"
        )
    # The recovery trend, under the marks.
    if len(drills) > 1:
        points = " ".join(f"{_f(x)},{_f(axis.y(d.recovery_minutes))}" for x, d in zip(xs, drills, strict=True))
        parts.append(f'<polyline class="trend" points="{points}"/>')
    for x, drill in zip(xs, drills, strict=True):
        y = axis.y(drill.recovery_minutes)
        title = f"<title>{esc(drill.describe())}</title>"
        if drill.failed:
            shape = (
                f'<path d="M{_f(x - mark)} {_f(y - mark)}L{_f(x + mark)} {_f(y + mark)}'
                f'M{_f(x - mark)} {_f(y + mark)}L{_f(x + mark)} {_f(y - mark)}"/>'
            )
            css = "mark failed"
        else:
            shape = f'<circle cx="{_f(x)}" cy="{_f(y)}" r="{_f(mark)}"/>'
            css = "mark passed"
        ring = f'<circle class="ring" cx="{_f(x)}" cy="{_f(y)}" r="{_f(mark + 4)}"/>' if drill.latest else ""
        parts.append(f'<g class="{css}">{title}{ring}{shape}</g>')
    parts.append("</svg>")
    return "\n".join(parts)


def _finite_positive(value: object) -> float | None:
    if not is_positive_number(value):
        return None
    try:
        converted = float(value)  # type: ignore[arg-type]
    except OverflowError:
        return None  # an integer beyond float range: no axis can hold it
    return converted if math.isfinite(converted) else None
