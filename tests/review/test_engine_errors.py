"""Errors inside the engine must end as one line and an exit code, never an ExceptionGroup traceback.

design.md: "A failed rollback is data ... An exception means the tool could not do its job (bad
input: exit 3; environment: exit 4)"; boundary.py: "no traceback ever reaches the user".
"""

from __future__ import annotations

import signal
from pathlib import Path

from clirun import assert_no_traceback
from drillrun import Drills
from waiting import wait_until

from review.support import cmdline, command_runbook, marked_children


def test_service_dying_under_the_incident_is_recorded_not_a_traceback(drills: Drills) -> None:
    # sandbox_target.incident() promises: "The service itself failed under the incident: a
    # finding; the rollback still runs". Its `except (ServiceError, OSError)` cannot catch what
    # _probe_all's task group raises: an ExceptionGroup.
    proc = drills.start("--incident", "go-runtime-hang")

    def incident_running() -> bool:
        incident = list(drills.out.glob("sandbox/*/runtime/incident"))
        return bool(incident) and any("cavra-runtime" in cmdline(p) for p in marked_children(proc.pid))

    wait_until(incident_running, timeout=30, what="the incident's hanging runtime calls")
    (service,) = [p for p in marked_children(proc.pid) if p.ppid() == proc.pid]  # the decision service
    service.send_signal(signal.SIGKILL)
    _, err = proc.communicate(timeout=60)
    assert "Traceback" not in err, err[-2000:]
    assert proc.returncode in (0, 1), err[-2000:]
    phases = {p["name"]: p for p in drills.evidence()["phases"]}
    assert phases["incident"]["ok"] is False


def test_unusable_sandbox_directory_is_an_error_line_not_a_traceback(drills: Drills) -> None:
    drills.out.mkdir()
    (drills.out / "sandbox").write_text("not a directory\n")
    result = drills.run()
    assert_no_traceback(result)
    assert result.returncode in (3, 4), result.stderr[-2000:]


def test_unusable_logs_directory_for_a_command_runbook_is_an_error_line(drills: Drills, tmp_path: Path) -> None:
    drills.out.mkdir()
    (drills.out / "logs").write_text("not a directory\n")
    runbook = command_runbook(tmp_path / "rb.toml")
    result = drills.run("--runbook", str(runbook), "--environment", "staging")
    assert_no_traceback(result)
    assert result.returncode in (3, 4), result.stderr[-2000:]
