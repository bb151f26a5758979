"""An in-toto Statement (v1) with the test-result predicate (v0.1) for one drill. Unsigned.

- `subject`: the rehearsal evidence file, by name and the sha256 of its bytes as written;
- `predicate.result`: `PASSED` when the drill passed and readiness does not block (exit 0),
  else `FAILED`;
- `predicate.configuration`: resource descriptors of what configured the drill: the rollback
  plan by name and digest, annotated with the drill's parameters, and the drill schedule when
  one was configured;
- `passedTests` / `warnedTests` / `failedTests`: the names of the cases in `drill_cases`
  (`drill/verify`, `readiness.go_backend_rollback/go_rollback_plan`, ...). A `warn` that does
  not block readiness (a report not requested) is a warned test, not a failed one.

cavra-drill does not sign: wrap the statement in a DSSE envelope with your signer (cosign,
in-toto tooling) if the gate that reads it needs a signature. No `url` is written: a CI run URL
names a host, which the public-safety gate keeps out of every artifact.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from cavra_drill.formats.drill_cases import FAILED, PASSED, WARNED, run_cases
from cavra_drill.formats.json_text import render_json

STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
TEST_RESULT_PREDICATE = "https://in-toto.io/attestation/test-result/v0.1"
_PARAMETERS = ("drill_id", "executed_at", "environment", "max_recovery_minutes", "incident", "faults")


@dataclass(frozen=True)
class FileDigest:
    """A file by name (no directory) and the sha256 of its bytes."""

    name: str
    sha256: str


def render_attestation(
    evidence: Mapping[str, object],
    readiness: Mapping[str, object],
    *,
    failure: str | None,
    evidence_file: FileDigest,
    plan: FileDigest,
    schedule: FileDigest | None = None,
) -> str:
    statement = build_attestation(
        evidence, readiness, failure=failure, evidence_file=evidence_file, plan=plan, schedule=schedule
    )
    return render_json(statement)


def build_attestation(
    evidence: Mapping[str, object],
    readiness: Mapping[str, object],
    *,
    failure: str | None,
    evidence_file: FileDigest,
    plan: FileDigest,
    schedule: FileDigest | None = None,
) -> dict[str, object]:
    cases = run_cases(evidence, readiness, failure=failure)
    failed = [c.test_name for c in cases if c.outcome == FAILED]
    parameters = {key: evidence.get(key) for key in _PARAMETERS if evidence.get(key) is not None}
    configuration: list[dict[str, object]] = [
        {"name": plan.name, "digest": {"sha256": plan.sha256}, "annotations": parameters}
    ]
    if schedule is not None:
        configuration.append({"name": schedule.name, "digest": {"sha256": schedule.sha256}})
    return {
        "_type": STATEMENT_TYPE,
        "subject": [{"name": evidence_file.name, "digest": {"sha256": evidence_file.sha256}}],
        "predicateType": TEST_RESULT_PREDICATE,
        "predicate": {
            # Every failed case is a failed drill or a readiness check that blocks: exactly exit 1.
            "result": "FAILED" if failed else "PASSED",
            "configuration": configuration,
            "passedTests": [c.test_name for c in cases if c.outcome == PASSED],
            "warnedTests": [c.test_name for c in cases if c.outcome == WARNED],
            "failedTests": failed,
        },
    }
