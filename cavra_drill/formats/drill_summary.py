"""The human summary of one `cavra-drill run`: verdict, recovery against target, phases, files."""

from __future__ import annotations

from collections.abc import Mapping


def _phases(evidence: Mapping[str, object]) -> list[str]:
    lines = []
    phases = evidence.get("phases")
    for phase in phases if isinstance(phases, list) else []:
        if isinstance(phase, Mapping):
            mark = "ok  " if phase.get("ok") else "FAIL"
            duration = phase.get("duration_seconds")
            seconds = f"{duration:8.3f} s" if isinstance(duration, int | float) else "       ? s"
            lines.append(f"  {mark} {phase.get('name')!s:<14} {seconds}  {phase.get('detail')}")
    return lines


def render_drill_summary(
    evidence: Mapping[str, object],
    readiness: Mapping[str, object],
    files: Mapping[str, str],
    *,
    failure: str | None,
    history_head: str | None = None,
    phases_shown: bool = False,
) -> str:
    """`phases_shown`: the phases were already printed live (interactive terminal); don't repeat them."""
    status = str(evidence.get("status"))
    seconds = evidence.get("recovery_seconds")
    minutes = evidence.get("recovery_minutes")
    target = evidence.get("max_recovery_minutes")
    headroom = ""
    if isinstance(minutes, int | float) and isinstance(target, int | float):
        headroom = f", {100 * (1 - minutes / target):.1f}% headroom" if minutes <= target else ", OVER TARGET"
    lines = [
        f"rollback drill {evidence.get('drill_id')}: {status.upper()}",
        f"  recovery: {seconds} s ({minutes} min) against a target of {target} min{headroom}",
        f"  Python fallback verified: {'yes' if evidence.get('fallback_verified') else 'no'}",
    ]
    if failure:
        lines.append(f"  why it failed: {failure}")
    if not phases_shown:
        lines.append("phases:")
        lines += _phases(evidence)
    lines.append(f"production readiness (rollback part): {readiness.get('status')}")
    checks = readiness.get("checks")
    for item in checks if isinstance(checks, list) else []:
        if isinstance(item, Mapping):
            lines.append(f"  {item.get('status'):<5} {item.get('id')}: {item.get('message')}")
    lines.append("files:")
    lines += [f"  {name:<10} {path}" for name, path in files.items()]
    if history_head:
        lines.append(f"history head sha256: {history_head}")
    return "\n".join(lines) + "\n"
