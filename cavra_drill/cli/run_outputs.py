"""The CI outputs of `cavra-drill run`: JUnit, the Markdown step summary, metrics, attestation.

They are checked before the drill (`preflight_outputs`: a bad path costs nothing) and written
after the evidence, the history and the readiness report (`write_outputs`), each through the
public-safety gate. Those three are the record of the drill; a CI output that cannot be written
afterwards must not take them with it, so a failure here is collected, the remaining outputs
are still written, and the CLI reports it with its own exit code (3 or 4).
"""

from __future__ import annotations

import errno
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from cavra_drill.contract.safety import RULE_NAMES, check_safe, scan_text
from cavra_drill.drill.evidence import sha256_hex
from cavra_drill.errors import DrillError, EnvironmentFault, InputError
from cavra_drill.store.atomic import check_writable, write_atomic

STEP_SUMMARY_ENV = "GITHUB_STEP_SUMMARY"
# A previous metrics file larger than this is not ours; nothing is carried over from it.
MAX_PREVIOUS_METRICS_BYTES = 1 << 20


@dataclass(frozen=True)
class OutputPaths:
    junit: Path | None = None
    summary: Path | None = None
    metrics: Path | None = None
    attestation: Path | None = None

    def requested(self) -> list[tuple[str, str, Path]]:
        """(files key, what, path) of every output asked for, in the order they are written."""
        items = [
            ("junit", "JUnit report", self.junit),
            ("metrics", "metrics file", self.metrics),
            ("attestation", "attestation", self.attestation),
            ("summary", "step summary", self.summary),
        ]
        return [(key, what, path) for key, what, path in items if path is not None]


def resolve_outputs(
    *,
    junit: str | None,
    summary: str | None,
    metrics: str | None,
    attestation: str | None,
    env: Mapping[str, str],
) -> OutputPaths:
    """`--summary` defaults to `$GITHUB_STEP_SUMMARY`; an empty `--summary ''` turns it off."""
    summary_path = summary if summary is not None else env.get(STEP_SUMMARY_ENV)

    def given(value: str | None) -> Path | None:
        return Path(value) if value else None

    return OutputPaths(given(junit), given(summary_path), given(metrics), given(attestation))


def preflight_outputs(outputs: OutputPaths, reserved: Mapping[str, Path]) -> None:
    """Refuse (InputError, exit 3) before the drill: an output that cannot be written, or one
    that would overwrite another output or one of the drill's own files."""
    seen = {os.path.realpath(path): what for what, path in reserved.items()}
    for _, what, path in outputs.requested():
        check_writable(path, what=what)
        real = os.path.realpath(path)
        if real in seen:
            raise InputError(f"cannot write {what} {path}: it is also the {seen[real]}; give each output its own file")
        seen[real] = what


@dataclass(frozen=True)
class WrittenOutputs:
    files: dict[str, str]
    errors: tuple[DrillError, ...]


def write_outputs(
    outputs: OutputPaths,
    *,
    evidence: Mapping[str, object],
    evidence_path: Path,
    evidence_bytes: bytes,
    readiness: Mapping[str, object],
    files: Mapping[str, str],
    failure: str | None,
    plan_path: str,
    plan_sha256: str | None,
    schedule_path: str,
) -> WrittenOutputs:
    written: dict[str, str] = {}
    errors: list[DrillError] = []
    for key, what, path in outputs.requested():
        try:
            if key == "junit":
                from cavra_drill.formats.junit import render_junit

                _write_text(path, render_junit(evidence, readiness, failure=failure), what=what)
            elif key == "metrics":
                from cavra_drill.formats.metrics import previous_last_success, render_metrics

                previous = previous_last_success(_read_previous(path), str(evidence.get("environment")))
                text = render_metrics(evidence, readiness, previous_last_success=previous)
                _write_text(path, text, what=what)
            elif key == "attestation":
                _write_attestation(
                    path,
                    evidence=evidence,
                    evidence_path=evidence_path,
                    evidence_bytes=evidence_bytes,
                    readiness=readiness,
                    failure=failure,
                    plan_path=plan_path,
                    plan_sha256=plan_sha256,
                    schedule_path=schedule_path,
                )
            else:
                from cavra_drill.formats.markdown import render_step_summary

                listed = {**files, **written}
                _append_text(path, render_step_summary(evidence, readiness, listed, failure=failure), what=what)
        except DrillError as error:
            errors.append(error)
        else:
            written[key] = str(path)
    return WrittenOutputs(written, tuple(errors))


