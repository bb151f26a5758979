"""Contract §3 (the rollback plan) and the §9 `controls` defect, one test per rule and boundary."""

from __future__ import annotations

from typing import Any

import cavra_samples as samples
import pytest

from cavra_drill.contract.plan import PlanJudgement, judge_plan

READY = "Rollback plan is ready for promoted Go backend pilots."
MSG_SCHEMA = "rollback plan has an invalid schema_version"
MSG_STATUS = "rollback plan must record status=ready"
MSG_STEPS = "rollback plan must include rollback_steps as a non-empty list of strings"
MSG_REFS = "rollback evidence_refs must be a list of strings"
MSG_MAX = "rollback plan must include positive max_recovery_minutes"

_ABSENT = object()


def judge(**changes: object) -> PlanJudgement:
    """The documented sample plan with `changes` applied (`_ABSENT` deletes a field)."""
    data: dict[str, Any] = samples.plan()
    for key, value in changes.items():
        if value is _ABSENT:
            data.pop(key, None)
        else:
            data[key] = value
    return judge_plan(samples.document(data, "plan.json"))


def test_documented_sample_is_valid_approved_and_ready() -> None:
    plan = judge()
    assert plan.valid is True
    assert plan.approved is True
    assert plan.approval_id == "apr_go_backend_rollback"
    assert plan.missing_controls == []
    assert plan.message == READY
    assert plan.failures == []
    assert plan.max_recovery_minutes == 15
    assert plan.target_mode == "disabled"


# ---- schema_version, status, target_mode ---------------------------------------------------


@pytest.mark.parametrize("value", ["cavra.go-backend-rollback-plan.v2", "", None, 1, _ABSENT])
def test_wrong_schema_version(value: object) -> None:
    plan = judge(schema_version=value)
    assert plan.valid is False
    assert plan.message == MSG_SCHEMA


@pytest.mark.parametrize("value", ["draft", "READY", " ready", None, True, _ABSENT])
def test_status_must_be_ready(value: object) -> None:
    plan = judge(status=value)
    assert plan.valid is False
    assert plan.message == MSG_STATUS


@pytest.mark.parametrize("value", ["promoted", "Disabled", None, _ABSENT])
def test_target_mode_must_be_disabled_though_the_message_omits_it(value: object) -> None:
    plan = judge(target_mode=value)
    assert plan.valid is False
    # CAVRA's plan message does not name target_mode (§3 lists five messages only).
    assert plan.message == READY
    assert [f.field for f in plan.failures] == ["target_mode"]


# ---- controls ------------------------------------------------------------------------------


def test_one_missing_control_makes_the_plan_invalid() -> None:
    controls = [c for c in samples.REQUIRED_CONTROLS if c != "operator-runbook-linked"]
    plan = judge(controls=controls)
    assert plan.valid is False
    assert plan.missing_controls == ["operator-runbook-linked"]
    assert plan.message == READY


def test_missing_controls_are_reported_sorted() -> None:
    plan = judge(controls=["python-fallback-available"])
    assert plan.missing_controls == sorted(
        [
            "promoted-mode-disable-tested",
            "rollback-approval-recorded",
            "operator-runbook-linked",
            "evidence-capture-enabled",
        ]
    )


def test_extra_controls_are_fine() -> None:
    plan = judge(controls=["custom-check", *samples.REQUIRED_CONTROLS, "another"])
    assert plan.valid is True
    assert plan.missing_controls == []


def test_empty_controls_miss_all_five() -> None:
    assert judge(controls=[]).missing_controls == sorted(samples.REQUIRED_CONTROLS)


@pytest.mark.parametrize(
    "value", [5, 0, None, 1.5, True, _ABSENT], ids=["int", "zero", "null", "float", "bool", "absent"]
)
def test_controls_as_number_or_null_are_invalid_not_a_crash(value: object) -> None:
    # §9: CAVRA crashes on a number or null.
    plan = judge(controls=value)
    assert plan.valid is False
    assert plan.missing_controls == sorted(samples.REQUIRED_CONTROLS)


def test_controls_as_a_string_are_not_iterated_by_character() -> None:
    # §9: CAVRA iterates a string by character; a string naming a control is still not a list.
    plan = judge(controls="python-fallback-available")
    assert plan.valid is False
    assert plan.missing_controls == sorted(samples.REQUIRED_CONTROLS)


def test_controls_as_an_object_keyed_by_control_are_not_a_list() -> None:
    plan = judge(controls=dict.fromkeys(samples.REQUIRED_CONTROLS, True))
    assert plan.valid is False
    assert plan.missing_controls == sorted(samples.REQUIRED_CONTROLS)


def test_non_string_control_entries_do_not_count() -> None:
    plan = judge(controls=[1, None, ["python-fallback-available"], *samples.REQUIRED_CONTROLS[1:]])
    assert plan.missing_controls == ["python-fallback-available"]


# ---- rollback_steps ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [[], ["ok", 1], [None], "Set CAVRA_GO_BACKEND_MODE=disabled.", {"1": "x"}, None, _ABSENT],
    ids=["empty", "mixed", "null-item", "string", "object", "null", "absent"],
)
def test_rollback_steps_must_be_a_non_empty_list_of_strings(value: object) -> None:
    plan = judge(rollback_steps=value)
    assert plan.valid is False
    assert plan.message == MSG_STEPS


