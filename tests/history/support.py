"""Hand-made drill histories with known numbers, sealed the way `append_drill` seals them."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cavra_drill.contract.integrity import seal_record

HISTORY_SCHEMA = "cavra.go-backend-rollback-drill-history.v1"
ENVIRONMENT = "production-pilot"
NOW = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)
NOW_TEXT = "2026-03-01T12:00:00Z"


def record(
    drill_id: str,
    executed_at: str,
    *,
    status: str = "pass",
    recovery: float = 1.0,
    target: float = 15,
    fallback: bool = True,
    **extra: object,
) -> dict[str, Any]:
    """A drill record as `cavra-drill run` builds it (before sealing)."""
    return {
        "drill_id": drill_id,
        "executed_at": executed_at,
        "actor": "release-agent",
        "environment": ENVIRONMENT,
        "source_mode": "promoted",
        "target_mode": "disabled",
        "status": status,
        "fallback_verified": fallback,
        "recovery_minutes": recovery,
        "max_recovery_minutes": target,
        "runbook_ref": "runbooks/go-backend-python-fallback.md",
        "evidence_refs": [f"go-rollback-rehearsal://{ENVIRONMENT}/{drill_id}/fallback-restored"],
        "evidence_sha256": "0" * 64,
        **extra,
    }


def sealed(records: Iterable[object], *, before: Iterable[object] = ()) -> list[object]:
    """`before` as they are (legacy entries), then each of `records` sealed onto the chain."""
    drills: list[object] = list(before)
    for item in records:
        assert isinstance(item, dict)
        drills.append(seal_record(item, drills))
    return drills


def history(drills: list[object], **extra: object) -> dict[str, Any]:
    return {"schema_version": HISTORY_SCHEMA, "environment": ENVIRONMENT, "drills": drills, **extra}


def write(path: Path, document: object) -> Path:
    """Written as `append_drill` writes it: indented UTF-8 JSON and a newline."""
    path.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def read(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


# Six drills a week apart. Five restored Python (1, 2, 3, 4 and 10 minutes: median 3, p95 and
# max 10, rising); the failed one at 20 minutes never restored it and is in no recovery figure.
KNOWN = [
    record("drill_01", "2026-01-01T00:00:00Z", recovery=1),
    record("drill_02", "2026-01-08T00:00:00Z", recovery=2),
    record("drill_03", "2026-01-15T00:00:00Z", status="fail", recovery=20, fallback=False),
    record("drill_04", "2026-01-22T00:00:00Z", recovery=3),
    record("drill_05", "2026-01-29T00:00:00Z", recovery=4),
    record("drill_06", "2026-02-05T00:00:00Z", recovery=10),
]
