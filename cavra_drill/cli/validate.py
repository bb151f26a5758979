"""`cavra-drill validate`: judge hand-written or received files, every rule and public safety."""

from __future__ import annotations

import sys
from dataclasses import dataclass

from cavra_drill.cli.options import ReadinessSettings
from cavra_drill.contract import history, plan, rehearsal, schedule
from cavra_drill.contract.documents import Document
from cavra_drill.contract.findings import FILE_FIELD, Failure
from cavra_drill.contract.reports import judge_all
from cavra_drill.errors import EXIT_FAILED, EXIT_OK
from cavra_drill.formats.json_text import render_json
from cavra_drill.store.documents import read_document

KINDS_BY_SCHEMA = {
    plan.PLAN_SCHEMA: "plan",
    rehearsal.REHEARSAL_SCHEMA: "rehearsal",
    history.HISTORY_SCHEMA: "history",
    schedule.SCHEDULE_SCHEMA: "schedule",
}


@dataclass(frozen=True)
class Verdict:
    path: str
    kind: str | None
    failures: list[Failure]

    @property
    def valid(self) -> bool:
        return not self.failures

    def as_json(self) -> dict[str, object]:
        return {
            "path": self.path,
            "kind": self.kind,
            "valid": self.valid,
            "failures": [{"field": f.field, "message": f.message} for f in self.failures],
        }


def _safety_failures(document: Document) -> list[Failure]:
    from cavra_drill.contract.safety import RULE_NAMES, scan_value

    try:
        found = scan_value(document.data)
    except RecursionError:
        return [Failure(FILE_FIELD, "document is nested too deeply to scan for public safety")]
    # The failure already names the field; the message names the rule, never the value.
    return [
        Failure(f.field or FILE_FIELD, f"public safety: looks like {RULE_NAMES.get(f.rule, f.rule)}") for f in found
    ]


def judge_file(path: str, kind: str, settings: ReadinessSettings) -> Verdict:
    document = read_document(path)
    if document.data is None:
        return Verdict(path, None if kind == "auto" else kind, [Failure(FILE_FIELD, document.error or "")])
    if kind == "auto":
        found = KINDS_BY_SCHEMA.get(document.schema_version or "")
        if found is None:
            failure = Failure("schema_version", "unknown schema_version; name the kind with --kind")
            return Verdict(path, None, [failure])
        kind = found
    empty = Document("", None, None)
    docs = {"plan": empty, "rehearsal": empty, "history": empty, "schedule": empty, kind: document}
    if kind == "rehearsal":
        docs["plan"] = read_document(settings.plan)
    if kind == "schedule":
        docs["history"] = read_document(settings.history)
    j = judge_all(
        mode="promoted",
        now=settings.now,
        max_age_days=settings.max_age_days,
        due_soon_days=settings.due_soon_days,
        **docs,
    )
    failures: list[Failure] = {
        "plan": j.plan.failures,
        "rehearsal": j.rehearsal.failures,
        "history": j.history.failures,
        "schedule": j.schedule.failures,
    }[kind]
    return Verdict(path, kind, [*failures, *_safety_failures(document)])


def validate(paths: list[str], kind: str, settings: ReadinessSettings, *, as_json: bool) -> int:
    verdicts = [judge_file(path, kind, settings) for path in paths]
    if as_json:
        sys.stdout.write(
            render_json(
                {
                    "valid": all(v.valid for v in verdicts),
                    "files": [v.as_json() for v in verdicts],
                }
            )
        )
    else:
        lines = []
        for v in verdicts:
            lines.append(f"{v.path}: {'valid' if v.valid else 'invalid'} ({v.kind or 'unknown kind'})")
            lines += [f"  {f.describe()}" for f in v.failures]
        sys.stderr.write("\n".join(lines) + "\n")
    return EXIT_OK if all(v.valid for v in verdicts) else EXIT_FAILED
