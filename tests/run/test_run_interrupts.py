"""Ctrl-C and SIGTERM during a drill: cleanup runs, nothing is written, exit 130."""

from __future__ import annotations

import signal

import pytest
from clirun import assert_no_traceback
from drillrun import Drills
from waiting import wait_until

from cavra_drill.drill import processes


def wait_for_service(drills: Drills, owner: int, *, restarted: bool = False, timeout: float = 30) -> None:
    """Until the drill has started a marked child (with `restarted`, the slow restarted service)."""

    def started() -> bool:
        for proc in processes.find_marked():
            try:
                environ = proc.environ()
            except Exception:  # noqa: S112 - vanished while we looked
                continue
            marker = processes.parse_marker(environ.get(processes.MARKER_ENV, ""))
            if marker is None or marker[0] != owner:
                continue
            if not restarted or environ.get("CAVRA_DRILL_SERVICE_FAULT", "").startswith("slow-restart"):
                return True
        return False

    wait_until(started, timeout=timeout, what="the drill's service")


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_signal_during_the_rollback_cleans_up_and_writes_nothing(drills: Drills, sig: signal.Signals) -> None:
    # A slow restart holds the drill inside the timed rollback while we signal it.
    proc = drills.start("--fault", "slow-restart=20")
    wait_for_service(drills, proc.pid, restarted=True)
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, err
    assert "interrupted" in err and "Traceback" not in err
    assert out == ""
    assert not (drills.out / "go-backend-rollback-rehearsal.json").exists()
    assert not (drills.out / "go-backend-rollback-drills.json").exists()
    assert not (drills.out / "sandbox").exists() or not any((drills.out / "sandbox").iterdir())


def test_sigkilled_drill_leaves_no_process_behind(drills: Drills) -> None:
    proc = drills.start("--fault", "slow-restart=20")
    wait_for_service(drills, proc.pid)
    proc.kill()
    proc.communicate(timeout=30)
    # Children die with their parent (parent-death signal); give the kernel a moment to reap.
    wait_until(lambda: drills.leaked() == [], timeout=5, what="the killed drill's children to die")
    # The killed drill's sandbox is still there: nothing could remove it.
    assert list((drills.out / "sandbox").iterdir())
    # The next run starts cleanly on the same work directory, and removes it (nobody holds its
    # owner lock any more).
    result = drills.run()
    assert_no_traceback(result)
    assert result.returncode == 0
    assert not (drills.out / "sandbox").exists()
