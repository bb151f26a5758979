"""Atomic writes against real file systems: missing and non-directory parents, directories and
special files at the path, read-only and full file systems (small tmpfs mounts when we may
mount), readers racing a writer. After every failure the old file is intact and no temp file
is left behind.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from cavra_drill.errors import EXIT_ENVIRONMENT, EXIT_INPUT, EnvironmentFault, InputError
from cavra_drill.store.atomic import check_writable, write_atomic, write_json_atomic


def _leftovers(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if ".tmp" in p.name)


def _mount_tmpfs(mount_point: Path, options: str) -> None:
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root")
    mount_point.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(mount_point)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip() or done.returncode}")


@pytest.fixture
def small_fs(tmp_path: Path) -> Iterator[Path]:
    """A 64 KiB tmpfs: a real file system that fills up."""
    mount_point = tmp_path / "small"
    _mount_tmpfs(mount_point, "size=64k")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", str(mount_point)], check=False)


def _remount_read_only(mount_point: Path) -> None:
    subprocess.run(["mount", "-o", "remount,ro", str(mount_point)], check=True)


def test_writes_new_file(tmp_path: Path) -> None:
    target = tmp_path / "evidence.json"
    write_atomic(target, b"first\n", what="rehearsal evidence")
    assert target.read_bytes() == b"first\n"
    assert _leftovers(tmp_path) == []


def test_replaces_existing_file_and_keeps_its_mode(tmp_path: Path) -> None:
    target = tmp_path / "history.json"
    target.write_bytes(b"old")
    target.chmod(0o640)
    write_atomic(target, b"new", what="drill history")
    assert target.read_bytes() == b"new"
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    assert _leftovers(tmp_path) == []


def test_new_file_mode_follows_the_umask(tmp_path: Path) -> None:
    # A reader running as another user (CAVRA's service) must be able to read what we write;
    # tempfile.mkstemp would have left 0600.
    previous = os.umask(0o022)
    try:
        write_atomic(tmp_path / "evidence.json", b"{}", what="rehearsal evidence")
    finally:
        os.umask(previous)
    assert stat.S_IMODE((tmp_path / "evidence.json").stat().st_mode) == 0o644


def test_write_json_atomic_renders_indented_utf8_with_newline(tmp_path: Path) -> None:
    target = tmp_path / "evidence.json"
    value = {"b": 1, "a": ["é", 6.25]}
    write_json_atomic(target, value, what="rehearsal evidence")
    raw = target.read_bytes()
    assert raw == (json.dumps(value, indent=2, ensure_ascii=False) + "\n").encode("utf-8")
    assert "é".encode() in raw
    assert list(json.loads(raw)) == ["b", "a"]  # key order kept, not sorted


def test_write_json_atomic_rejects_nan_before_touching_the_file(tmp_path: Path) -> None:
    target = tmp_path / "evidence.json"
    target.write_bytes(b"old")
    with pytest.raises(ValueError):
        write_json_atomic(target, {"recovery_minutes": float("nan")}, what="rehearsal evidence")
    assert target.read_bytes() == b"old"
    assert _leftovers(tmp_path) == []


def test_missing_parent_is_an_input_error(tmp_path: Path) -> None:
    target = tmp_path / "no-such-dir" / "evidence.json"
    with pytest.raises(InputError) as caught:
        write_atomic(target, b"x", what="rehearsal evidence")
    assert caught.value.exit_code == EXIT_INPUT
    assert caught.value.message == (
        f"cannot write rehearsal evidence {target}: directory {target.parent} does not exist"
    )
    assert not target.parent.exists()


def test_parent_that_is_a_file_is_an_input_error(tmp_path: Path) -> None:
    blocker = tmp_path / "out"
    blocker.write_bytes(b"not a directory")
    target = blocker / "evidence.json"
    with pytest.raises(InputError) as caught:
        write_atomic(target, b"x", what="rehearsal evidence")
    assert caught.value.message == (f"cannot write rehearsal evidence {target}: {blocker} is not a directory")
    assert blocker.read_bytes() == b"not a directory"


def test_existing_directory_at_path_is_an_input_error(tmp_path: Path) -> None:
    target = tmp_path / "evidence.json"
    target.mkdir()
    (target / "inside").write_bytes(b"keep")
    with pytest.raises(InputError) as caught:
        write_atomic(target, b"x", what="rehearsal evidence")
    assert caught.value.message.endswith(": it is a directory")
    assert (target / "inside").read_bytes() == b"keep"
    assert _leftovers(tmp_path) == []


def test_special_file_at_path_is_not_replaced(tmp_path: Path) -> None:
    target = tmp_path / "evidence.json"
    os.mkfifo(target)
    with pytest.raises(InputError) as caught:
        write_atomic(target, b"x", what="rehearsal evidence")
    assert caught.value.message.endswith(": it is not a regular file")
    assert stat.S_ISFIFO(target.stat().st_mode)
    assert _leftovers(tmp_path) == []


def test_read_only_directory_by_mode(tmp_path: Path) -> None:
    if os.geteuid() == 0:
        pytest.skip("running as root: mode 0555 does not stop root writing (the tmpfs test covers it)")
    directory = tmp_path / "locked"
    directory.mkdir()
    (directory / "evidence.json").write_bytes(b"old")
    directory.chmod(0o555)
    try:
        with pytest.raises(InputError) as caught:
            write_atomic(directory / "evidence.json", b"new", what="rehearsal evidence")
        assert caught.value.message.endswith(": permission denied")
        assert (directory / "evidence.json").read_bytes() == b"old"
        assert _leftovers(directory) == []
    finally:
        directory.chmod(0o755)


def test_read_only_file_system_keeps_previous_file(small_fs: Path) -> None:
    target = small_fs / "evidence.json"
    write_atomic(target, b"old", what="rehearsal evidence")
    _remount_read_only(small_fs)
    with pytest.raises(InputError) as caught:
        write_atomic(target, b"new", what="rehearsal evidence")
    assert caught.value.message == (f"cannot write rehearsal evidence {target}: read-only file system")
    assert target.read_bytes() == b"old"
    assert _leftovers(small_fs) == []
    with pytest.raises(InputError, match="read-only file system"):
        check_writable(target, what="rehearsal evidence")


def test_full_disk_is_an_environment_fault_and_keeps_previous_file(small_fs: Path) -> None:
    target = small_fs / "history.json"
    write_atomic(target, b"old history", what="drill history")
    with pytest.raises(EnvironmentFault) as caught:
        write_atomic(target, b"x" * (256 * 1024), what="drill history")
    assert caught.value.exit_code == EXIT_ENVIRONMENT
    assert caught.value.message == f"no space left writing drill history {target}"
    assert target.read_bytes() == b"old history"
    assert _leftovers(small_fs) == []
    # The space the failed attempt took is released: a small write still succeeds.
    write_atomic(target, b"new history", what="drill history")
    assert target.read_bytes() == b"new history"


def test_check_writable_accepts_a_new_file_in_an_existing_directory(tmp_path: Path) -> None:
    check_writable(tmp_path / "evidence.json", what="rehearsal evidence")
    (tmp_path / "evidence.json").write_bytes(b"old")
    check_writable(tmp_path / "evidence.json", what="rehearsal evidence")
    assert list(tmp_path.iterdir()) == [tmp_path / "evidence.json"]


def test_check_writable_refuses_bad_paths(tmp_path: Path) -> None:
    (tmp_path / "file").write_bytes(b"")
    (tmp_path / "dir").mkdir()
    cases = {
        tmp_path / "missing" / "e.json": "does not exist",
        tmp_path / "file" / "e.json": "is not a directory",
        tmp_path / "dir": "it is a directory",
    }
    for path, reason in cases.items():
        with pytest.raises(InputError) as caught:
            check_writable(path, what="rehearsal evidence")
        assert caught.value.message.startswith(f"cannot write rehearsal evidence {path}: ")
        assert caught.value.message.endswith(reason)
    assert not (tmp_path / "missing").exists()


_WRITER = """
import sys
from pathlib import Path
from cavra_drill.store.atomic import write_atomic
target = Path(sys.argv[1])
versions = [b'{"v": "a", "pad": "' + b"a" * 200_000 + b'"}', b'{"v": "b", "pad": "' + b"b" * 300_000 + b'"}']
print("ready", flush=True)
for i in range(60):
    write_atomic(target, versions[i % 2], what="test file")
"""


def test_readers_never_see_a_partial_file(tmp_path: Path) -> None:
    target = tmp_path / "evidence.json"
    write_atomic(target, b'{"v": "start"}', what="test file")
    writer = subprocess.Popen([sys.executable, "-c", _WRITER, str(target)], stdout=subprocess.PIPE, text=True)
    assert writer.stdout is not None
    assert writer.stdout.readline() == "ready\n"
    seen: set[str] = set()
    while writer.poll() is None:
        seen.add(json.loads(target.read_bytes())["v"])
    assert writer.wait() == 0
    seen.add(json.loads(target.read_bytes())["v"])
    assert seen <= {"start", "a", "b"}
    assert "b" in seen  # the last version written is the one left
    assert _leftovers(tmp_path) == []
