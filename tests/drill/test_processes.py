from __future__ import annotations

import os
import signal
import subprocess
import sys

import psutil
import pytest
from waiting import poll_until

from cavra_drill.drill import processes
from cavra_drill.drill.processes import (
    MARKER_ENV,
    OWNER_ENV,
    find_marked,
    marker_env,
    parse_marker,
    stop_tree,
    sweep_drill,
    sweep_orphans,
)

from .conftest import DrillIds
from .support import child_env, python_child, read_pids

# A process that forks a child in its group and a grandchild in a session of its own, reports
# all three pids, then waits. Only descendant tracking finds the setsid'd grandchild.
TREE = """
import os, subprocess, sys
sleeper = [sys.executable, "-c", "import time; time.sleep(600)"]
child = subprocess.Popen(sleeper)
escaped = subprocess.Popen(sleeper, start_new_session=True)
print(os.getpid(), child.pid, escaped.pid, sep="\\n", flush=True)
sys.stdin.read()
"""

WAITS = """
import os, sys
print(os.getpid(), flush=True)
sys.stdin.read()
"""

IGNORES_SIGTERM = """
import os, signal, sys
signal.signal(signal.SIGTERM, signal.SIG_IGN)
print(os.getpid(), flush=True)
sys.stdin.read()
"""

# A fake drill: starts one marked process that names *this* process as its owner, then waits.
FAKE_OWNER = """
import os, subprocess, sys
env = dict(os.environ)
drill_id = env["CAVRA_DRILL_MARKER"].split(":", 1)[1]
env["CAVRA_DRILL_MARKER"] = f"{os.getpid()}:{drill_id}"
env["CAVRA_DRILL_OWNER_PID"] = str(os.getpid())
orphan = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"], env=env, start_new_session=True)
print(orphan.pid, flush=True)
sys.stdin.read()
"""

ARMED_CHILD = """
import os, subprocess, sys
code = "import sys, time; from cavra_drill.drill.processes import set_parent_death_signal; "
code += "set_parent_death_signal(); print('armed', flush=True); time.sleep(600)"
child = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
child.stdout.readline()
print(child.pid, flush=True)
sys.stdin.read()
"""


def gone(pid: int) -> bool:
    try:
        return bool(psutil.Process(pid).status() == psutil.STATUS_ZOMBIE)
    except psutil.NoSuchProcess:
        return True


def wait_gone(pid: int, timeout: float = 5.0) -> bool:
    # Not psutil's wait(): it waits for the pid to be reaped, and an orphan is reaped by
    # pid 1 whenever pid 1 gets round to it (about a second, in some containers).
    return poll_until(lambda: gone(pid), timeout=timeout, interval=0.01)


def finish(proc: subprocess.Popen[str]) -> None:
    if proc.poll() is None:
        proc.kill()
    proc.wait(5)
    for stream in (proc.stdin, proc.stdout):
        if stream is not None:
            stream.close()


def test_marker_env_names_owner_and_drill() -> None:
    env = marker_env("drill-1", owner_pid=1234)
    assert env == {MARKER_ENV: "1234:drill-1", OWNER_ENV: "1234"}
    assert marker_env("d")[OWNER_ENV] == str(os.getpid())
    assert parse_marker("1234:drill:with:colons") == (1234, "drill:with:colons")
    for bad in ("", "1234", "x:drill", "1234:", ":drill"):
        assert parse_marker(bad) is None
    with pytest.raises(ValueError):
        marker_env("")
    with pytest.raises(ValueError):
        marker_env("two\nlines")


def test_stop_tree_stops_children_and_grandchildren(drill_id: str) -> None:
    proc = python_child(TREE, child_env(drill_id))
    try:
        root, child, escaped = read_pids(proc, 3)
        report = stop_tree(root, grace=2.0)
        assert {root, child, escaped} <= set(report.stopped)
        assert not report.escalated
        assert not report.survivors
        assert not report.already_gone
        for pid in (root, child, escaped):
            assert gone(pid), pid
    finally:
        finish(proc)


