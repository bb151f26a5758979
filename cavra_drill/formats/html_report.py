"""The production readiness report (rollback part) as one self-contained HTML page.

It shows what CAVRA's Evidence Console shows in its Production Readiness panel: the overall
status, the rehearsal and its recovery time against the target, the evidence references, the
drill history and the schedule; then every check of every section with its extras, every
failed rule (contract §9), the state of the history's hash chain (which CAVRA does not check;
the verdict shown stays CAVRA's), and a chart of recovery time per drill.

Self-contained by construction: inline CSS, an inline SVG, no script at all, no link, image,
font or style sheet from anywhere, and a Content-Security-Policy that forbids loading any.
Every value from the files is escaped. Pure: `render_html_report` returns the page as text;
`embedded_data` returns every value from the inputs that the page shows, for the public-safety
gate the CLI runs before writing.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from cavra_drill.contract.findings import Failure
from cavra_drill.contract.integrity import ChainReport, Problem
from cavra_drill.contract.values import NonFinite
from cavra_drill.formats.recovery_chart import (
    NOT_A_HISTORY,
    NOT_CONFIGURED,
    UNREADABLE,
    DrillSeries,
    minutes,
    number,
    render_recovery_svg,
    seconds,
)

SECTIONS = (
    ("go_backend_rollback", "Rollback plan"),
    ("go_backend_rollback_rehearsal", "Rehearsal evidence"),
    ("go_backend_rollback_drill_history", "Drill history"),
    ("go_backend_rollback_drill_schedule", "Drill schedule"),
)
STATUS_WORDS = {
    "ready": ("✓", "Ready"),
    "due_soon": ("◷", "Due soon"),
    "needs_attention": ("✕", "Needs attention"),
    "not_requested": ("–", "Not requested"),
}
# Integrity problems listed on the page; the rest are counted.
MAX_PROBLEMS = 20
CHECK_WORDS = {"pass": ("✓", "pass"), "warn": ("!", "warn")}
# Keys of a section report that the page shows in its own place rather than as a summary.
_SECTION_FRAME = frozenset({"schema_version", "mode", "status", "checks", "operator_notes"})


@dataclass(frozen=True)
class ReportPage:
    """Everything the page shows: the production report, the failed rules and the drills to chart."""

    production: Mapping[str, object]
    failures: Sequence[tuple[str, Failure]]
    series: DrillSeries
    as_of: str
    version: str
    integrity: ChainReport | None = None  # the history's hash chain, when the history could be read


def embedded_data(page: ReportPage) -> dict[str, object]:
    """Every value from the inputs that the page shows, as JSON-like data, for `check_safe`."""
    return {
        "production": page.production,
        "failures": [
            {"artifact": artifact, "field": failure.field, "message": failure.message}
            for artifact, failure in page.failures
        ],
        "history_notice": history_notice(page.series),
        "integrity_notice": integrity_notice(page.integrity),
        "integrity_problems": [problem.describe() for problem in _problems(page.integrity)],
        "drills": [
            {"drill_id": drill.drill_id, "executed_at": drill.executed_at, "status": drill.status}
            for drill in page.series.drills
        ],
        "as_of": page.as_of,
    }


def history_notice(series: DrillSeries) -> str | None:
    """One sentence when the history cannot be charted (or only in part), else None."""
    if series.state == UNREADABLE:
        return f"The drill history could not be read: {series.reason}. No drill can be charted."
    if series.state == NOT_A_HISTORY:
        return f"The drill history file is not a CAVRA drill history: {series.reason}. No drill can be charted."
    if series.skipped:
        reasons = "; ".join(f"{count:,} {reason}" for reason, count in series.skipped)
        return f"{series.skipped_count:,} of {series.entries:,} history entries cannot be charted ({reasons})."
    return None


def integrity_notice(integrity: ChainReport | None) -> str | None:
    """One sentence when the history's hash chain is broken, else None."""
    if integrity is None or integrity.intact:
        return None
    count = len(integrity.problems)
    return (
        f"The drill history fails its integrity check: {count:,} problem{'s' if count != 1 else ''} in its hash chain; "
        f"the first: {integrity.problems[0].describe()}. CAVRA does not check the chain, so its verdict above may "
        "rest on an edited drill."
    )


