"""Prometheus text exposition of the last drill, for node-exporter's textfile collector.

Every sample carries `environment` (the drill's logical environment name). Values:

- `cavra_drill_last_run_timestamp_seconds`: when the last drill started (Unix seconds);
- `cavra_drill_last_success_timestamp_seconds`: when the last *passing* drill started. The
  collector reads one file that each run rewrites, so a failing run would otherwise erase it:
  the CLI reads the previous file and hands its value in (`previous_last_success`), and a
  failing run carries it over. With no passing drill known the sample is left out (not 0,
  which would claim a drill in 1970): alert on `absent(...)` or on its age;
- `cavra_drill_recovery_seconds`, `cavra_drill_recovery_target_seconds`;
- `cavra_drill_drill_status`: 1 when the drill passed, 0 when it failed;
- `cavra_drill_fallback_verified`: 1 when Python was verified serving again, else 0;
- `cavra_drill_readiness_status`: one sample per production readiness status (`ready`,
  `needs_attention`), 1 for the current one (the usual Prometheus encoding of an enum).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping

from cavra_drill.contract.timestamps import parse_timestamp

PREFIX = "cavra_drill_"
LAST_SUCCESS = PREFIX + "last_success_timestamp_seconds"
READINESS_STATUSES = ("ready", "needs_attention")
# One sample line: name, optional {labels}, value, optional timestamp.
_SAMPLE = re.compile(r"^([A-Za-z_:][A-Za-z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+\S+)?\s*$")
_LABEL = re.compile(r'\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*"((?:[^"\\]|\\.)*)"\s*,?')


def render_metrics(
    evidence: Mapping[str, object],
    readiness: Mapping[str, object],
    *,
    previous_last_success: float | None,
) -> str:
    environment = str(evidence.get("environment"))
    started = parse_timestamp(evidence.get("executed_at"))
    run_at = started.timestamp() if started is not None else None
    passed = evidence.get("status") == "pass"
    last_success = run_at if passed else previous_last_success
    target_minutes = _float(evidence.get("max_recovery_minutes"))
    target = target_minutes * 60 if target_minutes is not None else None
    labels = {"environment": environment}
    lines: list[str] = []
    _family(lines, "last_run_timestamp_seconds", "Start of the last rollback drill, Unix seconds.", [(labels, run_at)])
    _family(
        lines,
        "last_success_timestamp_seconds",
        "Start of the last passing rollback drill, Unix seconds (carried over across failing runs).",
        [(labels, last_success)],
    )
    _family(
        lines,
        "recovery_seconds",
        "Measured recovery of the last drill: rollback start to Python verified, seconds.",
        [(labels, _float(evidence.get("recovery_seconds")))],
    )
    _family(lines, "recovery_target_seconds", "Recovery target of the last drill, seconds.", [(labels, target)])
    _family(lines, "drill_status", "1 if the last rollback drill passed, 0 if it failed.", [(labels, float(passed))])
    _family(
        lines,
        "fallback_verified",
        "1 if the last drill verified Python serving again, else 0.",
        [(labels, float(evidence.get("fallback_verified") is True))],
    )
    status = str(readiness.get("status"))
    _family(
        lines,
        "readiness_status",
        "Production readiness (rollback part) after the last drill: 1 for the current status.",
        [({**labels, "status": s}, float(s == status)) for s in READINESS_STATUSES],
    )
    return "\n".join(lines) + "\n"


def previous_last_success(text: str, environment: str) -> float | None:
    """The last-success value for `environment` in a previous metrics file, or None.

    Tolerant by design: a file that is not ours, or garbled, simply has no value to carry.
    """
    for line in text.splitlines():
        match = _SAMPLE.match(line.strip())
        if match is None or match.group(1) != LAST_SUCCESS:
            continue
        labels = {m.group(1): _unescape(m.group(2)) for m in _LABEL.finditer(match.group(2) or "")}
        if labels.get("environment") != environment:
            continue
        try:
            value = float(match.group(3))
        except ValueError:
            continue
        if math.isfinite(value) and value > 0:
            return value
    return None


def _family(lines: list[str], name: str, help_text: str, samples: list[tuple[dict[str, str], float | None]]) -> None:
    full = PREFIX + name
    lines.append(f"# HELP {full} {_escape_help(help_text)}")
    lines.append(f"# TYPE {full} gauge")
    for labels, value in samples:
        if value is None:
            continue
        rendered = ",".join(f'{key}="{_escape_label(val)}"' for key, val in labels.items())
        lines.append(f"{full}{{{rendered}}} {_number(value)}")


def _number(value: float) -> str:
    if value == int(value) and abs(value) < 1e15:
        return str(int(value))
    return repr(value)


def _float(value: object) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    return None


def _escape_label(value: str) -> str:
    # The exposition format escapes exactly these three in label values.
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _escape_help(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n")


def _unescape(value: str) -> str:
    return re.sub(r"\\(.)", lambda m: "\n" if m.group(1) == "n" else m.group(1), value)
