"""docs/checks.md has one section per readiness check id the reports can produce, and no other.

The ids are collected from the code: every report built from empty judgements (no file
configured, in promoted mode and not), walking nested sections, so a check added to or renamed
in `cavra_drill.contract.reports` fails here until its section is written.
"""

from __future__ import annotations

import re
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

from cavra_drill.contract.documents import not_configured
from cavra_drill.contract.reports import REPORTS, judge_all

CHECKS_PAGE = Path(__file__).resolve().parents[2] / "docs" / "checks.md"
HEADING = re.compile(r"^### `([a-z0-9_]+)`\s*$", re.MULTILINE)


def produced_check_ids() -> set[str]:
    ids: set[str] = set()

    def collect(value: object) -> None:
        if isinstance(value, dict):
            checks = value.get("checks")
            if isinstance(checks, list):
                ids.update(str(c["id"]) for c in checks if isinstance(c, dict))
            for child in value.values():
                collect(child)

    for mode in ("promoted", "disabled"):
        judgements = judge_all(
            mode=mode,
            now=datetime(2026, 6, 1, tzinfo=UTC),
            plan=not_configured(),
            rehearsal=not_configured(),
            history=not_configured(),
            schedule=not_configured(),
            max_age_days=90.0,
            due_soon_days=14.0,
        )
        for build in REPORTS.values():
            collect(build(judgements))
    return ids


def documented_sections() -> dict[str, str]:
    text = CHECKS_PAGE.read_text(encoding="utf-8")
    matches = list(HEADING.finditer(text))
    counts = Counter(m.group(1) for m in matches)
    assert not [name for name, n in counts.items() if n > 1], "a check id has two sections"
    sections = {}
    for index, match in enumerate(matches):
        end = matches[index + 1].start() if index + 1 < len(matches) else len(text)
        body = text[match.end() : end].split("\n## ", 1)[0]
        sections[match.group(1)] = body
    return sections


def test_the_reports_produce_the_contract_check_ids() -> None:
    ids = produced_check_ids()
    # contract §8: 6 rollback, 6 rehearsal, 7 history, 7 schedule checks, and 4 production checks.
    assert len(ids) == 30
    assert {"go_rollback_requested", "go_rollback_drill_freshness", "go_backend_rollback_drill_schedule"} <= ids


def test_every_check_id_has_a_section() -> None:
    missing = sorted(produced_check_ids() - set(documented_sections()))
    assert missing == [], f"docs/checks.md has no section for: {', '.join(missing)}"


def test_no_section_names_an_id_that_does_not_exist() -> None:
    unknown = sorted(set(documented_sections()) - produced_check_ids())
    assert unknown == [], f"docs/checks.md documents check ids the reports never produce: {', '.join(unknown)}"


def test_every_section_says_when_it_warns_and_how_to_fix_it() -> None:
    for check_id, body in documented_sections().items():
        assert "**Warns when**" in body, f"{check_id}: no 'Warns when'"
        assert "**Fix**" in body, f"{check_id}: no 'Fix'"