def chain_words(integrity: ChainReport | None) -> str | None:
    """The chain's state in a few words, for the history tile."""
    if integrity is None:
        return None
    if integrity.problems:
        return f"broken: {len(integrity.problems):,} problem{'s' if len(integrity.problems) != 1 else ''}"
    if not integrity.chained:
        return "not sealed (no record_sha256)"
    legacy = f", {integrity.legacy:,} before sealing" if integrity.legacy else ""
    return f"intact: {integrity.chained:,} sealed{legacy}"


def _problems(integrity: ChainReport | None) -> tuple[Problem, ...]:
    return () if integrity is None else integrity.problems[:MAX_PROBLEMS]


# ---- small pieces ----------------------------------------------------------------------------


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _get(mapping: object, *keys: str) -> object:
    """`mapping[k1][k2]...`, or None as soon as a level is missing or not a mapping."""
    value = mapping
    for key in keys:
        if not isinstance(value, Mapping):
            return None
        value = value.get(key)
    return value


def _status_badge(status: object, *, large: bool = False) -> str:
    text = str(status)
    symbol, words = STATUS_WORDS.get(text, ("?", text))
    size = " badge-lg" if large else ""
    return (
        f'<span class="badge s-{_e(text)}{size}"><span aria-hidden="true">{symbol}</span> {_e(words)}'
        f' <code class="raw">{_e(text)}</code></span>'
    )


def _check_badge(status: object) -> str:
    text = str(status)
    symbol, words = CHECK_WORDS.get(text, ("?", text))
    return f'<span class="chk c-{_e(text)}"><span aria-hidden="true">{symbol}</span> {_e(words)}</span>'


