"""After the drill, the files it writes must stay a consistent set, and writing must end.

The evidence, the history and the readiness report are written together under the history's
lock, with signals held back. When the lock cannot be had, the evidence alone is kept (issue 5)
and the run says the history lacks it (exit 4).
"""

from __future__ import annotations

import os
from pathlib import Path

from clirun import assert_no_traceback
from drillrun import Drills
from filelock import FileLock
from waiting import wait_until

from review.support import marked_children


def test_a_busy_history_lock_keeps_the_evidence_and_says_the_history_lacks_it(drills: Drills) -> None:
    # Issue 5 asks that the evidence survive a busy lock (the rehearsal happened); the run must
    # then say plainly that the history does not hold this drill, and leave the history alone.
    first = drills.run()
    assert first.returncode == 0, first.stderr
    history = drills.out / "go-backend-rollback-drills.json"
    history_before = history.read_bytes()
    with FileLock(str(history) + ".lock"):
        second = drills.run("--lock-timeout", "1")
    assert_no_traceback(second)
    assert second.returncode == 4, second.stderr
    assert "not in the history" in second.stderr
    assert history.read_bytes() == history_before
    evidence = drills.evidence()
    assert evidence["drill_id"] not in {d["drill_id"] for d in drills.history()["drills"]}


def test_attestation_with_a_fifo_schedule_does_not_hang(drills: Drills, tmp_path: Path) -> None:
    # The readiness report reads the schedule through store.documents (regular files only, bounded);
    # the attestation re-reads it with Path.read_bytes(): a FIFO blocks forever, /dev/zero never ends.
    fifo = tmp_path / "schedule.fifo"
    os.mkfifo(fifo)
    result = drills.run("--schedule", str(fifo), "--attestation", str(tmp_path / "att.json"), timeout=30)
    assert_no_traceback(result)


def test_a_history_of_another_environment_created_during_the_drill_is_not_appended_to(drills: Drills) -> None:
    # "A history records one environment; appending a drill of another is refused" is checked
    # at preflight only. append_drill re-reads the history under the lock but never compares its
    # environment, so a history another drill created meanwhile takes this drill's record.
    slow = drills.start("--environment", "production", "--fault", "slow-restart=4")
    wait_until(lambda: marked_children(slow.pid) != [], timeout=30, what="the production drill's baseline")
    other = drills.run("--environment", "staging")
    assert other.returncode == 0, other.stderr
    slow.communicate(timeout=60)
    history = drills.history()
    assert history["environment"] == "staging"
    environments = sorted({d.get("environment") for d in history["drills"]})
    assert environments == ["staging"], f"exit {slow.returncode}; the staging history holds {environments}"
