"""Contract §5 (the drill history): only the latest drill counts, and it must be fresh."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import cavra_samples as samples
import pytest

from cavra_drill.contract.history import HistoryJudgement, history_summary, judge_history

NOW = samples.NOW
VALID = "Rollback drill history records a passing, fresh Python fallback drill."
MSG_SCHEMA = "rollback drill history has an invalid schema_version"
MSG_DRILLS = "rollback drill history must include a non-empty drills list"
MSG_NO_PARSEABLE = "rollback drill history has no parseable drills"
STATUS_FAIL = "latest rollback drill must record status=pass"
TARGET_FAIL = "latest rollback drill must set target_mode=disabled"
FALLBACK_FAIL = "latest rollback drill must verify Python fallback restoration"
SLA_FAIL = "latest rollback drill recovery_minutes must be positive and less than or equal to max_recovery_minutes"
FRESH_FAIL = "latest rollback drill is missing, invalid, or stale"

_ABSENT = object()


def drill(at: str | None = None, **changes: object) -> dict[str, Any]:
    """The sample drill executed `at` (default: 3 days before NOW) with `changes` (`_ABSENT` deletes)."""
    entry = samples.drill(at)
    for key, value in changes.items():
        if value is _ABSENT:
            entry.pop(key, None)
        else:
            entry[key] = value
    return entry


def judge_data(data: object, max_age_days: float = 90.0) -> HistoryJudgement:
    return judge_history(samples.document(data, "drills.json"), now=NOW, max_age_days=max_age_days)


def judge(*drills: object, max_age_days: float = 90.0) -> HistoryJudgement:
    return judge_data(samples.history(*drills), max_age_days)


def ago(**delta: float) -> str:
    """An executed_at `delta` before NOW, with microseconds when needed."""
    return (NOW - timedelta(**delta)).isoformat().replace("+00:00", "Z")


def test_documented_sample_is_valid() -> None:
    history = judge()
    assert history.valid is True
    assert (history.passed, history.target_disabled, history.fallback_verified, history.recovery_sla_met) == (
        True,
        True,
        True,
        True,
    )
    assert history.fresh is True
    assert history.age_days == 3.0
    assert history.drill_count == 1
    assert history.message == VALID
    assert history.failures == []


# ---- the file ------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["cavra.go-backend-rollback-plan.v1", None, _ABSENT])
def test_schema_version_must_match(value: object) -> None:
    data = samples.history()
    if value is _ABSENT:
        del data["schema_version"]
    else:
        data["schema_version"] = value
    history = judge_data(data)
    assert history.valid is False
    assert history.message == MSG_SCHEMA
    assert history.passed is True  # the latest drill is still judged


@pytest.mark.parametrize(
    "value",
    [[], None, "drill", {"drill_id": "x"}, 3, _ABSENT],
    ids=["empty", "null", "string", "object", "number", "absent"],
)
def test_drills_must_be_a_non_empty_list(value: object) -> None:
    data = samples.history()
    if value is _ABSENT:
        del data["drills"]
    else:
        data["drills"] = value
    history = judge_data(data)
    assert history.valid is False
    assert history.message == MSG_DRILLS
    assert history.latest is None
    assert history.fresh is False


def test_drills_without_any_object_entry_are_unparseable() -> None:
    history = judge(1, "drill", None, ["x"])
    assert history.valid is False
    assert history.message == MSG_NO_PARSEABLE
    assert history.drill_count == 4


def test_non_object_entries_are_skipped() -> None:
    history = judge("junk", drill(), 42, None)
    assert history.valid is True
    assert history.latest_index == 1


# ---- which drill is the latest -------------------------------------------------------------


def test_only_the_latest_drill_counts_whatever_the_list_order() -> None:
    newer_failing = drill(ago(days=1), status="fail", drill_id="newer")
    older_passing = drill(ago(days=2), drill_id="older")
    for order in ((newer_failing, older_passing), (older_passing, newer_failing)):
        history = judge(*order)
        assert history.latest_get("drill_id") == "newer"
        assert history.passed is False
        assert history.valid is False


def test_an_older_failure_does_not_count() -> None:
    history = judge(drill(ago(days=40), status="fail", fallback_verified=False), drill(ago(days=1)))
    assert history.valid is True


def test_tie_goes_to_the_first_in_list_order() -> None:
    at = ago(days=1)
    assert judge(drill(at, status="fail"), drill(at)).passed is False
    assert judge(drill(at), drill(at, status="fail")).passed is True


def test_tie_across_time_zones_goes_to_the_first() -> None:
    history = judge(
        drill("2026-11-28T07:00:00-05:00", drill_id="first"), drill("2026-11-28T12:00:00Z", drill_id="second")
    )
    assert history.latest_get("drill_id") == "first"


def test_entries_with_unparseable_timestamps_lose_to_a_parseable_one() -> None:
    history = judge(drill(ago(days=1), drill_id="parsed"), drill("not a date", drill_id="unparsed", status="fail"))
    assert history.latest_get("drill_id") == "parsed"
    assert history.valid is True


def test_when_no_timestamp_parses_the_last_object_entry_counts() -> None:
    history = judge(drill("soon", drill_id="a"), drill(None, drill_id="b", executed_at=_ABSENT), "tail", 7)
    assert history.latest_index == 1
    assert history.latest_get("drill_id") == "b"
    assert history.fresh is False
    assert history.message == FRESH_FAIL


# ---- freshness -----------------------------------------------------------------------------


def test_exactly_90_days_old_is_fresh() -> None:
    history = judge(drill(ago(days=90)))
    assert history.age_days == 90.0
    assert history.fresh is True
    assert history.valid is True


def test_age_that_rounds_to_90_days_is_fresh() -> None:
    history = judge(drill(ago(days=90, seconds=4)))  # 90.0000463 days -> 90.0
    assert history.age_days == 90.0
    assert history.fresh is True


def test_age_that_rounds_to_90_0001_days_is_stale() -> None:
    history = judge(drill(ago(days=90, seconds=5.184)))  # 90.00006 days -> 90.0001
    assert history.age_days == 90.0001
    assert history.fresh is False
    assert history.valid is False
    assert history.message == FRESH_FAIL


def test_a_drill_in_the_future_is_fresh() -> None:
    history = judge(drill(samples.zulu(NOW + timedelta(days=2))))
    assert history.age_days == -2.0
    assert history.fresh is True


def test_custom_max_age() -> None:
    assert judge(drill(ago(days=7)), max_age_days=7).fresh is True
    assert judge(drill(ago(days=7, hours=1)), max_age_days=7).fresh is False
    assert judge(drill(ago(hours=12)), max_age_days=0.5).fresh is True


@pytest.mark.parametrize("max_age", [0.0, -1.0, float("nan")])
def test_max_age_must_be_positive(max_age: float) -> None:
    history = judge(drill(samples.zulu(NOW)), max_age_days=max_age)
    assert history.fresh is False
    assert history.valid is False


@pytest.fixture
def new_york_local_time() -> Iterator[None]:
    """Make the process's local time zone far from UTC, so a local reading would show."""
    saved = time.tzname
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("TZ", "America/New_York")
        time.tzset()
        yield
    time.tzset()
    assert time.tzname == saved