def _value(value: object) -> str:
    """A JSON value for people: strings as text, null and empty lists visibly so."""
    if value is None or isinstance(value, NonFinite):
        return '<span class="null">null</span>'
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return _e(value)
    if isinstance(value, str):
        return _e(value) if value else '<span class="null">""</span>'
    if isinstance(value, Mapping):
        if not value:
            return '<span class="null">{}</span>'
        return "{" + ", ".join(f"{_e(k)}: {_value(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        if not value:
            return '<span class="null">[]</span>'
        return ", ".join(_value(item) for item in value)
    return _e(value)


def _extras(check: Mapping[str, object]) -> str:
    items = [(k, v) for k, v in check.items() if k not in ("id", "status", "message")]
    if not items:
        return '<span class="null">—</span>'
    rows = "".join(f"<div><dt>{_e(k)}</dt><dd>{_value(v)}</dd></div>" for k, v in items)
    return f'<dl class="extras">{rows}</dl>'


def _checks_table(checks: object, caption: str) -> str:
    rows = []
    for item in checks if isinstance(checks, list) else []:
        if not isinstance(item, Mapping):
            continue
        css = "row-warn" if item.get("status") != "pass" else ""
        rows.append(
            f'<tr class="{css}" data-check="{_e(item.get("id"))}"><td>{_check_badge(item.get("status"))}</td>'
            f"<td><code>{_e(item.get('id'))}</code></td><td>{_value(item.get('message'))}</td>"
            f"<td>{_extras(item)}</td></tr>"
        )
    return (
        f'<table class="checks"><caption>{_e(caption)}</caption>'
        '<thead><tr><th scope="col">status</th><th scope="col">check</th><th scope="col">message</th>'
        '<th scope="col">extras</th></tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def _fields(mapping: Mapping[str, object]) -> str:
    rows = "".join(f'<tr><th scope="row">{_e(k)}</th><td>{_value(v)}</td></tr>' for k, v in mapping.items())
    return f'<table class="fields"><tbody>{rows}</tbody></table>'


def _refs(values: object) -> str:
    if not isinstance(values, list) or not values:
        return '<p class="muted">none recorded</p>'
    return '<ul class="refs">' + "".join(f"<li><code>{_e(v)}</code></li>" for v in values) + "</ul>"


def _meter(recovery: object, target: object) -> str:
    """A bar: the recovery time as a share of the target, in words as well."""
    if not isinstance(recovery, int | float) or not isinstance(target, int | float) or target <= 0:
        return '<p class="muted">recovery time or target not recorded</p>'
    share = recovery / target
    width = max(0.6, min(share, 1.0) * 100)
    over = share > 1
    words = f"{share * 100:.3g}% of target" + (" — over target" if over else "")
    return (
        f'<div class="meter{" over" if over else ""}" role="img" aria-label="{_e(words)}">'
        f'<span style="width:{width:.2f}%"></span></div><p class="meter-text">{_e(words)}</p>'
    )


# ---- the page --------------------------------------------------------------------------------


def _tile(title: str, status: object, body: str) -> str:
    return f'<article class="tile"><h3>{_e(title)}</h3>{_status_badge(status)}{body}</article>'


def _tiles(production: Mapping[str, object], integrity: ChainReport | None) -> str:
    plan = _get(production, "go_backend_rollback", "rollback")
    rehearsal = _get(production, "go_backend_rollback_rehearsal", "rehearsal")
    history = _get(production, "go_backend_rollback_drill_history", "history")
    schedule = _get(production, "go_backend_rollback_drill_schedule", "schedule")

    def status(section: str) -> object:
        return _get(production, section, "status")

    def line(label: str, value: object) -> str:
        return f"<div><dt>{_e(label)}</dt><dd>{_value(value)}</dd></div>"

    missing = _get(plan, "missing_controls")
    plan_body = (
        '<dl class="kv">'
        + line("approval id", _get(plan, "approval_id"))
        + line("approved", _get(plan, "approved"))
        + line("missing controls", missing if missing else "none")
        + line("target", _minutes_or_null(_get(plan, "max_recovery_minutes")))
        + "</dl>"
    )
    recovery, target = _get(rehearsal, "recovery_minutes"), _get(rehearsal, "max_recovery_minutes")
    rehearsal_body = (
        '<p class="big">'
        + (_e(minutes(recovery)) if isinstance(recovery, int | float) else '<span class="null">no recovery time</span>')
        + "</p>"
        + '<p class="muted">'
        + (f"{_e(seconds(recovery))} · " if isinstance(recovery, int | float) else "")
        + f"target {_e(_minutes_or_null(target))}</p>"
        + _meter(recovery, target)
        + '<dl class="kv">'
        + line("fallback verified", _get(rehearsal, "fallback_verified"))
        + line("simulated", _get(rehearsal, "simulated"))
        + "</dl>"
    )
    latest_recovery = _get(history, "recovery_minutes")
    history_body = (
        '<dl class="kv">'
        + line("drills", _get(history, "drill_count"))
        + line("latest", _get(history, "latest_drill_id"))
        + line("executed at", _get(history, "latest_executed_at"))
        + line("age, days", _get(history, "age_days"))
        + line("recovery of target", _of_target(latest_recovery, _get(history, "max_recovery_minutes")))
        + (
            f'<div><dt>hash chain</dt><dd class="bad">{_e(chain_words(integrity))}</dd></div>'
            if integrity is not None and integrity.problems
            else line("hash chain", chain_words(integrity))
        )
        + "</dl>"
    )
    schedule_body = (
        '<dl class="kv">'
        + line("schedule", _get(schedule, "schedule_id"))
        + line("next due", _get(schedule, "next_due_at"))
        + line("days until due", _get(schedule, "days_until_due"))
        + line("owners", _get(schedule, "owners"))
        + "</dl>"
    )
    return (
        '<section class="tiles" aria-label="Summary">'
        + _tile("Rollback plan", status("go_backend_rollback"), plan_body)
        + _tile("Rehearsal", status("go_backend_rollback_rehearsal"), rehearsal_body)
        + _tile("Drill history", status("go_backend_rollback_drill_history"), history_body)
        + _tile("Drill schedule", status("go_backend_rollback_drill_schedule"), schedule_body)
        + "</section>"
    )


def _of_target(recovery: object, target: object) -> object:
    if _minutes_or_null(recovery) is None:
        return None
    return f"{_minutes_or_null(recovery)} of {_minutes_or_null(target) or 'no target'}"


def _minutes_or_null(value: object) -> object:
    return minutes(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _failures(failures: Sequence[tuple[str, Failure]]) -> str:
    if not failures:
        return (
            '<section id="failed-rules"><h2>Failed rules</h2>'
            '<p class="ok-note"><span aria-hidden="true">✓</span> No rule failed in the requested files.</p></section>'
        )
    rows = "".join(
        f"<tr><td>{_e(artifact)}</td><td><code>{_e(f.field)}</code></td><td>{_e(f.message)}</td></tr>"
        for artifact, f in failures
    )
    return (
        '<section id="failed-rules"><h2>Failed rules '
        f'<span class="count">{len(failures)}</span></h2>'
        '<p class="muted">Every rule that did not hold, by file and field — including those CAVRA\'s '
        "own messages leave out.</p>"
        '<table class="failures"><thead><tr><th scope="col">file</th><th scope="col">field</th>'
        f'<th scope="col">rule</th></tr></thead><tbody>{rows}</tbody></table></section>'
    )


def _integrity(integrity: ChainReport | None) -> str:
    """The chain problems, by entry; empty when the chain holds (or was not checked)."""
    if integrity is None or integrity.intact:
        return ""
    shown = _problems(integrity)
    rows = "".join(
        f"<tr><td><code>drills[{p.index}]</code></td><td>{_value(p.drill_id)}</td><td>{_e(p.kind)}</td>"
        f"<td>{_e(p.message)}</td></tr>"
        for p in shown
    )
    more = len(integrity.problems) - len(shown)
    tail = f'<p class="muted">…and {more:,} more (cavra-drill history verify lists them all).</p>' if more else ""
    return (
        '<div class="integrity"><h3>Hash chain problems</h3>'
        '<table class="failures"><thead><tr><th scope="col">entry</th><th scope="col">drill_id</th>'
        f'<th scope="col">kind</th><th scope="col">what it means</th></tr></thead><tbody>{rows}</tbody></table>'
        f"{tail}</div>"
    )


def _chart(series: DrillSeries, integrity: ChainReport | None = None) -> str:
    notice = history_notice(series)
    parts = ['<section id="recovery-chart"><h2>Recovery time per drill</h2>']
    if series.state == NOT_CONFIGURED:
        parts.append('<p class="muted">No drill history is configured, so there is nothing to chart.</p>')
        return "".join(parts) + "</section>"
    if series.state in (UNREADABLE, NOT_A_HISTORY):
        parts.append(f'<div class="notice" role="alert"><strong>History unreadable.</strong> {_e(notice)}</div>')
        return "".join(parts) + "</section>"
    drills = series.drills
    shown = f"{len(drills):,}" if not series.capped else f"the latest {len(drills):,} of {series.chartable:,}"
    parts.append(
        f'<p class="muted">Showing {shown} drills in executed_at order; {series.failed_count:,} of them failed. '
        "Each drill is measured against its own max_recovery_minutes.</p>"
    )
    if series.capped:
        parts.append(
            f'<p class="note">The history holds {series.entries:,} entries; only the latest '
            f"{len(drills):,} are charted to keep this page small.</p>"
        )
    if notice:
        parts.append(f'<div class="notice" role="alert">{_e(notice)}</div>')
    parts.append(_integrity(integrity))
    if not drills:
        parts.append('<p class="muted">No drill has a recorded time and recovery time to chart.</p>')
        return "".join(parts) + "</section>"
    parts.append(
        '<ul class="legend" aria-label="Legend">'
        '<li><svg viewBox="0 0 16 16" aria-hidden="true"><circle class="passed-mark" cx="8" cy="8" r="5"/></svg>'
        "passed within its target (dot)</li>"
        '<li><svg viewBox="0 0 16 16" aria-hidden="true"><path class="failed-mark" d="M3 3L13 13M3 13L13 3"/>'
        "</svg>failed, over target or no target (cross)</li>"
        '<li><svg viewBox="0 0 28 16" aria-hidden="true"><path class="target-mark" d="M1 8H27"/></svg>'
        "recovery target (the drill's max_recovery_minutes)</li>"
        '<li><svg viewBox="0 0 16 16" aria-hidden="true"><circle class="ring-mark" cx="8" cy="8" r="6"/></svg>'
        "latest drill (the one CAVRA judges)</li></ul>"
    )
    parts.append(f'<figure class="chart-box">{render_recovery_svg(series)}</figure>')
    rows = "".join(
        f'<tr class="{"row-warn" if d.failed else ""}"><td>{_e(d.executed_at)}</td>'
        f"<td><code>{_value(d.drill_id)}</code></td><td>{_value(d.status)}</td>"
        f"<td>{_e(number(d.recovery_minutes))}</td>"
        f"<td>{_e(number(d.max_recovery_minutes)) if d.max_recovery_minutes else _value(None)}</td>"
        f"<td>{_e(d.verdict)}{' (latest)' if d.latest else ''}</td></tr>"
        for d in reversed(drills)
    )
    parts.append(
        f"<details><summary>The charted drills as a table ({len(drills):,}, newest first)</summary>"
        '<table class="fields drills"><thead><tr><th scope="col">executed_at</th><th scope="col">drill_id</th>'
        '<th scope="col">status</th><th scope="col">recovery, min</th><th scope="col">target, min</th>'
        f'<th scope="col">verdict</th></tr></thead><tbody>{rows}</tbody></table></details>'
    )
    return "".join(parts) + "</section>"


def _evidence(production: Mapping[str, object]) -> str:
    rehearsal = _get(production, "go_backend_rollback_rehearsal", "rehearsal")
    history = _get(production, "go_backend_rollback_drill_history", "history")
    plan = _get(production, "go_backend_rollback", "rollback")
    return (
        '<section id="evidence"><h2>Evidence references</h2><div class="cols">'
        f"<div><h3>Rehearsal evidence</h3>{_refs(_get(rehearsal, 'evidence_refs'))}"
        f'<p class="muted">runbook: <code>{_value(_get(rehearsal, "runbook_ref"))}</code></p></div>'
        f"<div><h3>Latest drill</h3>{_refs(_get(history, 'evidence_refs'))}"
        f'<p class="muted">runbook: <code>{_value(_get(history, "runbook_ref"))}</code></p></div>'
        f"<div><h3>Rollback plan</h3>{_refs(_get(plan, 'evidence_refs'))}</div>"
        "</div></section>"
    )


def _section(key: str, title: str, report: object) -> str:
    if not isinstance(report, Mapping):
        return ""
    meta = {k: v for k, v in report.items() if k not in _SECTION_FRAME and not isinstance(v, Mapping)}
    summaries = {k: v for k, v in report.items() if k not in _SECTION_FRAME and isinstance(v, Mapping)}
    notes = report.get("operator_notes")
    parts = [
        f'<section class="section" id="{_e(key)}">',
        f'<header class="section-head"><h2>{_e(title)}</h2>{_status_badge(report.get("status"))}</header>',
        f'<p class="schema"><code>{_e(report.get("schema_version"))}</code> · section <code>{_e(key)}</code>'
        f" · mode <code>{_e(report.get('mode'))}</code></p>",
    ]
    if meta:
        rows = "".join(f"<div><dt>{_e(k)}</dt><dd>{_value(v)}</dd></div>" for k, v in meta.items())
        parts.append(f'<dl class="kv inline">{rows}</dl>')
    parts.append(_checks_table(report.get("checks"), f"{title}: checks in CAVRA's order"))
    for name, summary in summaries.items():
        parts.append(f"<details><summary>Summary <code>{_e(name)}</code> ({len(summary)} fields)</summary>")
        parts.append(_fields(summary) + "</details>")
    if isinstance(notes, list) and notes:
        parts.append('<ul class="notes">' + "".join(f"<li>{_value(n)}</li>" for n in notes) + "</ul>")
    parts.append("</section>")
    return "".join(parts)


def _verdict(production: Mapping[str, object]) -> str:
    """The status in one sentence: which of the four rollback checks hold it back."""
    checks = [c for c in _list(production.get("checks")) if isinstance(c, Mapping)]
    blocking = [
        str(c.get("id")).removeprefix("go_backend_rollback_").replace("_", " ")
        for c in checks
        if c.get("status") != "pass"
    ]
    if not blocking:
        return f"All {len(checks)} rollback checks of CAVRA's production readiness pass."
    return (
        f"{len(blocking)} of {len(checks)} rollback checks need attention before the Go backend can be "
        f"promoted: {', '.join(blocking)}."
    )


def _list(value: object) -> list[object]:
    return value if isinstance(value, list) else []


def render_html_report(page: ReportPage) -> str:
    production = page.production
    status = production.get("status")
    _, words = STATUS_WORDS.get(str(status), ("?", str(status)))
    mode = _get(production, "go_backend_rollback", "mode")
    body = [
        f'<header class="banner s-{_e(status)}">',
        '<p class="eyebrow">CAVRA production readiness · Go backend rollback</p>',
        f"<h1>{_status_badge(status, large=True)}</h1>",
        f'<p class="verdict">{_e(_verdict(production))}</p>',
        f'<p class="sub">As of <time>{_e(page.as_of)}</time> · Go backend mode <code>{_e(mode)}</code> · '
        f"<code>{_e(production.get('schema_version'))}</code></p>",
        "</header><main>",
    ]
    notice = history_notice(page.series)
    if page.series.state in (UNREADABLE, NOT_A_HISTORY):
        body.append(f'<div class="notice top" role="alert"><strong>History unreadable.</strong> {_e(notice)}</div>')
    tampered = integrity_notice(page.integrity)
    if tampered:
        body.append(
            f'<div class="notice top" role="alert"><strong>History tampered with.</strong> {_e(tampered)}</div>'
        )
    body.append(_tiles(production, page.integrity))
    body.append(
        '<section id="production-checks"><h2>Production readiness checks</h2>'
        + _checks_table(production.get("checks"), "Production readiness: the rollback checks")
        + "</section>"
    )
    body.append(_failures(page.failures))
    body.append(_chart(page.series, page.integrity))
    body.append(_evidence(production))
    body.extend(_section(key, title, production.get(key)) for key, title in SECTIONS)
    body.append(
        "</main><footer>"
        f"Generated by cavra-drill {_e(page.version)} with CAVRA's rules (see the contract, §8). "
        "This page is self-contained: no scripts, no external resources."
        "</footer>"
    )
    title = f"CAVRA production readiness (rollback): {words}"
    text = (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">"
        '<meta name="referrer" content="no-referrer">'
        f"<title>{_e(title)}</title><style>{STYLE}</style></head>\n<body>\n" + "\n".join(body) + "\n</body></html>\n"
    )
    # A lone surrogate from a JSON `\ud800` escape cannot be encoded: make the page always UTF-8-able.
    return text.encode("utf-8", "replace").decode("utf-8")


STYLE = """
:root{--fg:#1f2328;--muted:#59636e;--line:#d1d9e0;--bg:#f6f8fa;--card:#fff;
--ok:#1a7f37;--ok-bg:#dafbe1;--bad:#cf222e;--bad-bg:#ffebe9;--soon:#9a6700;--soon-bg:#fff8c5;
--off:#59636e;--off-bg:#eaeef2;--accent:#0969da}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--fg);
font:15px/1.5 system-ui,-apple-system,"Segoe UI","DejaVu Sans","Liberation Sans",sans-serif}
code{font:0.86em/1.4 ui-monospace,"DejaVu Sans Mono","Liberation Mono",monospace;overflow-wrap:anywhere}
main,footer,.banner>*{max-width:1160px;margin-left:auto;margin-right:auto}
main{padding:0 24px 32px}
.banner{padding:28px 24px 22px;border-bottom:1px solid var(--line);background:var(--card);
border-top:6px solid var(--off)}
.banner.s-ready{border-top-color:var(--ok)}.banner.s-needs_attention{border-top-color:var(--bad)}
.eyebrow{margin:0;color:var(--muted);font-size:13px;letter-spacing:.06em;text-transform:uppercase}
h1{margin:8px 0 6px;font-size:28px}
.sub{margin:0;color:var(--muted)}
.verdict{margin:0 0 6px;font-size:17px}
h2{font-size:19px;margin:0 0 10px}
h3{font-size:14px;margin:0 0 8px;color:var(--muted);font-weight:600}
section{margin-top:22px}
.section,#production-checks,#failed-rules,#recovery-chart,#evidence{background:var(--card);
border:1px solid var(--line);border-radius:10px;padding:18px 20px}
.badge{display:inline-flex;align-items:center;gap:6px;padding:2px 10px;border-radius:999px;font-weight:600;
font-size:13px;border:1px solid currentColor;white-space:nowrap}
.badge .raw{font-weight:400;opacity:.8}
.badge-lg{font-size:24px;padding:4px 16px}
.badge-lg .raw{font-size:14px}
.badge.s-ready{color:var(--ok);background:var(--ok-bg)}
.badge.s-needs_attention{color:var(--bad);background:var(--bad-bg)}
.badge.s-due_soon{color:var(--soon);background:var(--soon-bg)}
.badge.s-not_requested{color:var(--off);background:var(--off-bg)}
.tiles{display:grid;grid-template-columns:repeat(auto-fit,minmax(250px,1fr));gap:14px}
.tile{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:14px 16px}
.tile .badge{margin-bottom:8px}
.big{font-size:22px;font-weight:600;margin:4px 0 0}
.muted{color:var(--muted);margin:4px 0}
.kv{margin:8px 0 0;display:grid;gap:2px}
.kv>div{display:grid;grid-template-columns:minmax(96px,auto) 1fr;gap:8px}
.kv dt{color:var(--muted)}.kv dd{margin:0;overflow-wrap:anywhere}
.tile .kv{gap:6px}.tile .kv>div{display:block}
.tile .kv dt{font-size:12px;line-height:1.3}.tile .kv dd{font-size:13.5px}
.kv.inline{grid-template-columns:repeat(auto-fit,minmax(320px,1fr));margin-bottom:10px}
.meter{height:10px;border-radius:5px;background:var(--off-bg);overflow:hidden;margin-top:8px}
.meter span{display:block;height:100%;background:var(--ok)}
.meter.over span{background:var(--bad)}
.meter-text{margin:2px 0 0;font-size:13px;color:var(--muted)}
table{border-collapse:collapse;width:100%;font-size:14px}
caption{text-align:left;color:var(--muted);font-size:13px;padding-bottom:6px}
th,td{text-align:left;vertical-align:top;padding:7px 10px;border-top:1px solid var(--line)}
thead th{border-top:0;color:var(--muted);font-weight:600;font-size:12px;text-transform:uppercase;
letter-spacing:.04em}
tr.row-warn td{background:#fff5f5}
.checks{table-layout:fixed}.checks th:first-child{width:84px}.checks th:nth-child(2){width:29%}
.checks th:nth-child(3){width:33%}
.chk{font-weight:600;white-space:nowrap}.c-pass{color:var(--ok)}.c-warn{color:var(--bad)}
.extras{margin:0;font-size:13px}
.extras div{display:flex;gap:0 6px;flex-wrap:wrap}
.extras dt{color:var(--muted)}.extras dt::after{content:":"}.extras dd{margin:0;overflow-wrap:anywhere}
.null{color:var(--muted);font-style:italic}
.bad{color:var(--bad);font-weight:600}
.fields th{width:32%;font-weight:500;color:var(--muted)}
.count{display:inline-block;min-width:24px;padding:0 8px;border-radius:999px;background:var(--bad-bg);
color:var(--bad);font-size:14px;text-align:center}
.ok-note{color:var(--ok);margin:0}
.notice{border:1px solid var(--bad);background:var(--bad-bg);border-radius:8px;padding:10px 14px;margin:10px 0}
.notice.top{margin-top:22px}
.integrity{margin:12px 0}
.note{background:var(--soon-bg);border-radius:8px;padding:8px 12px}
.legend{list-style:none;display:flex;flex-wrap:wrap;gap:6px 22px;padding:0;margin:8px 0;font-size:13px}
.legend li{display:flex;align-items:center;gap:6px}
.legend svg{width:16px;height:16px}.legend svg[viewBox="0 0 28 16"]{width:28px}
.chart-box{margin:0}
.chart{width:100%;height:auto;display:block;font-family:inherit}
.chart .grid line{stroke:#e6eaef}
.chart .axis{stroke:#8c959f}
.chart .tick{font-size:12px;fill:var(--muted)}
.chart .axis-title{font-size:13px;fill:var(--muted)}
.chart .target,.target-mark{fill:none;stroke:#bc4c00;stroke-width:2;stroke-dasharray:7 4}
.chart .trend{fill:none;stroke:#afb8c1;stroke-width:1}
.chart .passed circle:not(.ring),.passed-mark{fill:var(--ok);stroke:#fff;stroke-width:1}
.chart .failed path,.failed-mark{fill:none;stroke:var(--bad);stroke-width:2.6;stroke-linecap:round}
.chart .target-label{font-size:12px;fill:#bc4c00}
.chart .ring,.ring-mark{fill:none;stroke:var(--fg);stroke-width:1.5}
.cols{display:grid;grid-template-columns:repeat(auto-fit,minmax(260px,1fr));gap:16px}
.refs{margin:0;padding-left:18px}
.section-head{display:flex;align-items:center;gap:12px;flex-wrap:wrap}
.section-head h2{margin:0}
.schema{margin:6px 0 12px;color:var(--muted);font-size:13px}
details{margin-top:12px}
summary{cursor:pointer;color:var(--accent)}
.notes{color:var(--muted);font-size:14px;margin:12px 0 0;padding-left:18px}
footer{padding:8px 24px 32px;color:var(--muted);font-size:13px}
@media print{body{background:#fff}details{display:none}}
"""
