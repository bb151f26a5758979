"""Every hostile file (tests/reliability/hostile_corpus.py) through every command, in full.

Usage: python benchmarks/reliability_inputs.py [--json-out FILE]

The same matrix as tests/reliability/test_hostile_input.py, but every entry (the 50 MB one
too) through every command form, one process per entry and command, under a 3 GB address-space
limit (`prlimit`) so that a command reading an endless file fails alone. Prints, per command:
how many invocations, how many ended in a traceback, hung (20 s), exited with another code than
documented, or changed their input; and which entries did.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from reliability.harness import clean_env
from reliability.hostile_corpus import Hostile, build_corpus, fingerprint

LIMIT = ["prlimit", f"--as={3 * 1024**3}"] if shutil.which("prlimit") else []
TIMEOUT = 20.0

# command name -> (argv for an entry at `path` with scratch dir `out`, documented exit codes)
Form = Callable[[Hostile, str, Path], tuple[list[str], set[int]]]


def forms() -> dict[str, Form]:
    def every_slot(path: str) -> list[str]:
        return ["--plan", path, "--rehearsal", path, "--history", path, "--schedule", path]

    def run_history(entry: Hostile, path: str, out: Path) -> tuple[list[str], set[int]]:
        return ["run", "--workdir", str(out), "--history", path], {0, 1} if entry.history_shaped else {3}

    def history(entry: Hostile, path: str, out: Path) -> tuple[list[str], set[int]]:
        return ["history", "--history", path], {0, 1} if entry.history_shaped else {3}

    def verify(entry: Hostile, path: str, out: Path) -> tuple[list[str], set[int]]:
        return ["history", "verify", "--history", path], {0, 1} if entry.history_shaped else {3}

    return {
        "validate": lambda e, p, o: (["validate", p], {1}),
        "validate --json": lambda e, p, o: (["validate", "--json", p], {1}),
        "readiness (every slot)": lambda e, p, o: (["readiness", "--mode", "promoted", *every_slot(p)], {1}),
        "readiness --json (every slot)": lambda e, p, o: (
            ["readiness", "--mode", "promoted", "--json", *every_slot(p)],
            {1},
        ),
        "run --plan": lambda e, p, o: (["run", "--workdir", str(o), "--plan", p], {3}),
        "run --runbook": lambda e, p, o: (["run", "--workdir", str(o), "--runbook", p], {3}),
        "run --history": run_history,
        "run --schedule --attestation": lambda e, p, o: (
            ["run", "--workdir", str(o), "--schedule", p, "--attestation", str(o / "att.json")],
            {1},
        ),
        "history": history,
        "history verify": verify,
        "report (every slot)": lambda e, p, o: (
            ["report", "--out", str(o / "report.html"), "--mode", "promoted", *every_slot(p)],
            {1},
        ),
    }


@dataclass(frozen=True)
class Outcome:
    entry: str
    code: int | None  # None: hung
    codes: set[int]  # documented
    text: str


def invoke(args: list[str], cwd: Path) -> tuple[int | None, str]:
    try:
        done = subprocess.run(
            [*LIMIT, sys.executable, "-m", "cavra_drill", *args],
            cwd=cwd,
            env=clean_env({"CAVRA_DRILL_ACTOR": "hostile-input"}),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return None, ""
    return done.returncode, done.stderr.decode(errors="replace") + done.stdout.decode(errors="replace")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--json-out", type=Path)
    args = parser.parse_args()
    started = time.monotonic()
    summary: dict[str, dict[str, list[str]]] = {}
    invocations: dict[str, int] = {}
    with tempfile.TemporaryDirectory(prefix="reliability-inputs-") as tmp:
        root = Path(tmp)
        for name, form in forms().items():
            # A fresh corpus per command: `run --history` appends to the history-shaped entries.
            corpus_dir = root / f"corpus-{len(summary)}"
            corpus_dir.mkdir()
            entries = build_corpus(corpus_dir)
            before = fingerprint(corpus_dir)

            def one(item: tuple[int, Hostile], form: Form = form, corpus_dir: Path = corpus_dir) -> Outcome:
                number, entry = item
                out = root / f"out-{len(summary)}-{number}"
                out.mkdir()
                argv, codes = form(entry, str(entry.path(corpus_dir)), out)
                code, text = invoke(argv, root)
                return Outcome(entry.name, code, codes, text)

            with ThreadPoolExecutor(max_workers=2) as pool:
                results = list(pool.map(one, enumerate(entries)))
            after = fingerprint(corpus_dir)
            changed = sorted(k for k in before if after.get(k) != before[k])
            if name == "run --history":
                # Appending to a history-shaped entry is documented; anything else changing is not.
                shaped = {e.name for e in entries if e.history_shaped}
                changed = [k for k in changed if k not in shaped]
            invocations[name] = len(results)
            summary[name] = {
                "tracebacks": [r.entry for r in results if "Traceback" in r.text],
                "hung": [r.entry for r in results if r.code is None],
                "undocumented_exit": [f"{r.entry} ({r.code})" for r in results if r.code not in (None, *r.codes)],
                "terminal_escapes": [r.entry for r in results if "\x1b" in r.text],
                "inputs_changed": changed,
            }
            print(f"{name}: done, {time.monotonic() - started:.0f} s", file=sys.stderr)
    total = sum(invocations.values())
    print(
        f"{len(entries)} hostile files, {len(summary)} command forms, {total} invocations, "
        f"{time.monotonic() - started:.0f} s"
    )
    print()
    print("| command | invocations | tracebacks | hung (20 s) | other exit than documented | inputs changed |")
    print("|---|---|---|---|---|---|")
    for name, s in summary.items():
        cells = [len(s[k]) for k in ("tracebacks", "hung", "undocumented_exit", "inputs_changed")]
        print(f"| {name} | {invocations[name]} | " + " | ".join(map(str, cells)) + " |")
    print()
    for name, s in summary.items():
        for key in ("tracebacks", "hung", "undocumented_exit", "terminal_escapes", "inputs_changed"):
            if s[key]:
                print(f"{name}: {key}: {', '.join(s[key])}")
    if args.json_out:
        args.json_out.write_text(json.dumps({"invocations": invocations, "findings": summary}, indent=2) + "\n")


if __name__ == "__main__":
    main()