def test_a_single_rollback_step_is_enough() -> None:
    assert judge(rollback_steps=["Set CAVRA_GO_BACKEND_MODE=disabled."]).valid is True


# ---- evidence_refs -------------------------------------------------------------------------


@pytest.mark.parametrize("value", [[], _ABSENT], ids=["empty", "absent"])
def test_evidence_refs_may_be_empty_or_absent(value: object) -> None:
    plan = judge(evidence_refs=value)
    assert plan.valid is True
    assert plan.message == READY


@pytest.mark.parametrize(
    "value",
    ["go-rollback-readiness://ci/ready", ["ok", 2], None, {"a": "b"}],
    ids=["string", "mixed", "null", "object"],
)
def test_evidence_refs_must_be_a_list_of_strings(value: object) -> None:
    plan = judge(evidence_refs=value)
    assert plan.valid is False
    assert plan.message == MSG_REFS


# ---- max_recovery_minutes ------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    ["15", True, False, 0, 0.0, -1, -0.5, None, [15], _ABSENT],
    ids=["string", "true", "false", "zero", "zero-float", "negative", "negative-float", "null", "list", "absent"],
)
def test_max_recovery_minutes_must_be_a_positive_number(value: object) -> None:
    plan = judge(max_recovery_minutes=value)
    assert plan.valid is False
    assert plan.message == MSG_MAX
    assert plan.max_recovery_minutes is None


@pytest.mark.parametrize("value", [0.5, 6.25, 1, 15, 10**30])
def test_positive_max_recovery_minutes(value: float) -> None:
    plan = judge(max_recovery_minutes=value)
    assert plan.valid is True
    assert plan.max_recovery_minutes == value


def test_integer_too_large_for_a_float_is_still_a_positive_number() -> None:
    # CAVRA compares ints as ints; a 400-digit int must not crash the float conversion.
    plan = judge(max_recovery_minutes=10**400)
    assert plan.valid is True


# ---- the message: joined with "; " in CAVRA's order ----------------------------------------


def test_every_message_joined_in_order() -> None:
    plan = judge(
        max_recovery_minutes=0,
        evidence_refs="x",
        rollback_steps=[],
        status="draft",
        schema_version="v0",
        target_mode="promoted",
        controls=None,
    )
    assert plan.message == "; ".join([MSG_SCHEMA, MSG_STATUS, MSG_STEPS, MSG_REFS, MSG_MAX])


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"status": "draft", "max_recovery_minutes": 0}, [MSG_STATUS, MSG_MAX]),
        ({"evidence_refs": None, "schema_version": None}, [MSG_SCHEMA, MSG_REFS]),
        ({"rollback_steps": None, "status": None}, [MSG_STATUS, MSG_STEPS]),
        ({"max_recovery_minutes": "1", "rollback_steps": "x"}, [MSG_STEPS, MSG_MAX]),
    ],
)
def test_pairs_of_messages_keep_the_order(changes: dict[str, object], expected: list[str]) -> None:
    assert judge(**changes).message == "; ".join(expected)


# ---- approval (not part of valid) ----------------------------------------------------------


def test_approval_is_not_part_of_valid() -> None:
    plan = judge(approved=False)
    assert plan.valid is True
    assert plan.approved is False
    assert plan.message == READY


@pytest.mark.parametrize("value", ["true", 1, "yes", None, _ABSENT], ids=["string", "one", "yes", "null", "absent"])
def test_approved_must_be_json_true(value: object) -> None:
    assert judge(approved=value).approved is False


def test_approval_status_approved_counts_as_approved() -> None:
    plan = judge(approved=False, approval={"status": "approved", "approval_id": "apr_nested"})
    assert plan.approved is True


@pytest.mark.parametrize(
    "approval",
    [{"status": "Approved"}, {"status": "pending"}, {"status": True}, "approved", ["approved"], None],
    ids=["capitalised", "pending", "bool", "string", "list", "null"],
)
def test_other_approval_values_do_not_approve(approval: object) -> None:
    assert judge(approved=False, approval=approval).approved is False


def test_top_level_approval_id_wins() -> None:
    plan = judge(approval_id="apr_top", approval={"status": "approved", "approval_id": "apr_nested"})
    assert plan.approval_id == "apr_top"


@pytest.mark.parametrize("top", ["", None, _ABSENT], ids=["empty", "null", "absent"])
def test_approval_id_falls_back_to_approval_approval_id(top: object) -> None:
    plan = judge(approval_id=top, approval={"status": "approved", "approval_id": "apr_nested"})
    assert plan.approval_id == "apr_nested"


def test_no_approval_id_anywhere() -> None:
    plan = judge(approval_id=_ABSENT, approval={"status": "approved"})
    assert plan.approval_id == ""
    assert plan.valid is True


def test_non_string_approval_id_can_never_be_matched() -> None:
    plan = judge(approval_id=12345)
    assert plan.approval_id == ""
    assert plan.approval_id_malformed is True
