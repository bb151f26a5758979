"""A second signal while the drill cleans up after the first one, and SIGHUP.

run.py's watch_signals() returns after the first signal, which closes anyio's signal receiver;
asyncio then resets SIGTERM to SIG_DFL and SIGINT to default_int_handler for the rest of the
shielded cleanup. A second SIGTERM kills the drill outright (exit -15, no message, sandbox left,
a runbook command left running); a second SIGINT raises KeyboardInterrupt out of the event loop.
Supervisors do send a second signal (an operator's second Ctrl-C, `kill` after Ctrl-C, CI cancel
then SIGTERM); design.md promises 130, "cleanup done, nothing half-written". SIGHUP (the
operator's SSH session drops) is not handled at all.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest
from drillrun import Drills
from waiting import wait_until

from review.support import alive, command_runbook, marked_children


@pytest.mark.parametrize("second", [signal.SIGINT, signal.SIGTERM], ids=["then-SIGINT", "then-SIGTERM"])
def test_second_signal_during_sandbox_cleanup(drills: Drills, second: signal.Signals) -> None:
    # The service ignores SIGTERM, so cleanup waits out the 3 s stop grace: the second signal
    # lands while the drill is cleaning up after the first.
    proc = drills.start("--incident", "go-runtime-hang", "--fault", "stop-ignores-sigterm")
    wait_until(
        lambda: bool(list(drills.out.glob("sandbox/*/runtime/incident"))),
        timeout=30,
        what="the incident phase",
    )
    time.sleep(0.3)
    proc.send_signal(signal.SIGINT)
    time.sleep(1.0)
    proc.send_signal(second)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, f"exit {proc.returncode}: {err[-1500:]}"
    assert "Traceback" not in err, err[-1500:]
    assert "interrupted" in err
    assert not any((drills.out / "sandbox").glob("*")), "the sandbox was left behind"


def test_sigterm_after_sigint_still_stops_a_runbook_command(drills: Drills, tmp_path: Path) -> None:
    # A restart command that ignores SIGTERM (a slow shutdown script, a process that traps
    # TERM): stopping it takes the 2 s grace and then SIGKILL. Runbook commands carry no drill
    # marker and no parent-death signal, so if the drill dies in between, nothing stops them.
    pid_file = tmp_path / "restart.pid"
    runbook = command_runbook(tmp_path / "rb.toml", restart_shell=f"trap '' TERM; echo $$ > {pid_file}; exec sleep 30")
    proc = drills.start("--runbook", str(runbook), "--environment", "staging")
    wait_until(lambda: pid_file.exists() and pid_file.read_text().strip() != "", timeout=30, what="the restart")
    command = int(pid_file.read_text())
    try:
        time.sleep(0.3)
        proc.send_signal(signal.SIGINT)
        time.sleep(0.5)
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
        wait_until(lambda: not alive(command), timeout=5, what=f"restart command {command} to end")
        assert proc.returncode == 130, err[-1500:]
    finally:
        if alive(command):
            os.kill(command, signal.SIGKILL)
        assert marked_children(proc.pid) == []


def test_sighup_stops_a_runbook_command(drills: Drills, tmp_path: Path) -> None:
    # An operator's SSH session drops mid-drill: the terminal sends SIGHUP, which the drill does
    # not handle at all (default action: die on the spot, no cleanup, no message).
    pid_file = tmp_path / "restart.pid"
    runbook = command_runbook(tmp_path / "rb.toml", restart_shell=f"echo $$ > {pid_file}; exec sleep 30")
    proc = drills.start("--runbook", str(runbook), "--environment", "staging")
    wait_until(lambda: pid_file.exists() and pid_file.read_text().strip() != "", timeout=30, what="the restart")
    command = int(pid_file.read_text())
    try:
        time.sleep(0.3)
        proc.send_signal(signal.SIGHUP)
        proc.communicate(timeout=60)
        wait_until(lambda: not alive(command), timeout=5, what=f"restart command {command} to end")
    finally:
        if alive(command):
            os.kill(command, signal.SIGKILL)