def test_stop_tree_escalates_to_sigkill(drill_id: str) -> None:
    proc = python_child(IGNORES_SIGTERM, child_env(drill_id))
    try:
        (pid,) = read_pids(proc, 1)
        report = stop_tree(pid, grace=0.3)
        assert report.escalated
        assert report.killed == (pid,)
        assert report.terminated == ()
        assert proc.wait(5) == -signal.SIGKILL
    finally:
        finish(proc)


def test_stop_tree_on_a_process_that_is_gone(drill_id: str) -> None:
    proc = python_child("pass", child_env(drill_id))
    pid = proc.pid
    finish(proc)
    report = stop_tree(pid, grace=0.5)
    assert report.already_gone
    assert report.stopped == ()


def test_stop_tree_leaves_a_reused_pid_alone(drill_id: str) -> None:
    proc = python_child(IGNORES_SIGTERM, child_env(drill_id))
    try:
        (pid,) = read_pids(proc, 1)
        created = psutil.Process(pid).create_time()
        report = stop_tree(pid, grace=0.5, create_time=created - 3600)
        assert report.already_gone
        assert proc.poll() is None
    finally:
        finish(proc)


def test_stop_tree_never_signals_our_own_process_group(drill_id: str) -> None:
    # Started without a session of its own: its group is ours, and killpg would kill pytest.
    proc = python_child(IGNORES_SIGTERM, child_env(drill_id), new_session=False)
    try:
        (pid,) = read_pids(proc, 1)
        assert os.getpgid(pid) == os.getpgrp()
        report = stop_tree(pid, grace=0.3)
        assert report.killed == (pid,)
    finally:
        finish(proc)


def test_find_marked_filters_by_drill(drill_ids: DrillIds) -> None:
    first, second = drill_ids.new(), drill_ids.new()
    procs = [python_child(WAITS, child_env(d)) for d in (first, second)]
    try:
        pids = [read_pids(p, 1)[0] for p in procs]
        assert [p.pid for p in find_marked(first)] == [pids[0]]
        assert [p.pid for p in find_marked(second)] == [pids[1]]
        assert set(pids) <= {p.pid for p in find_marked()}
        assert sweep_drill(first) == [pids[0]]
        assert find_marked(first) == []
        assert [p.pid for p in find_marked(second)] == [pids[1]]
        assert sweep_drill(second) == [pids[1]]
    finally:
        for proc in procs:
            finish(proc)


def test_sweep_orphans_stops_processes_whose_owner_died(drill_ids: DrillIds) -> None:
    orphaned_drill, live_drill = drill_ids.new(), drill_ids.new()
    owner = python_child(FAKE_OWNER, child_env(orphaned_drill))
    still_owned = python_child(WAITS, child_env(live_drill))
    try:
        (orphan,) = read_pids(owner, 1)
        (owned,) = read_pids(still_owned, 1)
        # SIGKILL the owner, as if a drill run had been killed before its cleanup.
        owner.kill()
        owner.wait(5)
        assert not gone(orphan)

        swept = sweep_orphans()

        assert orphan in swept
        assert owned not in swept
        assert gone(orphan)
        assert not gone(owned)
    finally:
        finish(owner)
        finish(still_owned)


def test_parent_death_signal_kills_the_child_with_its_parent(drill_id: str) -> None:
    parent = python_child(ARMED_CHILD, child_env(drill_id))
    try:
        (child,) = read_pids(parent, 1)
        parent.kill()
        parent.wait(5)
        assert wait_gone(child)
    finally:
        finish(parent)


def test_stop_tree_is_bounded_even_when_nothing_cooperates(drill_id: str) -> None:
    proc = python_child(IGNORES_SIGTERM, child_env(drill_id))
    try:
        (pid,) = read_pids(proc, 1)
        report = stop_tree(pid, grace=0.2)
        assert report.escalated
        assert not report.survivors
    finally:
        finish(proc)


def test_set_parent_death_signal_is_callable_here() -> None:
    # In a throwaway interpreter: arming it in pytest itself would tie pytest to its parent.
    done = subprocess.run(
        [sys.executable, "-c", "from cavra_drill.drill.processes import set_parent_death_signal as s; s(); s(0)"],
        capture_output=True,
        timeout=10,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert processes.MARKER_ENV == "CAVRA_DRILL_MARKER"
