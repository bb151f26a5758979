"""Contract §4 (rehearsal evidence) and the §9 runbook_ref defect, one test per rule and boundary."""

from __future__ import annotations

from typing import Any

import cavra_samples as samples
import pytest

from cavra_drill.contract.documents import Document
from cavra_drill.contract.plan import PlanJudgement, judge_plan
from cavra_drill.contract.rehearsal import RehearsalJudgement, judge_rehearsal, rehearsal_summary

ACCEPTED = "Rollback rehearsal evidence proves Python fallback restoration within the approved recovery target."
MSG_SCHEMA = "rollback rehearsal evidence has an invalid schema_version"
MSG_STATUS = "rollback rehearsal evidence must record status=pass"
MSG_RUNBOOK = "rollback rehearsal evidence must include runbook_ref"
MSG_REFS = "rollback rehearsal evidence_refs must be a non-empty list of strings"
MSG_BINDING = "rollback rehearsal plan_approval_id must match the rollback plan approval_id"

_ABSENT = object()


def _apply(data: dict[str, Any], changes: dict[str, object]) -> dict[str, Any]:
    for key, value in changes.items():
        if value is _ABSENT:
            data.pop(key, None)
        else:
            data[key] = value
    return data


def make_plan(**changes: object) -> PlanJudgement:
    return judge_plan(samples.document(_apply(samples.plan(), changes), "plan.json"))


SAMPLE_PLAN = object()


def judge(plan: object = SAMPLE_PLAN, **changes: object) -> RehearsalJudgement:
    """The documented sample evidence with `changes`, bound to the sample plan unless told otherwise."""
    bound: PlanJudgement | None
    if plan is SAMPLE_PLAN:
        bound = make_plan()
    else:
        assert plan is None or isinstance(plan, PlanJudgement)
        bound = plan
    return judge_rehearsal(samples.document(_apply(samples.rehearsal(), changes), "ev.json"), bound)


def test_documented_sample_is_accepted() -> None:
    evidence = judge()
    assert evidence.valid is True
    assert (evidence.simulated, evidence.fallback_verified, evidence.recovery_sla_met, evidence.evidence_refs_ok) == (
        True,
        True,
        True,
        True,
    )
    assert (evidence.recovery_minutes, evidence.max_recovery_minutes) == (6, 15)
    assert evidence.message == ACCEPTED
    assert evidence.failures == []


def test_unknown_additive_fields_are_ignored() -> None:
    evidence = judge(drill_id="drill_1", executed_at="2026-11-29T10:00:00Z", phases=[{"name": "rollback"}])
    assert evidence.valid is True


# ---- 1. schema_version, 2. status ----------------------------------------------------------


@pytest.mark.parametrize("value", ["cavra.go-backend-rollback-plan.v1", None, _ABSENT])
def test_schema_version_must_match(value: object) -> None:
    evidence = judge(schema_version=value)
    assert evidence.valid is False
    assert evidence.message == MSG_SCHEMA


@pytest.mark.parametrize("value", ["fail", "PASS", "passed", True, None, _ABSENT])
def test_status_must_be_pass(value: object) -> None:
    evidence = judge(status=value)
    assert evidence.valid is False
    assert evidence.message == MSG_STATUS


# ---- 3. simulated, 4. fallback_verified (JSON true; not in the evidence message) -----------


@pytest.mark.parametrize("value", [False, "true", 1, None, _ABSENT])
def test_simulated_must_be_json_true(value: object) -> None:
    evidence = judge(simulated=value)
    assert evidence.simulated is False
    assert evidence.valid is False
    assert evidence.message == ACCEPTED  # CAVRA's message omits this rule (§9)
    assert [f.field for f in evidence.failures] == ["simulated"]


@pytest.mark.parametrize("value", [False, "true", 1, None, _ABSENT])
def test_fallback_verified_must_be_json_true(value: object) -> None:
    evidence = judge(fallback_verified=value)
    assert evidence.fallback_verified is False
    assert evidence.valid is False
    assert evidence.message == ACCEPTED
    assert [f.field for f in evidence.failures] == ["fallback_verified"]


# ---- 5. recovery SLA -----------------------------------------------------------------------


def test_recovery_equal_to_the_max_passes() -> None:
    evidence = judge(recovery_minutes=15, max_recovery_minutes=15)
    assert evidence.recovery_sla_met is True
    assert evidence.valid is True


def test_recovery_equal_to_the_max_as_floats_passes() -> None:
    assert judge(recovery_minutes=6.25, max_recovery_minutes=6.25).recovery_sla_met is True


