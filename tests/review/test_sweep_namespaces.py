"""sweep_orphans() must not stop a drill that is alive, only in another PID namespace.

A marker holds the owner's pid as the owner sees it. From the host (or any parent PID
namespace) a containerised drill's marker names a pid that means nothing here: absent, or some
unrelated process. `_owner_alive` then calls the live drill an orphan and every drill started
on the host stops its services. CI hosts run containerised jobs next to host jobs as one uid.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import psutil
import pytest
from clirun import clean_env
from waiting import wait_until

from cavra_drill.drill import processes

REPO = Path(__file__).resolve().parents[2]


def _unshare_works() -> bool:
    if shutil.which("unshare") is None:
        return False
    probe = subprocess.run(
        ["unshare", "-Urpf", "--mount-proc", "sh", "-c", "echo 999 > /proc/sys/kernel/ns_last_pid"],
        capture_output=True,
        check=False,
        timeout=10,
    )
    return probe.returncode == 0


@pytest.mark.skipif(not _unshare_works(), reason="needs unprivileged user + PID namespaces (unshare -Urpf)")
def test_sweep_orphans_leaves_a_live_drill_in_another_pid_namespace_alone(tmp_path: Path) -> None:
    # A pid that no process has out here: the containerised drill gets it in its namespace.
    inner_pid = 20_000
    while psutil.pid_exists(inner_pid):
        inner_pid += 1
    script = (
        f"echo {inner_pid - 1} > /proc/sys/kernel/ns_last_pid && "
        f"{sys.executable} -m cavra_drill run --fault slow-restart=6; status=$?; exit $status"
    )
    env = clean_env({"CAVRA_DRILL_ACTOR": "container-job", "PYTHONPATH": str(REPO)})
    container = subprocess.Popen(
        ["unshare", "-Urpf", "--mount-proc", "sh", "-c", script],
        cwd=tmp_path,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        restarting: list[psutil.Process] = []

        def restarting_service() -> bool:
            # Out here, find the containerised drill's restarted (slow) service by its marker.
            for proc in psutil.Process(container.pid).children(recursive=True):
                try:
                    environ = proc.environ()
                except psutil.Error:
                    continue
                marker = processes.parse_marker(environ.get(processes.MARKER_ENV, ""))
                if marker is not None and environ.get("CAVRA_DRILL_SERVICE_FAULT", "").startswith("slow-restart"):
                    assert marker[0] == inner_pid  # the owner as the container sees it
                    restarting.append(proc)
                    return True
            return False

        try:
            wait_until(restarting_service, timeout=30, what="the containerised drill's restart")
        except AssertionError:
            if container.poll() is not None:
                # Another drill on this host (its sweep_orphans) may have got there first.
                ended = container.communicate()[1][-1500:]
                raise AssertionError(f"the containerised drill ended early: {ended}") from None
            raise
        (service,) = restarting

        swept = processes.sweep_orphans()  # what every drill on the host does first

        assert service.pid not in swept, "sweep_orphans stopped the service of a drill that is running"
        _, err = container.communicate(timeout=60)
        assert container.returncode == 0, err[-1500:]
    finally:
        if container.poll() is None:
            # SIGKILL to the namespace's init (unshare's child) takes every process in it along.
            for child in psutil.Process(container.pid).children():
                child.send_signal(signal.SIGKILL)
            os.kill(container.pid, signal.SIGKILL)
            container.communicate(timeout=30)
