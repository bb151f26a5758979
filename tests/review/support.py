"""Helpers for the review tests: find a drill's processes, write small command runbooks."""

from __future__ import annotations

import json
from pathlib import Path

import psutil

from cavra_drill.drill import processes


def marked_children(owner: int) -> list[psutil.Process]:
    """Live processes whose drill marker names `owner` as the drill that started them."""
    found = []
    for proc in processes.find_marked():
        try:
            marker = processes.parse_marker(proc.environ().get(processes.MARKER_ENV, ""))
        except psutil.Error:
            continue
        if marker is not None and marker[0] == owner:
            found.append(proc)
    return found


def cmdline(proc: psutil.Process) -> str:
    try:
        return " ".join(proc.cmdline())
    except psutil.Error:
        return ""


def alive(pid: int) -> bool:
    try:
        return bool(psutil.Process(pid).status() != psutil.STATUS_ZOMBIE)
    except psutil.Error:
        return False


def command_runbook(
    path: Path,
    *,
    restart_shell: str = "true",
    restart_timeout: float = 60,
    baseline_url: str | None = None,
    baseline_timeout: float = 1,
) -> Path:
    baseline = ""
    if baseline_url is not None:
        baseline = f"[baseline]\nurl = {json.dumps(baseline_url)}\ntimeout_seconds = {baseline_timeout}\n"
    path.write_text(
        f"""
schema_version = "cavra-drill.runbook.v1"
name = "review"
[target]
kind = "commands"
{baseline}
[switch_mode]
argv = ["true"]
timeout_seconds = 5
[restart]
shell = {json.dumps(restart_shell)}
timeout_seconds = {restart_timeout}
[verify]
argv = ["true"]
timeout_seconds = 5
"""
    )
    return path