def safe_annotations(text: str) -> str:
    """Annotation lines through the public-safety gate: a line with a finding keeps its title
    but its message is withheld (named by rule, never echoed)."""
    lines = []
    for raw in text.splitlines():
        line = raw
        rules = scan_text(line)
        if rules and line.startswith("::") and "::" in line[2:]:
            # The title's own `:` are escaped, so the first `::` after the command ends it.
            head = line[: line.index("::", 2)]
            line = f"{head}::message withheld: it looks like {RULE_NAMES[rules[0]]}"
        if scan_text(line):
            continue  # the title itself: drop the line rather than print it
        lines.append(line + "\n")
    return "".join(lines)


def _write_attestation(
    path: Path,
    *,
    evidence: Mapping[str, object],
    evidence_path: Path,
    evidence_bytes: bytes,
    readiness: Mapping[str, object],
    failure: str | None,
    plan_path: str,
    plan_sha256: str | None,
    schedule_path: str,
) -> None:
    from cavra_drill.formats.attestation import FileDigest, build_attestation
    from cavra_drill.formats.json_text import render_json

    if plan_sha256 is None:
        raise InputError(f"cannot write attestation {path}: the rollback plan's digest is unknown")
    schedule = None
    if schedule_path:
        from cavra_drill.store.documents import NotAFile, Unreadable, read_file_bytes

        try:
            # Bounded and non-blocking: a FIFO or a device here must not hang a finished drill.
            schedule = FileDigest(Path(schedule_path).name, sha256_hex(read_file_bytes(schedule_path)))
        except (NotAFile, Unreadable):
            schedule = None  # judged as missing or unreadable by the readiness report already
    statement = build_attestation(
        evidence,
        readiness,
        failure=failure,
        evidence_file=FileDigest(evidence_path.name, sha256_hex(evidence_bytes)),
        plan=FileDigest(Path(plan_path).name, plan_sha256),
        schedule=schedule,
    )
    # The statement and predicate type URIs are the in-toto specification's fixed names (under
    # in-toto.io), not a host of ours; everything else the statement holds is scanned.
    check_safe(
        {key: value for key, value in statement.items() if key not in ("_type", "predicateType")},
        artifact=f"attestation {path}",
    )
    write_atomic(path, render_json(statement).encode("utf-8"), what="attestation")


def _check_text(text: str, *, what: str, path: Path) -> None:
    """The public-safety gate over a text output, line by line; the finding names the line,
    never the value."""
    for number, line in enumerate(text.splitlines(), start=1):
        rules = scan_text(line)
        if rules:
            raise InputError(f"{what} {path}: refusing to write: line {number} looks like {RULE_NAMES[rules[0]]}")


def _write_text(path: Path, text: str, *, what: str) -> None:
    _check_text(text, what=what, path=path)
    write_atomic(path, text.encode("utf-8"), what=what)


def _append_text(path: Path, text: str, *, what: str) -> None:
    """Append (GitHub concatenates the step summaries every step appends to the file)."""
    _check_text(text, what=what, path=path)
    try:
        with path.open("a", encoding="utf-8") as handle:
            if handle.tell() > 0:
                text = "\n" + text  # a heading must start a block, whatever came before
            handle.write(text)
    except OSError as error:
        if error.errno in (errno.ENOSPC, errno.EDQUOT):
            raise EnvironmentFault(f"no space left appending {what} {path}") from None
        reason = "permission denied" if isinstance(error, PermissionError) else (error.strerror or "error").lower()
        raise InputError(f"cannot append {what} {path}: {reason}") from None


def _read_previous(path: Path) -> str:
    """The metrics file this run replaces, or '' (absent, unreadable, or too big to be ours)."""
    try:
        with path.open("rb") as handle:
            raw = handle.read(MAX_PREVIOUS_METRICS_BYTES + 1)
    except OSError:
        return ""
    if len(raw) > MAX_PREVIOUS_METRICS_BYTES:
        return ""
    return raw.decode("utf-8", errors="replace")
