"""A command runbook drills a real local HTTP service end to end, through `cavra-drill run`.

The service (mode_service.py) reads its backend mode at start, like CAVRA; the runbook's
commands switch the mode and restart it; verification is an HTTP GET on loopback.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from clirun import assert_no_traceback
from drillrun import Drills
from waiting import wait_until

from runbook import mode_service

SERVICE = Path(__file__).with_name("mode_service.py")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def service(tmp_path: Path) -> Iterator[tuple[Path, int]]:
    """A running service in promoted mode; stopped (and checked stopped) after the test."""
    state = tmp_path / "service-state"
    state.mkdir()
    port = free_port()
    (state / "port").write_text(str(port))
    (state / "config").write_text("promoted")
    subprocess.run([sys.executable, str(SERVICE), "restart", str(state)], check=True, timeout=30)
    yield state, port
    pid_file = state / "pid"
    pid = int(pid_file.read_text()) if pid_file.exists() else None
    subprocess.run([sys.executable, str(SERVICE), "stop", str(state)], check=True, timeout=30)
    if pid is not None:
        assert not mode_service.running(pid), "the test service outlived its test"


def write_runbook(path: Path, state: Path, port: int, *, restart: str = "restart", verify_text: str = "python") -> Path:
    py, svc = json.dumps(sys.executable), json.dumps(str(SERVICE))
    path.write_text(
        f"""
schema_version = "cavra-drill.runbook.v1"
name = "test-http-service"
description = "local HTTP service switched by commands"
[target]
kind = "commands"
retry_interval_seconds = 0.1
[baseline]
url = "http://127.0.0.1:{port}/backend"
expect_body_contains = '"selected_backend": "go"'
timeout_seconds = 5
[switch_mode]
argv = [{py}, {svc}, "set-mode", {json.dumps(str(state))}, "disabled"]
timeout_seconds = 10
[restart]
argv = [{py}, {svc}, {json.dumps(restart)}, {json.dumps(str(state))}]
timeout_seconds = 10
[verify]
url = "http://127.0.0.1:{port}/backend"
expect_status = 200
expect_body_contains = '"selected_backend": "{verify_text}"'
timeout_seconds = 2
"""
    )
    return path


def test_command_runbook_rolls_a_real_service_back_to_python(
    drills: Drills, tmp_path: Path, service: tuple[Path, int]
) -> None:
    state, port = service
    runbook = write_runbook(tmp_path / "svc.toml", state, port)
    result = drills.run("--runbook", str(runbook), "--environment", "staging", "--json")
    assert_no_traceback(result)
    assert result.returncode == 0, result.stderr
    evidence = result.json()["evidence"]
    assert evidence["status"] == "pass" and evidence["fallback_verified"] is True
    assert [p["name"] for p in evidence["phases"]] == ["baseline", "switch-mode", "restart", "verify", "cleanup"]
    assert (state / "config").read_text() == "disabled"
    # The URL, port and command output never reach the evidence.
    text = json.dumps(evidence)
    assert "127.0.0.1" not in text and str(port) not in text and str(state) not in text
    # Command output went to files in the workdir.
    logs = list((drills.out / "logs").rglob("*-restart.out"))
    assert logs, "restart output should be captured to a file"
    assert drills.history()["drills"][-1]["status"] == "pass"


def test_command_runbook_that_does_not_restore_python_fails_at_the_target(
    drills: Drills, tmp_path: Path, service: tuple[Path, int]
) -> None:
    state, port = service
    # The restart step does nothing, so the service keeps serving Go.
    runbook = write_runbook(tmp_path / "svc.toml", state, port, restart="noop")
    result = drills.run("--runbook", str(runbook), "--max-recovery-minutes", "0.02")
    assert result.returncode == 1
    evidence = drills.evidence()
    assert evidence["status"] == "fail" and evidence["fallback_verified"] is False
    (verify,) = [p for p in evidence["phases"] if p["name"] == "verify"]
    assert verify["ok"] is False
    # Verification was retried until the target, not given up on at the first Go answer.
    assert evidence["recovery_minutes"] >= evidence["max_recovery_minutes"] * 0.9


def test_a_command_that_hangs_is_stopped_at_its_timeout(
    drills: Drills, tmp_path: Path, service: tuple[Path, int]
) -> None:
    state, port = service
    pid_file = tmp_path / "hung.pid"
    runbook = write_runbook(tmp_path / "svc.toml", state, port)
    text = runbook.read_text()
    start = text.index("[restart]")
    end = text.index("[verify]")
    hung = f'[restart]\nshell = "echo $$ > {pid_file}; exec sleep 30"\ntimeout_seconds = 0.5\n'
    runbook.write_text(text[:start] + hung + text[end:])
    result = drills.run("--runbook", str(runbook))
    assert_no_traceback(result)
    assert result.returncode == 1
    (restart,) = [p for p in drills.evidence()["phases"] if p["name"] == "restart"]
    assert restart["ok"] is False and "timed out" in restart["detail"]
    assert restart["duration_seconds"] < 5
    # The hung command was stopped with its process group, not left running.
    pid = int(pid_file.read_text())
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return
    assert "State:\tZ" in status, "the hung command is still running"


def test_baseline_not_on_go_exits_4(drills: Drills, tmp_path: Path, service: tuple[Path, int]) -> None:
    state, port = service
    (state / "config").write_text("disabled")
    subprocess.run([sys.executable, str(SERVICE), "restart", str(state)], check=True, timeout=30)
    result = drills.run("--runbook", str(write_runbook(tmp_path / "svc.toml", state, port)))
    assert result.returncode == 4
    assert "baseline" in result.stderr
    assert not (drills.out / "go-backend-rollback-rehearsal.json").exists()


def test_incidents_and_faults_need_the_sandbox(drills: Drills, tmp_path: Path, service: tuple[Path, int]) -> None:
    state, port = service
    runbook = str(write_runbook(tmp_path / "svc.toml", state, port))
    assert drills.run("--runbook", runbook, "--incident", "go-runtime-crash").returncode == 2
    assert drills.run("--runbook", runbook, "--fault", "fallback-broken").returncode == 2


def test_malformed_runbook_exits_3_naming_the_key(drills: Drills, tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('schema_version = "cavra-drill.runbook.v1"\nname = "x"\n[target]\nkind = "teleport"\n')
    result = drills.run("--runbook", str(bad))
    assert result.returncode == 3
    assert "target.kind" in result.stderr
    assert len([line for line in result.stderr.splitlines() if line.strip()]) == 1


def test_a_runbook_command_dies_with_a_sigkilled_drill(
    drills: Drills, tmp_path: Path, service: tuple[Path, int]
) -> None:
    # Commands run in their own session (for their timeout), so only the launcher's
    # parent-death signal ties them to cavra-drill when it is killed outright.
    state, port = service
    pid_file = tmp_path / "hung.pid"
    runbook = write_runbook(tmp_path / "svc.toml", state, port)
    text = runbook.read_text()
    hung = f'[restart]\nshell = "echo $$ > {pid_file}; exec sleep 30"\ntimeout_seconds = 60\n'
    runbook.write_text(text[: text.index("[restart]")] + hung + text[text.index("[verify]") :])
    proc = drills.start("--runbook", str(runbook))
    wait_until(lambda: pid_file.exists() and pid_file.read_text().strip(), timeout=30, what="the restart command")
    pid = int(pid_file.read_text())
    proc.kill()
    proc.communicate(timeout=30)
    wait_until(lambda: not mode_service.running(pid), timeout=5, what="the runbook command to die with the drill")