@pytest.mark.usefixtures("new_york_local_time")
def test_timestamp_without_zone_is_utc() -> None:
    history = judge(drill("2026-11-28T12:00:00"))
    assert history.age_days == 1.0
    assert history.latest_executed_at is not None
    assert history.latest_executed_at.utcoffset() == timedelta(0)


@pytest.mark.usefixtures("new_york_local_time")
def test_date_alone_is_midnight_utc() -> None:
    history = judge(drill("2026-11-28"))
    assert history.age_days == 1.5


def test_trailing_z_and_explicit_offsets_are_the_same_moment() -> None:
    assert judge(drill("2026-11-28T12:00:00Z")).age_days == 1.0
    assert judge(drill("2026-11-28T14:00:00+02:00")).age_days == 1.0
    assert judge(drill("2026-11-28T12:00:00.000+00:00")).age_days == 1.0


@pytest.mark.parametrize(
    "value",
    ["yesterday", "", "28/11/2026", "2026-13-01", 20261128, None, _ABSENT],
    ids=["word", "empty", "european", "month-13", "number", "null", "absent"],
)
def test_unparseable_executed_at_is_not_fresh(value: object) -> None:
    history = judge(drill(None, executed_at=value))
    assert history.age_days is None
    assert history.fresh is False
    assert history.valid is False
    assert history.message == FRESH_FAIL


@pytest.mark.parametrize("value", ["9999-12-31T23:00:00-05:00", "0001-01-01T00:00:00+05:00"])
def test_timestamp_out_of_range_in_utc_is_unparseable_not_a_crash(value: str) -> None:
    history = judge(drill(value))
    assert history.fresh is False
    assert history.age_days is None


# ---- the latest drill's rules --------------------------------------------------------------


@pytest.mark.parametrize("value", ["fail", "PASS", True, None, _ABSENT])
def test_latest_status_must_be_pass(value: object) -> None:
    history = judge(drill(None, status=value))
    assert history.passed is False
    assert history.valid is False
    assert history.message == STATUS_FAIL


