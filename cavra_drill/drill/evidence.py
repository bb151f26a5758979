"""Turning a drill outcome into rehearsal evidence and a history record (contract §4, §5).

Pure: no clock reads, no files. The CLI passes in the moment the drill started and writes
what these functions return, after the public-safety gate.
"""

from __future__ import annotations

from dataclasses import dataclass

# canonical_json and sha256_hex live with the history chain; re-exported for existing callers.
from cavra_drill.contract.integrity import canonical_json, sha256_hex
from cavra_drill.contract.rehearsal import REHEARSAL_SCHEMA
from cavra_drill.drill.outcome import PASS, DrillOutcome, recovery_minutes

__all__ = [
    "DEFAULT_RUNBOOK_REF",
    "DrillIdentity",
    "build_evidence",
    "build_record",
    "canonical_json",
    "evidence_refs",
    "passed",
    "sha256_hex",
]

DEFAULT_RUNBOOK_REF = "runbooks/go-backend-python-fallback.md"


@dataclass(frozen=True)
class DrillIdentity:
    """Who ran which drill where, as recorded for auditors (logical names only)."""

    drill_id: str
    executed_at: str
    environment: str
    actor: str
    plan_approval_id: str
    target_minutes: float
    runbook_ref: str = DEFAULT_RUNBOOK_REF
    incident: str | None = None
    faults: tuple[str, ...] = ()


def evidence_refs(identity: DrillIdentity, outcome: DrillOutcome) -> list[str]:
    """Opaque references naming the environment and the drill; no host, no path, no URL."""
    restored = "fallback-restored" if outcome.fallback_verified else "fallback-not-restored"
    base = f"{identity.environment}/{identity.drill_id}"
    return [
        f"go-rollback-rehearsal://{base}/{restored}",
        f"go-production-readiness://{base}/after-rehearsal",
    ]


def build_evidence(identity: DrillIdentity, outcome: DrillOutcome) -> dict[str, object]:
    return {
        "schema_version": REHEARSAL_SCHEMA,
        "status": outcome.status,
        "plan_approval_id": identity.plan_approval_id,
        "simulated": True,
        "fallback_verified": outcome.fallback_verified,
        "recovery_minutes": recovery_minutes(outcome.recovery_ns),
        "max_recovery_minutes": identity.target_minutes,
        "runbook_ref": identity.runbook_ref,
        "evidence_refs": evidence_refs(identity, outcome),
        "drill_id": identity.drill_id,
        "executed_at": identity.executed_at,
        "environment": identity.environment,
        "actor": identity.actor,
        "recovery_seconds": round(max(outcome.recovery_ns, 1) / 1e9, 6),
        "incident": identity.incident,
        "faults": list(identity.faults),
        "phases": [phase.as_json() for phase in outcome.phases],
    }


def build_record(evidence: dict[str, object], evidence_sha256: str) -> dict[str, object]:
    """The history entry for this drill: contract §5 fields plus the evidence file's digest.

    The chain fields (`previous_record_sha256`, `record_sha256`) are added by `append_drill`
    under the history lock: only it knows which record comes before.
    """
    return {
        "drill_id": evidence["drill_id"],
        "executed_at": evidence["executed_at"],
        "actor": evidence["actor"],
        "environment": evidence["environment"],
        "source_mode": "promoted",
        "target_mode": "disabled",
        "status": evidence["status"],
        "fallback_verified": evidence["fallback_verified"],
        "recovery_minutes": evidence["recovery_minutes"],
        "max_recovery_minutes": evidence["max_recovery_minutes"],
        "runbook_ref": evidence["runbook_ref"],
        "evidence_refs": evidence["evidence_refs"],
        "evidence_sha256": evidence_sha256,
    }


def passed(evidence: dict[str, object]) -> bool:
    return evidence.get("status") == PASS
