"""Contract §6 (the drill schedule): due date, staleness, due soon, shapes, report status."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import cavra_samples as samples
import pytest

from cavra_drill.contract.documents import Document
from cavra_drill.contract.history import HistoryJudgement, judge_history
from cavra_drill.contract.reports import judge_all, schedule_report
from cavra_drill.contract.schedule import ScheduleJudgement, judge_schedule, schedule_summary

NOW = samples.NOW
VALID = "Rollback drill schedule is active and current."
NOT_CONFIGURED = Document("", None, "metadata path is not configured")

_ABSENT = object()


def in_days(days: float = 0.0, seconds: float = 0.0) -> str:
    return (NOW + timedelta(days=days, seconds=seconds)).isoformat().replace("+00:00", "Z")


def history_with_drill_at(executed_at: str) -> HistoryJudgement:
    return judge_history(
        samples.document(samples.history(samples.drill(executed_at)), "drills.json"), now=NOW, max_age_days=90.0
    )


NO_HISTORY = judge_history(NOT_CONFIGURED, now=NOW, max_age_days=90.0)


def schedule_data(**changes: object) -> dict[str, Any]:
    data = samples.schedule()
    for key, value in changes.items():
        if value is _ABSENT:
            data.pop(key, None)
        else:
            data[key] = value
    return data


def judge(
    history: HistoryJudgement | None = None, due_soon_days: float = 14.0, /, **changes: object
) -> ScheduleJudgement:
    return judge_schedule(
        samples.document(schedule_data(**changes), "schedule.json"),
        history if history is not None else NO_HISTORY,
        now=NOW,
        due_soon_days=due_soon_days,
    )


def test_sample_schedule_is_valid_and_not_due_soon() -> None:
    schedule = judge()
    assert schedule.valid is True
    assert schedule.days_until_due == 30.0
    assert (schedule.stale, schedule.due_soon, schedule.active, schedule.cadence_ok, schedule.routes_ok) == (
        False,
        False,
        True,
        True,
        True,
    )
    assert schedule.message == VALID
    assert schedule.failures == []


# ---- the due date --------------------------------------------------------------------------


def test_next_due_at_wins_over_the_latest_drill_plus_interval() -> None:
    schedule = judge(history_with_drill_at(in_days(-3)), next_due_at=in_days(20))
    assert schedule.days_until_due == 20.0


def test_without_next_due_at_the_due_date_is_latest_drill_plus_interval() -> None:
    schedule = judge(history_with_drill_at(in_days(-3)), next_due_at=_ABSENT, interval_days=30)
    assert schedule.days_until_due == 27.0
    assert schedule.valid is True


@pytest.mark.parametrize("value", ["next month", "", None, 20991231], ids=["words", "empty", "null", "number"])
def test_unparseable_next_due_at_falls_back_to_latest_drill_plus_interval(value: object) -> None:
    schedule = judge(history_with_drill_at(in_days(-10)), next_due_at=value, interval_days=7.5)
    assert schedule.days_until_due == -2.5
    assert schedule.stale is True


def test_a_failing_latest_drill_still_dates_the_schedule() -> None:
    history = judge_history(
        samples.document(samples.history(samples.drill(in_days(-3), status="fail")), "drills.json"),
        now=NOW,
        max_age_days=90.0,
    )
    assert judge(history, next_due_at=_ABSENT).days_until_due == 27.0


def test_no_next_due_at_and_no_history_means_no_due_date() -> None:
    schedule = judge(next_due_at=_ABSENT)
    assert schedule.due_at is None
    assert schedule.days_until_due is None
    assert schedule.stale is True
    assert schedule.valid is False
    assert "rollback drill schedule has no due date" in schedule.message


def test_no_next_due_at_and_no_positive_interval_means_no_due_date() -> None:
    schedule = judge(history_with_drill_at(in_days(-3)), next_due_at=_ABSENT, interval_days="30")
    assert schedule.due_at is None
    assert schedule.stale is True


@pytest.mark.parametrize("interval", [1e10, 10**400, 3_000_000], ids=["float", "huge-int", "past-year-9999"])
def test_interval_beyond_the_calendar_is_no_due_date_not_a_crash(interval: float) -> None:
    schedule = judge(history_with_drill_at(in_days(-3)), next_due_at=_ABSENT, interval_days=interval)
    assert schedule.due_at is None
    assert schedule.stale is True
    assert schedule.valid is False


def test_far_future_next_due_at_is_not_stale() -> None:
    schedule = judge(next_due_at="9999-12-31T00:00:00Z")
    assert schedule.stale is False
    assert schedule.valid is True


# ---- stale ---------------------------------------------------------------------------------


def test_days_until_due_zero_is_not_stale() -> None:
    schedule = judge(next_due_at=in_days(0))
    assert schedule.days_until_due == 0.0
    assert schedule.stale is False
    assert schedule.valid is True


def test_overdue_by_less_than_the_rounding_is_not_stale() -> None:
    schedule = judge(next_due_at=in_days(seconds=-4))  # -0.0000463 days -> -0.0
    assert schedule.days_until_due == 0.0
    assert schedule.stale is False


def test_negative_days_until_due_is_stale() -> None:
    schedule = judge(next_due_at=in_days(seconds=-5.184))  # -0.00006 days -> -0.0001
    assert schedule.days_until_due == -0.0001
    assert schedule.stale is True
    assert schedule.due_soon is False
    assert schedule.valid is False
    assert schedule.message == "rollback drill schedule is overdue"


# ---- due soon ------------------------------------------------------------------------------


def test_due_in_exactly_the_due_soon_window_is_due_soon() -> None:
    schedule = judge(next_due_at=in_days(14))
    assert schedule.days_until_due == 14.0
    assert schedule.due_soon is True
    assert schedule.valid is True


def test_due_just_after_the_due_soon_window_is_not_due_soon() -> None:
    schedule = judge(next_due_at=in_days(14, seconds=8.64))  # 14.0001 days
    assert schedule.days_until_due == 14.0001
    assert schedule.due_soon is False


def test_due_now_is_due_soon() -> None:
    assert judge(next_due_at=in_days(0)).due_soon is True


def test_custom_due_soon_window() -> None:
    assert judge(None, 30.0).due_soon is True
    assert judge(None, 29.9999).due_soon is False


# ---- fields and shapes ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        (
            "schema_version",
            "cavra.go-backend-rollback-drill-history.v1",
            "rollback drill schedule has an invalid schema_version",
        ),
        ("schema_version", _ABSENT, "rollback drill schedule has an invalid schema_version"),
        ("schedule_id", "", "rollback drill schedule must include schedule_id"),
        ("schedule_id", None, "rollback drill schedule must include schedule_id"),
        ("schedule_id", _ABSENT, "rollback drill schedule must include schedule_id"),
        ("status", "paused", "rollback drill schedule must record status=active"),
        ("status", _ABSENT, "rollback drill schedule must record status=active"),
        ("interval_days", 0, "rollback drill schedule must include positive interval_days"),
        ("interval_days", "30", "rollback drill schedule must include positive interval_days"),
        ("interval_days", True, "rollback drill schedule must include positive interval_days"),
        ("interval_days", _ABSENT, "rollback drill schedule must include positive interval_days"),
        ("runbook_ref", None, "rollback drill schedule must include runbook_ref"),
        ("runbook_ref", "", "rollback drill schedule must include runbook_ref"),
        ("runbook_ref", _ABSENT, "rollback drill schedule must include runbook_ref"),
    ],
)
def test_each_field_rule(field: str, value: object, message: str) -> None:
    schedule = judge(**{field: value})
    assert schedule.valid is False
    assert schedule.message == message
    assert [f.field for f in schedule.failures] == [field]


def test_inactive_schedule_is_not_active() -> None:
    assert judge(status="paused").active is False


def test_invalid_interval_is_no_cadence() -> None:
    assert judge(interval_days=-1).cadence_ok is False


@pytest.mark.parametrize("field", ["owners", "notification_providers"])
@pytest.mark.parametrize(
    "value", [[], "oncall", ["oncall", 2], None, _ABSENT], ids=["empty", "string", "mixed", "null", "absent"]
)
def test_owners_and_providers_must_be_non_empty_lists_of_strings(field: str, value: object) -> None:
    schedule = judge(**{field: value})
    assert schedule.valid is False
    assert schedule.routes_ok is False
    assert [f.field for f in schedule.failures] == [field]


@pytest.mark.parametrize(
    "value",
    [{}, {"team": ["slack"]}, [], [{"owner": "team"}], _ABSENT],
    ids=["empty-object", "object", "empty-list", "list", "absent"],
)
def test_owner_routes_may_be_an_object_or_a_list(value: object) -> None:
    assert judge(owner_routes=value).valid is True


@pytest.mark.parametrize("value", ["team", 3, None, True], ids=["string", "number", "null", "bool"])
def test_owner_routes_of_another_shape_are_invalid(value: object) -> None:
    schedule = judge(owner_routes=value)
    assert schedule.valid is False
    assert schedule.routes_ok is False
    assert [f.field for f in schedule.failures] == ["owner_routes"]


def test_routing_rules_is_an_alias_for_owner_routes() -> None:
    assert judge(owner_routes=_ABSENT, routing_rules=[{"owner": "team"}]).valid is True
    schedule = judge(owner_routes=_ABSENT, routing_rules="team")
    assert schedule.valid is False
    assert [f.field for f in schedule.failures] == ["routing_rules"]


def test_a_malformed_alias_beside_owner_routes_is_still_invalid() -> None:
    # Stricter reading: CAVRA may read routing_rules when owner_routes is empty; judge both.
    schedule = judge(owner_routes={}, routing_rules="team")
    assert schedule.valid is False


@pytest.mark.parametrize(
    ("value", "ok"), [([], True), ([{"day": "sat"}], True), (_ABSENT, True), ({}, False), ("sat", False), (None, False)]
)
def test_maintenance_windows_must_be_a_list(value: object, ok: bool) -> None:
    assert judge(maintenance_windows=value).valid is ok


@pytest.mark.parametrize(
    ("value", "ok"), [({}, True), ({"team": "cal"}, True), (_ABSENT, True), ([], False), ("cal", False), (None, False)]
)
def test_owner_calendars_must_be_an_object(value: object, ok: bool) -> None:
    assert judge(owner_calendars=value).valid is ok


# ---- the summary ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    ["2099-02-01T00:00:00Z", "2099-02-01", "2099-02-01T02:00:00+02:00", "2099-02-01T00:00:00"],
    ids=["zulu", "date", "offset", "naive"],
)
def test_summary_normalises_next_due_at_to_utc(value: str) -> None:
    assert schedule_summary(judge(next_due_at=value))["next_due_at"] == "2099-02-01T00:00:00+00:00"


def test_summary_keys_and_values() -> None:
    summary = schedule_summary(judge(next_due_at="2026-12-29T12:00:00Z"))
    assert summary == {
        "valid": True,
        "schema_version": "cavra.go-backend-rollback-drill-schedule.v1",
        "schedule_id": "sched_go_backend_rollback",
        "environment": "production-pilot",
        "status": "active",
        "interval_days": 30,
        "next_due_at": "2026-12-29T12:00:00+00:00",
        "days_until_due": 30.0,
        "stale": False,
        "due_soon": False,
        "owners": ["release-engineering"],
        "notification_providers": ["pagerduty"],
        "runbook_ref": "docs/go-backend-rollback-drill-schedule.md",
        "message": VALID,
    }


# ---- the report status ---------------------------------------------------------------------


def report_status(mode: str, schedule: Document) -> str:
    judgements = judge_all(
        mode=mode,
        now=NOW,
        plan=NOT_CONFIGURED,
        rehearsal=NOT_CONFIGURED,
        history=NOT_CONFIGURED,
        schedule=schedule,
        max_age_days=90.0,
        due_soon_days=14.0,
    )
    return str(schedule_report(judgements)["status"])


def test_report_not_requested() -> None:
    assert report_status("disabled", NOT_CONFIGURED) == "not_requested"
    assert report_status("enforce", NOT_CONFIGURED) == "not_requested"


def test_report_ready() -> None:
    assert report_status("promoted", samples.document(schedule_data())) == "ready"


def test_report_due_soon() -> None:
    assert report_status("promoted", samples.document(schedule_data(next_due_at=in_days(3)))) == "due_soon"


def test_report_needs_attention_when_stale() -> None:
    assert report_status("promoted", samples.document(schedule_data(next_due_at=in_days(-1)))) == "needs_attention"


def test_report_needs_attention_when_invalid_even_if_due_soon() -> None:
    doc = samples.document(schedule_data(next_due_at=in_days(3), owners=[]))
    assert report_status("promoted", doc) == "needs_attention"


def test_report_needs_attention_when_promoted_without_a_file() -> None:
    assert report_status("promoted", NOT_CONFIGURED) == "needs_attention"


def test_report_requested_by_its_path_alone() -> None:
    assert report_status("disabled", samples.document(schedule_data(), "schedule.json")) == "ready"
    missing = Document("schedule.json", None, "metadata file is missing")
    assert report_status("shadow", missing) == "needs_attention"