def test_recovery_just_over_the_max_fails() -> None:
    evidence = judge(recovery_minutes=15.0001, max_recovery_minutes=15)
    assert evidence.recovery_sla_met is False
    assert evidence.valid is False
    assert evidence.message == ACCEPTED
    assert [f.field for f in evidence.failures] == ["recovery_minutes"]


def test_small_positive_recovery_passes() -> None:
    assert judge(recovery_minutes=0.5).recovery_sla_met is True


@pytest.mark.parametrize(
    "value",
    [0, 0.0, -1, "6", True, False, None, [6], _ABSENT],
    ids=["zero", "zero-float", "negative", "string", "true", "false", "null", "list", "absent"],
)
def test_recovery_minutes_must_be_a_positive_number(value: object) -> None:
    evidence = judge(recovery_minutes=value)
    assert evidence.recovery_sla_met is False
    assert evidence.recovery_minutes is None
    assert evidence.valid is False


@pytest.mark.parametrize(
    "value", ["15", True, 0, -15, None, _ABSENT], ids=["string", "bool", "zero", "negative", "null", "absent"]
)
def test_effective_max_falls_back_to_the_plan(value: object) -> None:
    evidence = judge(make_plan(max_recovery_minutes=7), max_recovery_minutes=value, recovery_minutes=7)
    assert evidence.max_recovery_minutes == 7
    assert evidence.recovery_sla_met is True
    over = judge(make_plan(max_recovery_minutes=7), max_recovery_minutes=value, recovery_minutes=7.5)
    assert over.recovery_sla_met is False


def test_evidence_max_wins_over_the_plan_when_lower() -> None:
    evidence = judge(make_plan(max_recovery_minutes=15), max_recovery_minutes=5, recovery_minutes=6)
    assert evidence.max_recovery_minutes == 5
    assert evidence.recovery_sla_met is False


def test_evidence_max_wins_over_the_plan_when_higher() -> None:
    evidence = judge(make_plan(max_recovery_minutes=15), max_recovery_minutes=20, recovery_minutes=18)
    assert evidence.max_recovery_minutes == 20
    assert evidence.recovery_sla_met is True


def test_no_max_in_evidence_and_no_plan_fails_the_sla() -> None:
    evidence = judge(None, max_recovery_minutes=_ABSENT)
    assert evidence.max_recovery_minutes is None
    assert evidence.recovery_sla_met is False
    assert evidence.valid is False


def test_no_max_in_evidence_nor_in_the_plan_fails_the_sla() -> None:
    evidence = judge(make_plan(max_recovery_minutes="15"), max_recovery_minutes=_ABSENT)
    assert evidence.max_recovery_minutes is None
    assert evidence.recovery_sla_met is False


def test_plan_that_failed_to_load_lends_no_max() -> None:
    plan = judge_plan(Document("plan.json", None, "metadata file is missing"))
    evidence = judge(plan, max_recovery_minutes=_ABSENT)
    assert evidence.recovery_sla_met is False


# ---- 6. evidence_refs, 7. runbook_ref ------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [[], "go-rollback-rehearsal://ci/x", ["ok", 1], [None], None, _ABSENT],
    ids=["empty", "string", "mixed", "null-item", "null", "absent"],
)
def test_evidence_refs_must_be_a_non_empty_list_of_strings(value: object) -> None:
    evidence = judge(evidence_refs=value)
    assert evidence.evidence_refs_ok is False
    assert evidence.valid is False
    assert evidence.message == MSG_REFS


@pytest.mark.parametrize(
    "value", [None, "", 5, ["docs/x.md"], _ABSENT], ids=["null", "empty", "number", "list", "absent"]
)
def test_runbook_ref_must_be_a_non_empty_string(value: object) -> None:
    # §9: CAVRA passes `runbook_ref: null` (it becomes "None"); cavra-drill treats it as missing.
    evidence = judge(runbook_ref=value)
    assert evidence.valid is False
    assert evidence.message == MSG_RUNBOOK


def test_blank_runbook_ref_is_missing() -> None:
    # Stricter reading: white space alone names no runbook.
    assert judge(runbook_ref="   ").message == MSG_RUNBOOK


# ---- 8. approval binding -------------------------------------------------------------------


def test_binding_matches_the_plan_approval_id() -> None:
    assert judge(plan_approval_id="apr_go_backend_rollback").valid is True


@pytest.mark.parametrize(
    "value",
    ["apr_other", "APR_GO_BACKEND_ROLLBACK", "apr_go_backend_rollback ", 12345],
    ids=["other", "case", "trailing-space", "number"],
)
def test_binding_mismatch_fails(value: object) -> None:
    evidence = judge(plan_approval_id=value)
    assert evidence.valid is False
    assert evidence.message == MSG_BINDING


