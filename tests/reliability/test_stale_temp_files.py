"""A writer SIGKILLed in the middle of an atomic write leaves its temporary file behind: the
dying process cannot remove it. The next write of the same file must, and it must never remove
the temporary file of a writer that is still alive.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from cavra_drill.store.atomic import write_atomic

# A writer that stops inside write_atomic, after its temporary file holds the new bytes and
# before the rename, and says so: the moment a SIGKILL leaves a temporary file behind.
_STALLED_WRITER = textwrap.dedent(
    """
    import os, sys, time
    from pathlib import Path
    from cavra_drill.store import atomic

    def stall(fd: int) -> None:
        print("writing", flush=True)
        time.sleep(60)

    atomic.os.fsync = stall
    atomic.write_atomic(Path(sys.argv[1]), b"half-way\\n", what="rehearsal evidence")
    """
)


@contextmanager
def stalled_writer(target: Path) -> Iterator[subprocess.Popen[str]]:
    proc = subprocess.Popen([sys.executable, "-c", _STALLED_WRITER, str(target)], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline() == "writing\n"
        yield proc
    finally:
        proc.kill()
        proc.wait()


def temp_files(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if ".tmp" in p.name)


def test_sigkill_during_a_write_leaves_the_old_file_and_one_temp_file(tmp_path: Path) -> None:
    target = tmp_path / "evidence.json"
    target.write_bytes(b"old\n")
    with stalled_writer(target):
        pass  # killed while writing
    assert target.read_bytes() == b"old\n"
    assert len(temp_files(tmp_path)) == 1


def test_the_next_write_removes_a_temp_file_left_by_a_killed_writer(tmp_path: Path) -> None:
    target = tmp_path / "evidence.json"
    target.write_bytes(b"old\n")
    with stalled_writer(target):
        pass
    write_atomic(target, b"new\n", what="rehearsal evidence")
    assert target.read_bytes() == b"new\n"
    assert temp_files(tmp_path) == []


def test_a_live_writers_temp_file_is_left_alone(tmp_path: Path) -> None:
    target = tmp_path / "evidence.json"
    target.write_bytes(b"old\n")
    with stalled_writer(target):
        (live,) = temp_files(tmp_path)
        write_atomic(target, b"new\n", what="rehearsal evidence")
        assert target.read_bytes() == b"new\n"
        assert temp_files(tmp_path) == [live]


def test_temp_files_of_other_targets_are_left_alone(tmp_path: Path) -> None:
    target = tmp_path / "evidence.json"
    other = tmp_path / ".history.json.tmp0123abcd"
    other.write_bytes(b"not ours\n")
    unrelated = tmp_path / ".evidence.json.tmp-notes"
    unrelated.write_bytes(b"not a temp file name we make\n")
    write_atomic(target, b"new\n", what="rehearsal evidence")
    assert temp_files(tmp_path) == sorted([other.name, unrelated.name])


# Writes in a loop while a timer interrupts each at a random moment with an exception raised
# from a signal handler (as run's SIGTERM handler and Ctrl-C do); after every write, interrupted
# or not, no temporary file may be left.
_INTERRUPTED_WRITER = textwrap.dedent(
    """
    import os, random, signal, sys, time
    from pathlib import Path
    from cavra_drill.store.atomic import write_atomic

    class Alarm(Exception):
        pass

    def alarm(signum, frame):
        raise Alarm()

    signal.signal(signal.SIGALRM, alarm)
    target = Path(sys.argv[1])
    writes = int(sys.argv[2])
    started = time.perf_counter()
    for _ in range(20):
        write_atomic(target, b"x" * 2000, what="rehearsal evidence")
    typical = (time.perf_counter() - started) / 20
    rng = random.Random(11)
    interrupted = 0
    for number in range(writes):
        try:
            signal.setitimer(signal.ITIMER_REAL, rng.uniform(1e-6, 1.5 * typical))
            try:
                write_atomic(target, b"x" * 2000, what="rehearsal evidence")
            finally:
                signal.setitimer(signal.ITIMER_REAL, 0)
        except Alarm:
            interrupted += 1
        left = [name for name in os.listdir(target.parent) if ".tmp" in name]
        if left:
            print(f"write {number}: left {left}")
            sys.exit(1)
    print(interrupted)
    """
)


def test_a_signal_handler_raising_at_any_moment_of_a_write_leaves_no_temp_file(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-c", _INTERRUPTED_WRITER, str(tmp_path / "evidence.json"), "1000"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert int(done.stdout) > 50  # most writes really were interrupted somewhere
    assert temp_files(tmp_path) == []
