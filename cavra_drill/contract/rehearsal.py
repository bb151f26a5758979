"""Rollback rehearsal evidence (contract §4): the eight rules CAVRA accepts it by."""

from __future__ import annotations

from dataclasses import dataclass

from cavra_drill.contract.documents import Document
from cavra_drill.contract.findings import FILE_FIELD, Failure, Rules
from cavra_drill.contract.plan import PlanJudgement
from cavra_drill.contract.values import (
    is_json_true,
    is_nonempty_string,
    is_nonempty_string_list,
    positive_or_none,
    string_list_or_empty,
    string_or_none,
)

REHEARSAL_SCHEMA = "cavra.go-backend-rollback-rehearsal.v1"

MSG_SCHEMA = "rollback rehearsal evidence has an invalid schema_version"
MSG_STATUS = "rollback rehearsal evidence must record status=pass"
MSG_RUNBOOK = "rollback rehearsal evidence must include runbook_ref"
MSG_REFS_LIST = "rollback rehearsal evidence_refs must be a non-empty list of strings"
MSG_BINDING = "rollback rehearsal plan_approval_id must match the rollback plan approval_id"
MSG_ACCEPTED = "Rollback rehearsal evidence proves Python fallback restoration within the approved recovery target."
SIMULATED_PASS = "Rollback rehearsal was simulated."
SIMULATED_FAIL = "rollback rehearsal must be marked simulated=true"
FALLBACK_PASS = "Python fallback restoration was verified."
FALLBACK_FAIL = "rollback rehearsal must verify Python fallback restoration"
SLA_PASS = "Recovery target was met."
SLA_FAIL = "rollback rehearsal recovery_minutes must be positive and less than or equal to max_recovery_minutes"
REFS_PASS = "Rollback rehearsal evidence references are recorded."
REFS_FAIL = "rollback rehearsal must include evidence_refs"


@dataclass(frozen=True)
class RehearsalJudgement:
    document: Document
    valid: bool
    simulated: bool
    fallback_verified: bool
    recovery_sla_met: bool
    evidence_refs_ok: bool
    recovery_minutes: float | int | None
    max_recovery_minutes: float | int | None
    """The effective target: the evidence's own when positive, else the plan's."""
    message: str
    failures: list[Failure]


def _bound_approval_id(document: Document) -> object:
    value = document.get("plan_approval_id")
    if value in (None, ""):
        value = document.get("approval_id")
    return value


def judge_rehearsal(document: Document, plan: PlanJudgement | None) -> RehearsalJudgement:
    """Judge evidence; `plan` is the plan from CAVRA_GO_ROLLBACK_PLAN, if one is configured.

    The plan need not be valid or approved here: it only lends its approval id (binding) and
    its max_recovery_minutes (when the evidence has none).
    """
    if document.data is None:
        error = document.error or "metadata file is missing"
        return RehearsalJudgement(
            document,
            False,
            False,
            False,
            False,
            False,
            None,
            None,
            error,
            [Failure(FILE_FIELD, error)],
        )
    get = document.get
    rules = Rules()
    rule = rules.check

    plan_max = plan.max_recovery_minutes if plan is not None else None
    effective_max = positive_or_none(get("max_recovery_minutes")) or plan_max
    recovery = positive_or_none(get("recovery_minutes"))

    ok_schema = rule(get("schema_version") == REHEARSAL_SCHEMA, "schema_version", MSG_SCHEMA, in_message=True)
    ok_status = rule(get("status") == "pass", "status", MSG_STATUS, in_message=True)
    ok_simulated = rule(is_json_true(get("simulated")), "simulated", SIMULATED_FAIL, in_message=False)
    ok_fallback = rule(is_json_true(get("fallback_verified")), "fallback_verified", FALLBACK_FAIL, in_message=False)
    ok_sla = rule(
        recovery is not None and effective_max is not None and recovery <= effective_max,
        "recovery_minutes",
        SLA_FAIL,
        in_message=False,
    )
    ok_refs = rule(
        is_nonempty_string_list(get("evidence_refs")),
        "evidence_refs",
        MSG_REFS_LIST,
        in_message=False,
    )
    ok_runbook = rule(is_nonempty_string(get("runbook_ref")), "runbook_ref", MSG_RUNBOOK, in_message=True)
    # CAVRA's message lists evidence_refs after runbook_ref; keep its order.
    if not ok_refs:
        rules.message_parts.append(MSG_REFS_LIST)
    ok_binding = True
    if plan is not None and (plan.approval_id or plan.approval_id_malformed):
        ok_binding = rule(
            not plan.approval_id_malformed and _bound_approval_id(document) == plan.approval_id,
            "plan_approval_id",
            MSG_BINDING,
            in_message=True,
        )
    valid = all((ok_schema, ok_status, ok_simulated, ok_fallback, ok_sla, ok_refs, ok_runbook, ok_binding))
    message = rules.message(MSG_ACCEPTED)
    return RehearsalJudgement(
        document,
        valid,
        ok_simulated,
        ok_fallback,
        ok_sla,
        ok_refs,
        recovery,
        effective_max,
        message,
        rules.failures,
    )


def rehearsal_summary(rehearsal: RehearsalJudgement) -> dict[str, object]:
    """The `rehearsal` section of the rehearsal report (contract §8)."""
    doc = rehearsal.document
    bound = _bound_approval_id(doc)
    return {
        "valid": rehearsal.valid,
        "schema_version": doc.schema_version,
        "status": string_or_none(doc.get("status")),
        "plan_approval_id": bound if isinstance(bound, str) else None,
        "simulated": rehearsal.simulated,
        "fallback_verified": rehearsal.fallback_verified,
        "recovery_sla_met": rehearsal.recovery_sla_met,
        "recovery_minutes": rehearsal.recovery_minutes,
        "max_recovery_minutes": rehearsal.max_recovery_minutes,
        "evidence_refs": string_list_or_empty(doc.get("evidence_refs")),
        "runbook_ref": string_or_none(doc.get("runbook_ref")),
        "message": rehearsal.message,
    }
