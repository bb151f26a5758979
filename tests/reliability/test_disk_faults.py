"""A read-only or full file system under `cavra-drill run`: a clear one-line message, exit 3
(the path cannot be written) or 4 (the machine: disk full), the previous files intact, no
temporary file left, no drill process left. Small tmpfs mounts (needs root, as in CI here).
"""

from __future__ import annotations

import errno
import os
import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from reliability.harness import (
    EVIDENCE,
    HISTORY,
    NEW_UNRECORDED,
    OLD,
    DrillRunner,
    Files,
    finish,
    history_drills,
    is_service,
    judge_files,
    temp_files,
    wait_for_process,
)

Mount = Callable[[str, str], Path]


@pytest.fixture
def tmpfs(tmp_path: Path) -> Iterator[Mount]:
    """Mount small tmpfs file systems under tmp_path; unmounted at the end."""
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    mounted: list[Path] = []

    def mount(name: str, options: str) -> Path:
        point = tmp_path / name
        point.mkdir()
        done = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(point)], capture_output=True, text=True, check=False
        )
        if done.returncode != 0:
            pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
        mounted.append(point)
        return point

    yield mount
    for point in reversed(mounted):
        subprocess.run(["umount", "-l", str(point)], check=False)


def remount_read_only(point: Path) -> None:
    subprocess.run(["mount", "-o", "remount,ro", str(point)], check=True)


def fill(point: Path) -> None:
    """Use every free block of the file system at `point`."""
    fd = os.open(point / "filler", os.O_WRONLY | os.O_CREAT | os.O_APPEND)
    try:
        for size in (65536, 4096, 512, 1):
            try:
                while True:
                    os.write(fd, b"\0" * size)
            except OSError as exc:
                assert exc.errno == errno.ENOSPC
    finally:
        os.close(fd)


def one_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.startswith("cavra-drill: ")]
    assert lines, stderr
    return lines[-1]


def first_drill(runner: DrillRunner, *args: str) -> Files:
    result = runner.run(*args)
    assert result.returncode == 0, result.stderr
    return Files.read(
        _path(args, "--rehearsal", runner.out / EVIDENCE),
        _path(args, "--history", runner.out / HISTORY),
        runner.out / "production-readiness.json",
    )


def _path(args: tuple[str, ...], option: str, default: Path) -> Path:
    return Path(args[args.index(option) + 1]) if option in args else default


def test_read_only_evidence_directory_is_refused_before_the_drill(runner: DrillRunner, tmpfs: Mount) -> None:
    point = tmpfs("evidence", "size=1m")
    evidence = point / EVIDENCE
    args = ("--rehearsal", str(evidence))
    before = first_drill(runner, *args)
    remount_read_only(point)
    result = runner.run(*args)
    assert result.returncode == 3, result.stderr
    assert not result.traceback
    assert one_line(result.stderr) == f"cavra-drill: cannot write rehearsal evidence {evidence}: read-only file system"
    assert evidence.read_bytes() == before.evidence
    assert Files.in_workdir(runner.out).history == before.history  # refused before the drill
    assert temp_files(point, runner.out) == []


def test_file_system_turning_read_only_during_the_drill(runner: DrillRunner, tmpfs: Mount) -> None:
    point = tmpfs("evidence", "size=1m")
    evidence = point / EVIDENCE
    before = first_drill(runner, "--rehearsal", str(evidence))
    proc = runner.start("--rehearsal", str(evidence), "--fault", "slow-restart=1")
    # Past the preflight: the restarted (slow) service is up, the write comes next.
    assert wait_for_process(proc.pid, is_service("disabled", fault_prefix="slow-restart"), timeout=30)
    remount_read_only(point)
    result = finish(proc, timeout=60)
    assert result.returncode == 3, result.stderr
    assert not result.traceback
    assert one_line(result.stderr) == f"cavra-drill: cannot write rehearsal evidence {evidence}: read-only file system"
    assert evidence.read_bytes() == before.evidence
    assert Files.in_workdir(runner.out).history == before.history  # the evidence failed first
    assert temp_files(point, runner.out) == []


def test_full_disk_while_writing_the_evidence(runner: DrillRunner, tmpfs: Mount) -> None:
    point = tmpfs("evidence", "size=64k")
    evidence = point / EVIDENCE
    before = first_drill(runner, "--rehearsal", str(evidence))
    fill(point)
    result = runner.run("--rehearsal", str(evidence))
    assert result.returncode == 4, result.stderr
    assert not result.traceback
    assert one_line(result.stderr) == f"cavra-drill: no space left writing rehearsal evidence {evidence}"
    assert evidence.read_bytes() == before.evidence
    assert Files.in_workdir(runner.out).history == before.history
    assert temp_files(point, runner.out) == []


def test_full_disk_while_writing_the_history(runner: DrillRunner, tmpfs: Mount) -> None:
    point = tmpfs("history", "size=64k")
    history = point / HISTORY
    args = ("--history", str(history))
    before = first_drill(runner, *args)
    fill(point)
    result = runner.run(*args)
    assert result.returncode == 4, result.stderr
    assert not result.traceback
    assert one_line(result.stderr) == f"cavra-drill: no space left writing drill history {history}"
    assert history.read_bytes() == before.history
    verdict = judge_files(before, Files.read(runner.out / EVIDENCE, history, runner.out / "production-readiness.json"))
    assert verdict.ok, verdict.problems
    # Old, or (written before the append, as run.py does today) new with its drill not in the history.
    assert verdict.evidence in (OLD, NEW_UNRECORDED)
    assert temp_files(point, runner.out) == []
    # Space again: the next drill appends, the lock was released.
    (point / "filler").unlink()
    assert runner.run(*args).returncode == 0
    assert len(history_drills(history.read_bytes())) == 2


def test_full_disk_under_the_workdir(runner: DrillRunner, tmpfs: Mount) -> None:
    # The sandbox lives in the workdir: on a full disk the drill cannot even be laid out.
    point = tmpfs("work", "size=256k")
    workdir = point / "out"
    first = runner.run("--workdir", str(workdir))
    assert first.returncode == 0, first.stderr
    before = Files.in_workdir(workdir)
    fill(point)
    result = runner.run("--workdir", str(workdir))
    assert result.returncode in (3, 4), result.stderr
    assert not result.traceback, result.stderr
    one_line(result.stderr)
    verdict = judge_files(before, Files.in_workdir(workdir))
    assert verdict.ok and verdict.evidence == OLD, verdict.problems
    assert temp_files(workdir) == []
    shutil.rmtree(workdir / "sandbox", ignore_errors=True)
