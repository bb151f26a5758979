"""The rollback plan (contract §3): validity, approval, approval id, missing controls."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cavra_drill.contract.documents import Document
from cavra_drill.contract.findings import FILE_FIELD, Failure, Rules
from cavra_drill.contract.values import (
    is_json_true,
    is_nonempty_string_list,
    is_positive_number,
    is_string_list,
    positive_or_none,
    string_list_or_empty,
    string_or_none,
)

PLAN_SCHEMA = "cavra.go-backend-rollback-plan.v1"
REQUIRED_CONTROLS = (
    "python-fallback-available",
    "promoted-mode-disable-tested",
    "rollback-approval-recorded",
    "operator-runbook-linked",
    "evidence-capture-enabled",
)

MSG_SCHEMA = "rollback plan has an invalid schema_version"
MSG_STATUS = "rollback plan must record status=ready"
MSG_STEPS = "rollback plan must include rollback_steps as a non-empty list of strings"
MSG_REFS = "rollback evidence_refs must be a list of strings"
MSG_MAX = "rollback plan must include positive max_recovery_minutes"
MSG_READY = "Rollback plan is ready for promoted Go backend pilots."
# Not in CAVRA's plan message (it omits them, §9), but rules all the same:
MSG_TARGET = "rollback plan must set target_mode=disabled"
MSG_CONTROLS = "rollback plan is missing required controls: "
MSG_APPROVAL = "rollback plan is not approved (approved=true or approval.status=approved)"


@dataclass(frozen=True)
class PlanJudgement:
    document: Document
    valid: bool
    approved: bool
    approval_id: str
    """The id evidence must bind to; "" when the plan has none (then any evidence matches)."""
    approval_id_malformed: bool
    """The plan names an approval id that is not a string: no evidence can match it."""
    missing_controls: list[str]
    message: str
    failures: list[Failure]

    @property
    def max_recovery_minutes(self) -> float | int | None:
        return positive_or_none(self.document.get("max_recovery_minutes"))

    @property
    def target_mode(self) -> str | None:
        return string_or_none(self.document.get("target_mode"))


def _approval_id(data: dict[str, Any]) -> tuple[str, bool]:
    top = data.get("approval_id")
    if top in (None, ""):
        approval = data.get("approval")
        top = approval.get("approval_id") if isinstance(approval, dict) else None
    if top in (None, ""):
        return "", False
    if not isinstance(top, str):
        return "", True
    return top, False


def _missing_controls(controls: object) -> list[str]:
    # CAVRA crashes on a number or null and iterates a string by character; a non-list is
    # simply "no controls" here (§9).
    present = {item for item in controls if isinstance(item, str)} if isinstance(controls, list) else set()
    return sorted(set(REQUIRED_CONTROLS) - present)


def judge_plan(document: Document) -> PlanJudgement:
    data = document.data
    if data is None:
        error = document.error or "metadata file is missing"
        return PlanJudgement(
            document,
            False,
            False,
            "",
            False,
            sorted(REQUIRED_CONTROLS),
            error,
            [Failure(FILE_FIELD, error)],
        )
    rules = Rules()
    rule = rules.check

    ok_schema = rule(data.get("schema_version") == PLAN_SCHEMA, "schema_version", MSG_SCHEMA, in_message=True)
    ok_status = rule(data.get("status") == "ready", "status", MSG_STATUS, in_message=True)
    ok_target = rule(data.get("target_mode") == "disabled", "target_mode", MSG_TARGET, in_message=False)
    missing = _missing_controls(data.get("controls"))
    ok_controls = rule(not missing, "controls", MSG_CONTROLS + ", ".join(missing), in_message=False)
    ok_steps = rule(
        is_nonempty_string_list(data.get("rollback_steps")),
        "rollback_steps",
        MSG_STEPS,
        in_message=True,
    )
    ok_refs = rule(is_string_list(data.get("evidence_refs", [])), "evidence_refs", MSG_REFS, in_message=True)
    ok_max = rule(
        is_positive_number(data.get("max_recovery_minutes")),
        "max_recovery_minutes",
        MSG_MAX,
        in_message=True,
    )
    valid = ok_schema and ok_status and ok_target and ok_controls and ok_steps and ok_refs and ok_max

    approval = data.get("approval")
    approved = is_json_true(data.get("approved")) or (
        isinstance(approval, dict) and approval.get("status") == "approved"
    )
    if not approved:
        rules.failures.append(Failure("approved", MSG_APPROVAL))
    approval_id, malformed = _approval_id(data)
    if malformed:
        rules.failures.append(Failure("approval_id", "rollback plan approval_id must be a string"))
    return PlanJudgement(
        document, valid, approved, approval_id, malformed, missing, rules.message(MSG_READY), rules.failures
    )


def plan_summary(plan: PlanJudgement) -> dict[str, object]:
    """The `rollback` section of the rollback-readiness report."""
    doc = plan.document
    return {
        "valid": plan.valid,
        "schema_version": doc.schema_version,
        "status": string_or_none(doc.get("status")),
        "target_mode": plan.target_mode,
        "approved": plan.approved,
        "approval_id": plan.approval_id or None,
        "max_recovery_minutes": plan.max_recovery_minutes,
        "controls": string_list_or_empty(doc.get("controls")),
        "missing_controls": plan.missing_controls,
        "rollback_steps": string_list_or_empty(doc.get("rollback_steps")),
        "evidence_refs": string_list_or_empty(doc.get("evidence_refs")),
        "message": plan.message,
    }