@pytest.mark.parametrize("value", ["promoted", "shadow", None, _ABSENT])
def test_latest_target_mode_must_be_disabled(value: object) -> None:
    history = judge(drill(None, target_mode=value))
    assert history.target_disabled is False
    assert history.message == TARGET_FAIL


@pytest.mark.parametrize("value", [False, "true", 1, None, _ABSENT])
def test_latest_fallback_verified_must_be_json_true(value: object) -> None:
    history = judge(drill(None, fallback_verified=value))
    assert history.fallback_verified is False
    assert history.message == FALLBACK_FAIL


def test_latest_recovery_equal_to_its_max_passes() -> None:
    assert judge(drill(None, recovery_minutes=15, max_recovery_minutes=15)).recovery_sla_met is True


def test_latest_recovery_just_over_its_max_fails() -> None:
    history = judge(drill(None, recovery_minutes=15.0001, max_recovery_minutes=15))
    assert history.recovery_sla_met is False
    assert history.message == SLA_FAIL


@pytest.mark.parametrize("value", [0, -1, "7", True, None, _ABSENT])
def test_latest_recovery_must_be_a_positive_number(value: object) -> None:
    assert judge(drill(None, recovery_minutes=value)).recovery_sla_met is False


@pytest.mark.parametrize("value", [0, "15", True, None, _ABSENT])
def test_latest_drill_uses_its_own_max_with_no_fallback(value: object) -> None:
    # Unlike rehearsal evidence, a drill without its own positive max fails its SLA.
    history = judge(drill(None, max_recovery_minutes=value))
    assert history.recovery_sla_met is False
    assert history.valid is False


@pytest.mark.parametrize("value", [[], "go-rollback-drill://ci/x", [1], None, _ABSENT])
def test_latest_evidence_refs_must_be_a_non_empty_list_of_strings(value: object) -> None:
    history = judge(drill(None, evidence_refs=value))
    assert history.valid is False
    assert history.passed is True


@pytest.mark.parametrize("value", [None, "", "  ", 3, _ABSENT])
def test_latest_runbook_ref_must_be_a_non_empty_string(value: object) -> None:
    history = judge(drill(None, runbook_ref=value))
    assert history.valid is False


def test_actor_and_source_mode_are_not_judged() -> None:
    history = judge(drill(None, actor=None, source_mode="disabled"))
    assert history.valid is True
    assert judge(drill(None, actor=_ABSENT, source_mode=_ABSENT)).valid is True


def test_only_the_latest_drill_is_judged_for_every_rule() -> None:
    broken = drill(ago(days=5), status="fail", target_mode="promoted", fallback_verified=False, recovery_minutes=99)
    assert judge(broken, drill(ago(days=1))).valid is True


def test_every_failed_rule_is_in_the_message() -> None:
    history = judge(
        drill(ago(days=100), status="fail", target_mode="promoted", fallback_verified=False, recovery_minutes=99)
    )
    for text in (STATUS_FAIL, TARGET_FAIL, FALLBACK_FAIL, SLA_FAIL, FRESH_FAIL):
        assert text in history.message
    assert {f.field for f in history.failures} == {
        "drills[0].status",
        "drills[0].target_mode",
        "drills[0].fallback_verified",
        "drills[0].recovery_minutes",
        "drills[0].executed_at",
    }


# ---- the summary ---------------------------------------------------------------------------


def test_summary_echoes_the_latest_drill() -> None:
    at = ago(days=2)
    summary = history_summary(judge(drill(ago(days=9), drill_id="old"), drill(at, drill_id="new")))
    assert summary == {
        "valid": True,
        "schema_version": "cavra.go-backend-rollback-drill-history.v1",
        "environment": "production-pilot",
        "drill_count": 2,
        "latest_drill_id": "new",
        "latest_status": "pass",
        "latest_target_mode": "disabled",
        "latest_executed_at": at,
        "age_days": 2.0,
        "fresh": True,
        "fallback_verified": True,
        "recovery_sla_met": True,
        "recovery_minutes": 7,
        "max_recovery_minutes": 15,
        "runbook_ref": "docs/go-backend-rollback-drill-history.md",
        "evidence_refs": [
            "go-rollback-drill://ci/python-fallback-restored",
            "go-production-readiness://ci/post-drill-ready",
        ],
        "message": VALID,
    }


def test_summary_echoes_executed_at_raw() -> None:
    summary = history_summary(judge(drill("2026-11-28T14:00:00+02:00")))
    assert summary["latest_executed_at"] == "2026-11-28T14:00:00+02:00"
