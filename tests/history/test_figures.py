"""Figures over a drill history, on hand-made histories with known numbers (pure)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from cavra_drill.contract.documents import Document
from cavra_drill.contract.history_figures import (
    HistoryFigures,
    compute_figures,
    drill_row,
    nearest_rank,
    recovery_trend,
)

from .support import KNOWN, NOW, history, record, sealed


def _figures(
    drills: list[object], *, now: datetime = NOW, last: int | None = None, schedule: Document | None = None
) -> HistoryFigures:
    document = Document("drills.json", history(drills), None)
    return compute_figures(document, now=now, max_age_days=90.0, last=last, schedule=schedule)


def _schedule(**fields: object) -> Document:
    data = {
        "schema_version": "cavra.go-backend-rollback-drill-schedule.v1",
        "schedule_id": "monthly",
        "environment": "production-pilot",
        "status": "active",
        "interval_days": 30,
        "owners": ["release-team"],
        "notification_providers": ["pager"],
        "maintenance_windows": [],
        "owner_calendars": {},
        "runbook_ref": "runbooks/go-backend-python-fallback.md",
        **fields,
    }
    return Document("schedule.json", data, None)


def test_known_history() -> None:
    figures = _figures(sealed(KNOWN))
    assert (figures.entries, figures.parseable, figures.unparseable) == (6, 6, 0)
    assert figures.passes == 5 and figures.pass_rate == 0.8333
    # Recovered drills only: 1, 2, 3, 4, 10 (the failed drill never restored Python).
    assert figures.recovered == 5
    assert figures.median_recovery_minutes == 3
    assert figures.p95_recovery_minutes == 10  # nearest rank: the ceil(4.75) = 5th smallest
    assert figures.max_recovery_minutes == 10
    assert figures.last_pass_at == datetime(2026, 2, 5, tzinfo=UTC)
    assert figures.days_since_last_pass == 24.5
    assert figures.latest is not None and figures.latest.drill_id == "drill_06"
    assert figures.stale_at == datetime(2026, 5, 6, tzinfo=UTC)  # 2026-02-05 + 90 days
    assert figures.fresh is True
    assert (figures.trend.direction, figures.trend.drills) == ("up", 5)
    assert figures.trend.slope_minutes_per_drill == 2.0 and figures.trend.relative_change == 2.0
    assert figures.schedule is None


def test_headroom_is_the_share_of_the_target_left() -> None:
    row = drill_row(0, record("d", "2026-01-01T00:00:00Z", recovery=3, target=12))
    assert row.headroom_percent == 75.0
    missed = drill_row(0, record("d", "2026-01-01T00:00:00Z", recovery=18, target=12))
    assert missed.headroom_percent == -50.0


def test_last_limits_the_rows_and_the_window_figures_but_not_the_whole_history_ones() -> None:
    figures = _figures(sealed(KNOWN), last=3)
    assert [row.drill_id for row in figures.rows] == ["drill_04", "drill_05", "drill_06"]
    assert figures.entries == 6 and figures.pass_rate == 1.0
    assert figures.median_recovery_minutes == 4
    assert figures.trend.drills == 3
    assert figures.last_pass_at == datetime(2026, 2, 5, tzinfo=UTC)
    assert figures.latest is not None and figures.latest.drill_id == "drill_06"
    assert len(_figures(sealed(KNOWN), last=100).rows) == 6


def test_stale_after_the_max_age() -> None:
    late = NOW + timedelta(days=90)
    figures = _figures(sealed(KNOWN), now=late)
    assert figures.fresh is False
    assert figures.stale_at == datetime(2026, 5, 6, tzinfo=UTC)
    document = Document("drills.json", history(sealed(KNOWN)), None)
    assert compute_figures(document, now=NOW, max_age_days=0).stale_at is None
    assert compute_figures(document, now=NOW, max_age_days=float("inf")).stale_at is None


def test_latest_is_cavras_latest_not_the_last_in_the_file() -> None:
    drills = sealed([record("newer", "2026-02-20T00:00:00Z"), record("older", "2026-01-01T00:00:00Z", status="fail")])
    figures = _figures(drills)
    assert figures.latest is not None and figures.latest.drill_id == "newer"
    assert figures.stale_at == datetime(2026, 5, 21, tzinfo=UTC)


@pytest.mark.parametrize(
    ("values", "direction"),
    [
        ([10, 8, 6, 4, 2], "down"),
        ([5, 5.1, 4.9, 5, 5], "flat"),
        ([1, 1, 1, 1, 1], "flat"),
        ([2, 2.1, 2.2, 2.3], "up"),  # +0.3 fitted on a mean of 2.15: +14 %
        ([2, 2.05, 2.1], "flat"),  # +0.1 on 2.05: +4.9 %
        ([1, 9], "unknown"),
        ([], "unknown"),
    ],
)
def test_trend_rule(values: list[float], direction: str) -> None:
    assert recovery_trend(values).direction == direction


def test_trend_uses_only_the_last_ten() -> None:
    rising_then_falling = [1.0] * 20 + [10, 9, 8, 7, 6, 5, 4, 3, 2, 1]
    trend = recovery_trend(rising_then_falling)
    assert trend.direction == "down" and trend.drills == 10 and trend.slope_minutes_per_drill == -1.0


def test_trend_follows_executed_at_not_file_order() -> None:
    # Appended out of time order: in time, recovery falls.
    drills = sealed(
        [
            record("c", "2026-01-03T00:00:00Z", recovery=1),
            record("a", "2026-01-01T00:00:00Z", recovery=9),
            record("b", "2026-01-02T00:00:00Z", recovery=5),
        ]
    )
    assert _figures(drills).trend.direction == "down"


def test_nearest_rank() -> None:
    assert nearest_rank([float(v) for v in range(1, 21)], 0.95) == 19
    assert nearest_rank([float(v) for v in range(1, 101)], 0.95) == 95
    assert nearest_rank([7.0], 0.95) == 7


@pytest.mark.parametrize(
    ("entry", "problem"),
    [
        ("garbage", "not an object (a JSON string)"),
        (42, "not an object (a JSON number)"),
        (None, "not an object (a JSON null)"),
        (True, "not an object (a JSON boolean)"),
        ([1], "not an object (a JSON list)"),
        ({}, "no valid drill_id, executed_at, status"),
        ({"drill_id": "x", "executed_at": "yesterday", "status": "pass"}, "no valid executed_at"),
        ({"drill_id": "", "executed_at": "2026-01-01", "status": 1}, "no valid drill_id, status"),
    ],
)
def test_garbage_entries_are_unparseable_rows(entry: object, problem: str) -> None:
    row = drill_row(3, entry)
    assert row.index == 3 and not row.parseable and row.problem == problem
    assert not row.recovered


def test_garbage_counts_in_no_figure() -> None:
    legacy: list[object] = ["garbage", {"drill_id": "x"}, {"recovery_minutes": 99, "fallback_verified": True}]
    figures = _figures(sealed(KNOWN[:2], before=legacy))
    assert (figures.entries, figures.parseable, figures.unparseable) == (5, 2, 3)
    assert figures.pass_rate == 1.0 and figures.max_recovery_minutes == 2


def test_no_drills() -> None:
    figures = _figures([])
    assert figures.entries == 0 and figures.pass_rate is None and figures.median_recovery_minutes is None
    assert figures.latest is None and figures.stale_at is None and figures.last_pass_at is None
    assert figures.trend.direction == "unknown"


def test_no_pass_and_no_recovery() -> None:
    figures = _figures(sealed([record("d", "2026-01-01T00:00:00Z", status="fail", fallback=False)]))
    assert figures.pass_rate == 0.0 and figures.recovered == 0 and figures.p95_recovery_minutes is None
    assert figures.last_pass_at is None and figures.days_since_last_pass is None


def test_due_date_from_the_schedule_interval() -> None:
    figures = _figures(sealed(KNOWN), schedule=_schedule())
    assert figures.schedule is not None
    assert figures.schedule.due_at == datetime(2026, 3, 7, tzinfo=UTC)  # drill_06 + 30 days
    assert figures.schedule.days_until_due == 5.5
    assert figures.schedule.due_soon is True and figures.schedule.stale is False
    assert figures.as_json()["schedule"]["next_due_at"] == "2026-03-07T00:00:00+00:00"  # type: ignore[index]


def test_due_date_from_next_due_at_and_a_broken_schedule() -> None:
    explicit = _figures(sealed(KNOWN), schedule=_schedule(next_due_at="2026-02-20T00:00:00Z"))
    assert explicit.schedule is not None and explicit.schedule.due_at == datetime(2026, 2, 20, tzinfo=UTC)
    assert explicit.schedule.stale is True and explicit.schedule.days_until_due == -9.5
    missing = _figures(sealed(KNOWN), schedule=Document("s.json", None, "metadata file is missing"))
    assert missing.schedule is not None and missing.schedule.due_at is None
    assert missing.schedule.message == "metadata file is missing"