@pytest.mark.parametrize("value", ["", None, _ABSENT], ids=["empty", "null", "absent"])
def test_binding_falls_back_to_the_evidence_approval_id(value: object) -> None:
    assert judge(plan_approval_id=value, approval_id="apr_go_backend_rollback").valid is True
    assert judge(plan_approval_id=value, approval_id="apr_other").message == MSG_BINDING


@pytest.mark.parametrize("value", ["", _ABSENT], ids=["empty", "absent"])
def test_binding_with_no_id_in_the_evidence_fails(value: object) -> None:
    assert judge(plan_approval_id=value).message == MSG_BINDING


def test_evidence_approval_id_is_ignored_when_plan_approval_id_is_set() -> None:
    evidence = judge(plan_approval_id="apr_other", approval_id="apr_go_backend_rollback")
    assert evidence.message == MSG_BINDING


def test_binding_uses_the_plans_nested_approval_id() -> None:
    plan = make_plan(approval_id="", approval={"status": "approved", "approval_id": "apr_nested"})
    assert judge(plan, plan_approval_id="apr_nested").valid is True
    assert judge(plan).message == MSG_BINDING


@pytest.mark.parametrize("value", ["apr_anything", "", 7, _ABSENT])
def test_binding_skipped_when_the_plan_has_no_approval_id(value: object) -> None:
    plan = make_plan(approval_id=_ABSENT)
    assert judge(plan, plan_approval_id=value).valid is True


@pytest.mark.parametrize("value", ["apr_anything", _ABSENT])
def test_binding_skipped_without_a_plan(value: object) -> None:
    assert judge(None, plan_approval_id=value).valid is True


def test_binding_skipped_when_the_plan_failed_to_load() -> None:
    plan = judge_plan(Document("plan.json", None, "metadata file is missing"))
    assert judge(plan, plan_approval_id="apr_anything").valid is True


def test_plan_need_not_be_valid_or_approved_for_the_binding() -> None:
    plan = make_plan(status="draft", approved=False, controls=None, max_recovery_minutes=_ABSENT)
    assert plan.valid is False
    assert plan.approved is False
    assert judge(plan, plan_approval_id="apr_go_backend_rollback").valid is True
    assert judge(plan, plan_approval_id="apr_other").message == MSG_BINDING


# ---- the evidence message -----------------------------------------------------------------


def test_every_message_joined_in_order() -> None:
    evidence = judge(
        plan_approval_id="apr_other",
        evidence_refs=[],
        runbook_ref=None,
        status="fail",
        schema_version="x",
        simulated=False,
        fallback_verified=False,
        recovery_minutes=99,
    )
    assert evidence.message == "; ".join([MSG_SCHEMA, MSG_STATUS, MSG_RUNBOOK, MSG_REFS, MSG_BINDING])


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"evidence_refs": None, "runbook_ref": None}, [MSG_RUNBOOK, MSG_REFS]),
        ({"plan_approval_id": "x", "status": "fail"}, [MSG_STATUS, MSG_BINDING]),
        ({"evidence_refs": [], "plan_approval_id": "x"}, [MSG_REFS, MSG_BINDING]),
        ({"runbook_ref": "", "schema_version": None}, [MSG_SCHEMA, MSG_RUNBOOK]),
    ],
)
def test_pairs_of_messages_keep_the_order(changes: dict[str, object], expected: list[str]) -> None:
    assert judge(**changes).message == "; ".join(expected)


# ---- the summary ---------------------------------------------------------------------------


def test_summary_echoes_the_fields() -> None:
    summary = rehearsal_summary(judge())
    assert summary == {
        "valid": True,
        "schema_version": "cavra.go-backend-rollback-rehearsal.v1",
        "status": "pass",
        "plan_approval_id": "apr_go_backend_rollback",
        "simulated": True,
        "fallback_verified": True,
        "recovery_sla_met": True,
        "recovery_minutes": 6,
        "max_recovery_minutes": 15,
        "evidence_refs": [
            "go-rollback-rehearsal://ci/fallback-restored",
            "go-production-readiness://ci/after-rehearsal",
        ],
        "runbook_ref": "docs/go-backend-rollback-rehearsal.md",
        "message": ACCEPTED,
    }


def test_summary_nulls_numbers_that_are_not_positive_and_lists_that_are_not_strings() -> None:
    summary = rehearsal_summary(judge(None, recovery_minutes="6", max_recovery_minutes=True, evidence_refs=["a", 1]))
    assert summary["recovery_minutes"] is None
    assert summary["max_recovery_minutes"] is None
    assert summary["evidence_refs"] == []
