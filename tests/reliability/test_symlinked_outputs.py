"""An output path that is a symbolic link is refused before anything is written.

Replacing it atomically would replace the link, not the file: a symlinked history would part
from the file it pointed to (which then goes stale), and a dangling link would vanish. Writing
through it would let whoever can plant a link choose what a drill run as root overwrites.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from cavra_drill.errors import InputError
from cavra_drill.store.atomic import check_writable, write_atomic
from reliability.harness import EVIDENCE, HISTORY, DrillRunner, Files


@pytest.mark.parametrize("target", ["real.json", "nowhere.json", "link.json"], ids=["file", "dangling", "loop"])
def test_a_link_at_the_path_is_refused_and_left_alone(tmp_path: Path, target: str) -> None:
    real = tmp_path / "real.json"
    real.write_bytes(b"old\n")
    link = tmp_path / "link.json"
    link.symlink_to(target)
    with pytest.raises(InputError) as checked:
        check_writable(link, what="drill history")
    with pytest.raises(InputError) as written:
        write_atomic(link, b"new\n", what="drill history")
    assert "symbolic link" in checked.value.message and "symbolic link" in written.value.message
    assert link.is_symlink() and str(link.readlink()) == target
    assert real.read_bytes() == b"old\n"


def test_a_directory_reached_through_a_link_is_fine(tmp_path: Path) -> None:
    (tmp_path / "real").mkdir()
    (tmp_path / "alias").symlink_to("real")
    write_atomic(tmp_path / "alias" / "evidence.json", b"new\n", what="rehearsal evidence")
    assert (tmp_path / "real" / "evidence.json").read_bytes() == b"new\n"


@pytest.mark.parametrize("option", ["--history", "--rehearsal"])
def test_run_refuses_a_symlinked_output_before_the_drill(runner: DrillRunner, option: str) -> None:
    assert runner.run().returncode == 0
    shared = runner.cwd / "shared.json"
    name = HISTORY if option == "--history" else EVIDENCE
    shared.write_bytes((runner.out / name).read_bytes())
    link = runner.cwd / "link.json"
    link.symlink_to(shared.name)
    before = Files.in_workdir(runner.out)
    result = runner.run(option, str(link))
    assert result.returncode == 3, result.stderr
    assert "symbolic link" in result.stderr and not result.traceback
    assert link.is_symlink() and shared.read_bytes() == (runner.out / name).read_bytes()
    assert Files.in_workdir(runner.out) == before
