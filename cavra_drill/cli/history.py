"""`cavra-drill history` and `history verify`: read the files, compute, render, pick the exit code.

The history is read as `append_drill` reads it (same parser, same refusals), so anything that
command would refuse to append to is refused here too: one line, exit 3.
"""

from __future__ import annotations

import os
import stat
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from cavra_drill.contract import settings as cs
from cavra_drill.contract.documents import Document
from cavra_drill.contract.history_figures import compute_figures
from cavra_drill.contract.integrity import (
    ChainReport,
    Verification,
    check_evidence,
    evidence_not_found,
    verify_chain,
)
from cavra_drill.errors import EXIT_FAILED, EXIT_OK, InputError
from cavra_drill.formats.history_text import render_history, render_verify
from cavra_drill.formats.json_text import render_json
from cavra_drill.store.documents import MAX_DOCUMENT_BYTES, read_document
from cavra_drill.store.history_store import read_history_for_append

# Where `cavra-drill run` writes by default (cli.run: DEFAULT_WORKDIR, HISTORY_FILE, EVIDENCE_FILE).
DEFAULT_HISTORY = os.path.join("cavra-drill-out", "go-backend-rollback-drills.json")
EVIDENCE_FILE = "go-backend-rollback-rehearsal.json"


@dataclass(frozen=True)
class HistoryOptions:
    history: str | None = None
    last: int | None = None
    max_age_days: str | None = None
    schedule: str | None = None
    now: str | None = None
    as_json: bool = False


def history_path(flag: str | None, env: Mapping[str, str]) -> Path:
    """--history, else CAVRA_GO_ROLLBACK_DRILL_HISTORY, else where `run` writes it by default."""
    value = flag.strip() if flag is not None else cs.setting_from(env, cs.ENV_HISTORY)
    return Path(value or DEFAULT_HISTORY)


def load_history(path: Path) -> dict[str, object]:
    """The history document, or InputError (exit 3) in one line when there is none to read."""
    document = read_history_for_append(path)
    if document is None:
        raise InputError(f"{path}: no drill history there (the file does not exist)")
    return document


def _drills(document: Mapping[str, object]) -> list[object]:
    drills = document["drills"]
    assert isinstance(drills, list)  # read_history_for_append guarantees it
    return drills


def _refuse_tampered(path: Path, chain: ChainReport) -> None:
    if chain.problems:
        first = chain.problems[0]
        raise InputError(
            f"{path}: drill history is tampered: {first.describe()} (`cavra-drill history verify` lists every problem)"
        )


def show_history(options: HistoryOptions, *, env: Mapping[str, str] | None = None) -> int:
    """The table and figures. Exit 0; 3 when the history cannot be read or fails its chain."""
    from cavra_drill.cli.options import parse_days, parse_now

    environ = os.environ if env is None else env
    now = parse_now(options.now)
    max_age_days = parse_days(
        options.max_age_days, environ.get(cs.ENV_MAX_AGE_DAYS), cs.DEFAULT_MAX_AGE_DAYS, "--max-age-days"
    )
    due_soon_days = cs.parse_float_setting(environ.get(cs.ENV_DUE_SOON_DAYS), cs.DEFAULT_DUE_SOON_DAYS)
    path = history_path(options.history, environ)
    document = load_history(path)
    chain = verify_chain(_drills(document))
    # Figures from a history someone has edited would be figures about their edit.
    _refuse_tampered(path, chain)
    # --schedule, else CAVRA_GO_ROLLBACK_DRILL_SCHEDULE; empty means no schedule (no due date).
    schedule_path = (
        options.schedule.strip() if options.schedule is not None else cs.setting_from(environ, cs.ENV_SCHEDULE)
    )
    figures = compute_figures(
        Document(str(path), document, None),
        now=now,
        max_age_days=max_age_days,
        last=options.last,
        schedule=read_document(schedule_path) if schedule_path else None,
        due_soon_days=due_soon_days,
    )
    environment = document.get("environment")
    environment_name = environment if isinstance(environment, str) else None
    if options.as_json:
        sys.stdout.write(
            render_json(
                {
                    "history": str(path),
                    "environment": environment_name,
                    "figures": figures.as_json(),
                    "drills": [row.as_json() for row in figures.rows],
                    "chain": {
                        "status": "unsealed" if chain.entries and not chain.chained else "intact",
                        "sealed": chain.chained,
                        "legacy": chain.legacy,
                        "head_sha256": chain.head_sha256,
                    },
                }
            )
        )
    else:
        sys.stderr.write(render_history(figures, path=str(path), environment=environment_name, chain=chain))
    return EXIT_OK


def evidence_path(flag: str | None, history: Path, env: Mapping[str, str]) -> tuple[Path, bool]:
    """(path, given): --evidence, else CAVRA_GO_ROLLBACK_REHEARSAL_EVIDENCE, else next to the history.

    `given` is True for --evidence: a file named on the command line must exist.
    """
    if flag is not None:
        return Path(flag.strip()), True
    configured = cs.setting_from(env, cs.ENV_REHEARSAL)
    return (Path(configured) if configured else history.parent / EVIDENCE_FILE), False


def read_evidence(path: Path, *, given: bool) -> bytes | None:
    """The evidence file's bytes; None when absent (InputError when it was named with --evidence)."""
    try:
        info = path.stat()
        if not stat.S_ISREG(info.st_mode):
            raise InputError(f"{path}: evidence is not a regular file")
        if info.st_size > MAX_DOCUMENT_BYTES:
            raise InputError(f"{path}: evidence file is larger than {MAX_DOCUMENT_BYTES} bytes")
        return path.read_bytes()
    except FileNotFoundError:
        if given:
            raise InputError(f"{path}: no evidence file there (the file does not exist)") from None
        return None
    except OSError as error:
        reason = (error.strerror or type(error).__name__).lower()
        raise InputError(f"{path}: cannot read the evidence file ({reason})") from None


def verify_history(
    history: str | None, evidence: str | None, *, as_json: bool, env: Mapping[str, str] | None = None
) -> int:
    """Exit 0 intact (or unsealed), 1 tampered; 3 (InputError) when a file cannot be read."""
    environ = os.environ if env is None else env
    path = history_path(history, environ)
    drills = _drills(load_history(path))
    chain = verify_chain(drills)
    where, given = evidence_path(evidence, path, environ)
    raw = read_evidence(where, given=given)
    if raw is None:
        checked = evidence_not_found(str(where), "no evidence file there")
    else:
        checked = check_evidence(drills, raw, path=str(where))
    holding = sum(1 for entry in drills if isinstance(entry, dict) and "evidence_sha256" in entry)
    result = Verification(history=str(path), chain=chain, evidence=checked, evidence_digests=holding)
    if as_json:
        sys.stdout.write(render_json(result.as_json()))
    else:
        sys.stderr.write(render_verify(result))
    return EXIT_FAILED if result.problems else EXIT_OK
