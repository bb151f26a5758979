"""`cavra-drill report --out FILE`: the production readiness report as one HTML page.

Order of work: the output path is checked first (a bad path costs nothing and writes nothing),
then the four files are judged as `readiness` judges them, the page is built, every value it
shows passes the public-safety gate, and the page replaces FILE atomically.

A drill history that is missing, truncated, not UTF-8, not JSON or not a drill history at all
never stops the report: judging never fails, so the page shows CAVRA's verdict on it (which is
`needs_attention`, hence exit 1) with a notice in place of the chart, and stderr says so in
one line. Entries that cannot be charted (not an object, no time, no recovery time) are
counted on the page and on stderr; the verdict stays CAVRA's, which judges the latest drill only.

A readable history's hash chain (`contract.integrity`) is checked too. CAVRA never checks it,
so a broken chain does not change the verdict on the page; but a tampered history could hold a
forged latest drill, so the command exits 1 whatever the verdict, after one line on stderr.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from cavra_drill import __version__
from cavra_drill.cli.options import ReadinessSettings
from cavra_drill.contract.documents import Document
from cavra_drill.contract.integrity import ChainReport, verify_chain
from cavra_drill.contract.reports import exit_ok, production_report
from cavra_drill.contract.safety import check_safe
from cavra_drill.contract.values import NonFinite
from cavra_drill.errors import EXIT_FAILED, EXIT_OK, InputError
from cavra_drill.formats.html_report import ReportPage, embedded_data, render_html_report
from cavra_drill.formats.recovery_chart import NOT_A_HISTORY, READABLE, UNREADABLE, DrillSeries, collect_drills
from cavra_drill.store.atomic import check_writable, write_atomic

WHAT = "report"


def write_report(settings: ReadinessSettings, out: str) -> int:
    """Judge, render and write the page; 0 when production readiness is ready, 1 otherwise."""
    target = Path(out)
    check_writable(target, what=WHAT)
    _refuse_input_as_output(target, settings)

    judgements = settings.judge()
    production = production_report(judgements)
    series = collect_drills(judgements.history)
    integrity = chain_of(judgements.history.document) if series.state == READABLE else None
    page = ReportPage(
        production=production,
        failures=judgements.failures(),
        series=series,
        as_of=settings.as_of,
        version=__version__,
        integrity=integrity,
    )
    check_safe(embedded_data(page), artifact=f"{WHAT} {target}")
    write_atomic(target, render_html_report(page).encode("utf-8"), what=WHAT)

    warning = _history_warning(settings.history, series)
    if warning:
        sys.stderr.write(f"cavra-drill: {warning}\n")
    if integrity is not None and integrity.problems:
        count = len(integrity.problems)
        sys.stderr.write(
            f"cavra-drill: drill history {settings.history} is tampered: {integrity.problems[0].describe()}"
            f"{f' (and {count - 1:,} more)' if count > 1 else ''}; exit 1 whatever CAVRA's verdict\n"
        )
    failed = len(page.failures)
    rules = f", {failed} failed rule{'s' if failed != 1 else ''}" if failed else ""
    sys.stderr.write(f"production readiness (rollback part): {production['status']}{rules}; wrote {target}\n")
    tampered = integrity is not None and not integrity.intact
    return EXIT_OK if exit_ok(production) and not tampered else EXIT_FAILED


def chain_of(document: Document) -> ChainReport | None:
    """The hash chain of a readable history (`contract.integrity`), whatever its entries hold.

    Entries are parsed with NaN/Infinity as `NonFinite` sentinels, which no digest can be taken
    over. No cavra-drill writer ever writes those values, so such an entry was edited: it is
    checked with each sentinel replaced by a marker string, which makes a sealed record's digest
    mismatch (or a later record's link break), exactly as the edit deserves.
    """
    drills = document.get("drills")
    if not isinstance(drills, list):
        return None
    try:
        return verify_chain(drills)
    except RecursionError:
        return None  # nested past what the encoder handles: left to `cavra-drill history verify`
    except (TypeError, ValueError):
        pass  # a NonFinite sentinel somewhere
    try:
        return verify_chain([_mark_non_finite(entry) for entry in drills])
    except (TypeError, ValueError, RecursionError):
        return None


def _mark_non_finite(value: object) -> object:
    if isinstance(value, NonFinite):
        return f"\u0000non-finite {value.name}"
    if isinstance(value, dict):
        return {key: _mark_non_finite(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_mark_non_finite(item) for item in value]
    return value


def _refuse_input_as_output(target: Path, settings: ReadinessSettings) -> None:
    """Writing the page over one of the files it reports on would destroy that file."""
    inputs = (
        ("rollback plan", settings.plan),
        ("rehearsal evidence", settings.rehearsal),
        ("drill history", settings.history),
        ("drill schedule", settings.schedule),
    )
    for what, path in inputs:
        if path and _same_file(target, Path(path)):
            raise InputError(f"cannot write {WHAT} {target}: it is the {what} being reported on")


def _same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except (OSError, ValueError):
        return False  # one of them does not exist (yet): they cannot be the same file


def _history_warning(path: str, series: DrillSeries) -> str | None:
    """One line about a history the chart cannot (fully) use; None when there is nothing to say."""
    if series.state == UNREADABLE:
        return f"drill history {path} is unreadable ({series.reason}); the report shows CAVRA's verdict, no chart"
    if series.state == NOT_A_HISTORY:
        return f"{path} is not a drill history ({series.reason}); the report shows CAVRA's verdict, no chart"
    if series.skipped:
        reasons = "; ".join(f"{count:,} {reason}" for reason, count in series.skipped)
        return f"drill history {path}: {series.skipped_count:,} of {series.entries:,} entries not charted ({reasons})"
    return None
