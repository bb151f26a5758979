"""Every command against every hostile file (tests/reliability/hostile_corpus.py): never a
traceback, always the documented exit code, every input left exactly as it was.

Each test runs one command over the whole corpus (two processes at a time) and reports every
entry that misbehaved at once. The 50 MB entry goes through `validate` and `run --plan` only.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from reliability.harness import Finished, clean_env
from reliability.hostile_corpus import Hostile, build_corpus, fingerprint

Check = Callable[[Hostile, Finished], str | None]


@dataclass(frozen=True)
class Corpus:
    directory: Path
    entries: list[Hostile]

    def small(self) -> list[Hostile]:
        return [e for e in self.entries if not e.big]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Corpus]:
    directory = tmp_path_factory.mktemp("hostile")
    entries = build_corpus(directory)
    assert len(entries) >= 40
    before = fingerprint(directory)
    yield Corpus(directory, entries)
    # Whatever every command did, the corpus is byte-for-byte what it was.
    assert fingerprint(directory) == before


# A command that reads an endless file must fail alone, not take the shared machine's memory.
MEMORY_LIMIT = ["prlimit", f"--as={3 * 1024**3}"] if shutil.which("prlimit") else []


def cavra(args: Sequence[str], cwd: Path, timeout: float = 15) -> Finished:
    try:
        done = subprocess.run(
            [*MEMORY_LIMIT, sys.executable, "-m", "cavra_drill", *args],
            cwd=cwd,
            env=clean_env({"CAVRA_DRILL_ACTOR": "hostile-input"}),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return Finished(-999, "", f"timed out after {timeout} s")
    # Bytes, decoded leniently: a command that printed invalid UTF-8 must still be judged.
    return Finished(done.returncode, done.stdout.decode(errors="replace"), done.stderr.decode(errors="replace"))


def common_problems(result: Finished) -> str | None:
    if result.returncode == -999:
        return result.stderr
    if result.traceback:
        lines = [line for line in result.stderr.splitlines() if line.strip()]
        return "traceback: " + (lines[-1] if lines else "")
    if "\x1b" in result.stdout or "\x1b" in result.stderr:
        return "a raw terminal escape sequence reached the output"
    return None


def expect(*codes: int) -> Check:
    def check(_entry: Hostile, result: Finished) -> str | None:
        if result.returncode not in codes:
            last = result.stderr.strip().splitlines()[-1:] if result.stderr.strip() else [""]
            return f"exit {result.returncode}, expected {' or '.join(map(str, codes))}: {last[0][:200]}"
        return None

    return check


def run_matrix(
    entries: Sequence[Hostile], command: Callable[[Hostile], tuple[list[str], Path]], check: Check
) -> list[str]:
    """Run `command` for each entry, two at a time; the problems, one line per entry."""

    def one(entry: Hostile) -> str | None:
        args, cwd = command(entry)
        result = cavra(args, cwd)
        problem = common_problems(result) or check(entry, result)
        return f"{entry.name} ({entry.what}): {problem}" if problem else None

    with ThreadPoolExecutor(max_workers=2) as pool:
        return [p for p in pool.map(one, entries) if p]


def assert_none(problems: list[str]) -> None:
    assert not problems, f"{len(problems)} entries misbehaved:\n" + "\n".join(problems)


@pytest.fixture
def scratch(tmp_path: Path) -> Path:
    return tmp_path


def test_validate_finds_every_entry_invalid(corpus: Corpus, scratch: Path) -> None:
    paths = [str(e.path(corpus.directory)) for e in corpus.entries]
    result = cavra(["validate", "--json", *paths], scratch, timeout=300)
    assert common_problems(result) is None, result.stderr[-2000:]
    assert result.returncode == 1, result.stderr[-2000:]
    verdicts = {f["path"]: f for f in json.loads(result.stdout)["files"]}
    assert [p for p in paths if verdicts[p]["valid"]] == []
    # The human output of the same, without the 50 MB entry.
    human = cavra(["validate", *[str(e.path(corpus.directory)) for e in corpus.small()]], scratch)
    assert common_problems(human) is None, human.stderr[-2000:]
    assert human.returncode == 1


@pytest.mark.parametrize("as_json", [True, False], ids=["json", "human"])
def test_readiness_with_the_file_in_every_slot_needs_attention(corpus: Corpus, scratch: Path, as_json: bool) -> None:
    def command(entry: Hostile) -> tuple[list[str], Path]:
        path = str(entry.path(corpus.directory))
        args = ["readiness", "--mode", "promoted", "--plan", path, "--rehearsal", path]
        args += ["--history", path, "--schedule", path] + (["--json"] if as_json else [])
        return args, scratch

    def check(entry: Hostile, result: Finished) -> str | None:
        problem = expect(1)(entry, result)
        if problem is None and as_json and json.loads(result.stdout)["status"] != "needs_attention":
            problem = "exit 1 but the report does not need attention"
        return problem

    assert_none(run_matrix(corpus.small(), command, check))


def test_run_refuses_every_entry_as_the_plan(corpus: Corpus, scratch: Path) -> None:
    def command(entry: Hostile) -> tuple[list[str], Path]:
        workdir = scratch / entry.name.replace("/", "_")
        return ["run", "--workdir", str(workdir), "--plan", str(entry.path(corpus.directory))], scratch

    def check(entry: Hostile, result: Finished) -> str | None:
        workdir = scratch / entry.name.replace("/", "_")
        written = sorted(p.name for p in workdir.iterdir()) if workdir.exists() else []
        return expect(3)(entry, result) or (f"wrote {written}" if written else None)

    assert_none(run_matrix(corpus.entries, command, check))


def test_run_refuses_every_entry_as_the_runbook(corpus: Corpus, scratch: Path) -> None:
    def command(entry: Hostile) -> tuple[list[str], Path]:
        workdir = scratch / entry.name.replace("/", "_")
        return ["run", "--workdir", str(workdir), "--runbook", str(entry.path(corpus.directory))], scratch

    def check(entry: Hostile, result: Finished) -> str | None:
        return expect(3)(entry, result)

    assert_none(run_matrix(corpus.small(), command, check))


def test_run_with_a_special_file_as_the_schedule_finishes(corpus: Corpus, scratch: Path) -> None:
    # The schedule is read after the drill (readiness, attestation digest): a named pipe or an
    # endless device must not hang or exhaust the run then. Only the entries that are not
    # regular files here, since each of these runs a whole drill.
    def command(entry: Hostile) -> tuple[list[str], Path]:
        workdir = scratch / entry.name.replace("/", "_")
        args = ["run", "--workdir", str(workdir), "--schedule", str(entry.path(corpus.directory))]
        return [*args, "--attestation", str(workdir.with_suffix(".att.json"))], scratch

    # A schedule that is not a file: the schedule report needs attention, so exit 1.
    assert_none(run_matrix([e for e in corpus.entries if e.path_only], command, expect(1)))


@pytest.fixture(scope="module")
def history_copies(tmp_path_factory: pytest.TempPathFactory) -> Corpus:
    """A second corpus: `run --history` may append to the history-shaped entries."""
    directory = tmp_path_factory.mktemp("hostile-histories")
    return Corpus(directory, build_corpus(directory, big=False))


def test_run_refuses_every_entry_as_the_history_or_appends_to_a_history_shaped_one(
    history_copies: Corpus, scratch: Path
) -> None:
    before = fingerprint(history_copies.directory)
    contents = {e.name: _read(e.path(history_copies.directory)) for e in history_copies.entries}

    def command(entry: Hostile) -> tuple[list[str], Path]:
        workdir = scratch / entry.name.replace("/", "_")
        return ["run", "--workdir", str(workdir), "--history", str(entry.path(history_copies.directory))], scratch

    def check(entry: Hostile, result: Finished) -> str | None:
        path = entry.path(history_copies.directory)
        if not entry.history_shaped:
            problem = expect(3)(entry, result)
            if problem is None and _state(history_copies.directory, entry) != _state_of(before, entry):
                problem = "exit 3 but the file changed"
            return problem
        problem = expect(0, 1)(entry, result)
        if problem is None:
            old = json.loads(contents[entry.name] or b"{}")["drills"]
            new = json.loads(path.read_bytes())["drills"]
            if new[: len(old)] != old or len(new) != len(old) + 1:
                problem = "the append did not keep the old drills and add exactly one"
        return problem

    assert_none(run_matrix(history_copies.entries, command, check))


def _read(path: Path) -> bytes | None:
    try:
        return path.read_bytes() if path.is_file() and not path.is_symlink() else None
    except OSError:
        return None


def _state(directory: Path, entry: Hostile) -> str | None:
    return fingerprint(directory).get(entry.name)


def _state_of(snapshot: dict[str, str], entry: Hostile) -> str | None:
    return snapshot.get(entry.name)


def _commands() -> set[str]:
    done = subprocess.run(
        [sys.executable, "-m", "cavra_drill", "--help"], capture_output=True, text=True, check=False, env=clean_env()
    )
    return {line.split()[0] for line in done.stdout.splitlines() if line.startswith("  ") and line.split()}


HAS_HISTORY = "history" in _commands()
HAS_REPORT = "report" in _commands()


@pytest.mark.skipif(not HAS_HISTORY, reason="`cavra-drill history` does not exist in this build")
@pytest.mark.parametrize("verify", [False, True], ids=["history", "history-verify"])
def test_history_refuses_what_is_not_a_history(corpus: Corpus, scratch: Path, verify: bool) -> None:
    def command(entry: Hostile) -> tuple[list[str], Path]:
        return ["history", *(["verify"] if verify else []), "--history", str(entry.path(corpus.directory))], scratch

    def check(entry: Hostile, result: Finished) -> str | None:
        return expect(0, 1)(entry, result) if entry.history_shaped else expect(3)(entry, result)

    assert_none(run_matrix(corpus.small(), command, check))


@pytest.mark.skipif(not HAS_REPORT, reason="`cavra-drill report` does not exist in this build")
def test_report_needs_attention_and_writes_only_its_page(corpus: Corpus, scratch: Path) -> None:
    def command(entry: Hostile) -> tuple[list[str], Path]:
        path = str(entry.path(corpus.directory))
        out = scratch / (entry.name.replace("/", "_") + ".html")
        args = ["report", "--out", str(out), "--mode", "promoted", "--plan", path, "--rehearsal", path]
        return [*args, "--history", path, "--schedule", path], scratch

    def check(entry: Hostile, result: Finished) -> str | None:
        out = scratch / (entry.name.replace("/", "_") + ".html")
        return expect(1)(entry, result) or (None if out.is_file() else "no page written")

    assert_none(run_matrix(corpus.small(), command, check))


def test_a_file_that_cannot_be_read(scratch: Path) -> None:
    """No read permission. Tests run as root, where chmod 000 does not stop a read (root has
    CAP_DAC_OVERRIDE), so as root the commands run under `setpriv` without the two capabilities
    that bypass file permissions: still uid 0, but a mode-000 file is then unreadable to it."""
    unreadable = scratch / "plan.json"
    unreadable.write_bytes(json.dumps({"schema_version": "cavra.go-backend-rollback-plan.v1"}).encode())
    unreadable.chmod(0o000)
    prefix: list[str] = []
    if os.geteuid() == 0:
        setpriv = shutil.which("setpriv")
        if setpriv is None:
            pytest.skip("running as root and setpriv is not installed: mode 000 does not stop root reading")
        drop = "-dac_override,-dac_read_search"
        prefix = [setpriv, f"--inh-caps={drop}", f"--bounding-set={drop}"]
    elif os.access(unreadable, os.R_OK):
        pytest.skip("mode 000 does not stop this user reading")
    before = fingerprint(scratch)
    for args, code in [
        (["validate", str(unreadable)], 1),
        (["readiness", "--mode", "promoted", "--plan", str(unreadable)], 1),
        (["run", "--workdir", str(scratch / "out"), "--plan", str(unreadable)], 3),
        (["run", "--workdir", str(scratch / "out"), "--history", str(unreadable)], 3),
        (["history", "--history", str(unreadable)], 3),
    ]:
        done = subprocess.run(
            [*prefix, sys.executable, "-m", "cavra_drill", *args],
            cwd=scratch,
            env=clean_env({"CAVRA_DRILL_ACTOR": "hostile-input"}),
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        result = Finished(done.returncode, done.stdout, done.stderr)
        assert common_problems(result) is None, result.stderr
        assert result.returncode == code, (args, result.stderr)
        if args[0] in ("validate", "history"):
            assert "could not be read" in result.stdout + result.stderr or "permission denied" in result.stderr
    after = fingerprint(scratch)
    assert {k: v for k, v in after.items() if not k.startswith("out")} == before
