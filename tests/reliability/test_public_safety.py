"""Fake secrets, hosts, addresses and e-mails planted through every user-controlled input of
`cavra-drill run` must reach no artifact: evidence, history, production-readiness.json, JUnit,
step summary, metrics, attestation, the HTML report. Either the run refuses (exit 3) or the
value is in no file the run wrote.

Every fake is built at run time, so the repository holds none. Each planting runs once (a
module fixture, two at a time); the tests then judge the recorded outcomes:
- `test_planted_value_reaches_no_artifact`: the public-safety requirement itself;
- `test_a_refusal_writes_nothing`: exit 3 means invalid input, refused before the drill, so
  nothing may have been written (evidence, history, readiness, any output);
- `test_planted_value_stays_out_of_the_logs`: stdout/stderr are public CI logs too (values
  that are not paths the operator typed).
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from reliability.harness import EVIDENCE, clean_env
from reliability.hostile_corpus import plan, schedule


def fakes() -> dict[str, str]:
    """One value per kind the safety gate knows; none of them real."""
    return {
        "forge-token": "gh" + "p_" + "A" * 36,
        "cloud-key": "AK" + "IA" + "Q7" * 8,
        "slack-token": "xo" + "xb-" + "1" * 12 + "-" + "b" * 24,
        "private-key": "-----BEGIN " + "OPENSSH PRIVATE KEY-----",
        "jwt": "ey" + "JhbGciOiJIUzI1NiJ9" + ".ey" + "JzdWIiOiJyZWxpYWJpbGl0eSJ9" + ".c2lnbmF0dXJl",
        "hostname": ".".join(["db01", "prod", "corp", "example"]),
        "ipv4": ".".join(["10", "20", "30", "40"]),
        "ipv6": ":".join(["fd00", "12", "34", "56", "78", "9a", "bc", "de"]),
        "email": "oncall" + "@" + ".".join(["corp", "example"]),
        "url-credentials": "https://" + "deploy:" + "s3cr3t" + "@" + "buildbox/x",
        "secret-assignment": "pass" + "word=" + "hunter2" * 3,
    }


# Fakes that can be part of a file name (no "/").
PATH_SAFE = ["forge-token", "cloud-key", "slack-token", "jwt", "ipv4", "email", "secret-assignment", "hostname"]


@dataclass
class Planting:
    """One run with one fake planted at one place."""

    where: str
    kind: str
    options: list[str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)
    plan_changes: dict[str, object] = field(default_factory=dict)
    schedule_changes: dict[str, object] | None = None
    runbook_changes: dict[str, str] | None = None
    # Where the fake goes in a path: the workdir, an input file's or an output file's directory.
    path_of: str | None = None

    @property
    def id(self) -> str:
        return f"{self.where}-{self.kind}"


def plantings() -> list[Planting]:
    kinds = list(fakes())
    rotate = iter(kinds * 4)
    found: list[Planting] = []
    for kind in kinds:
        found.append(Planting("--actor", kind))
        found.append(Planting("--environment", kind))
    found.append(Planting("CAVRA_DRILL_ACTOR", "email"))
    found.append(Planting("GITHUB_ACTOR", "forge-token"))
    for kind in ["forge-token", "email", "hostname", "url-credentials"]:
        found.append(Planting("plan.approval_id", kind))
    found.append(Planting("plan.approval.approval_id", "cloud-key"))
    for where in ["plan.evidence_refs", "plan.rollback_steps", "plan.controls", "plan.notes"]:
        found.append(Planting(where, next(rotate)))
    for where in ["schedule_id", "environment", "owners", "notification_providers", "runbook_ref", "owner_routes"]:
        found.append(Planting(f"schedule.{where}", next(rotate)))
    for where in ["runbook_ref", "name", "description"]:
        found.append(Planting(f"runbook.{where}", next(rotate)))
    paths = ["workdir", "plan", "history", "rehearsal", "schedule", "runbook"]
    paths += ["junit", "summary", "metrics", "attestation", "report"]
    for number, where in enumerate(paths):
        # A host name in a directory name, and one more kind of fake in rotation.
        found.append(Planting(f"path.{where}", "hostname", path_of=where))
        found.append(Planting(f"path.{where}", PATH_SAFE[number % (len(PATH_SAFE) - 1)], path_of=where))
    for planting in found:
        _fill(planting)
    return found


def _fill(p: Planting) -> None:
    value = fakes()[p.kind]
    if p.where == "--actor":
        p.options += ["--actor", value]
    elif p.where == "--environment":
        p.options += ["--environment", value]
    elif p.where in ("CAVRA_DRILL_ACTOR", "GITHUB_ACTOR"):
        p.env[p.where] = value
    elif p.where == "plan.approval_id":
        p.plan_changes = {"approval_id": value}
    elif p.where == "plan.approval.approval_id":
        approval = {"status": "approved", "approval_id": value}
        p.plan_changes = {"approval_id": "", "approved": False, "approval": approval}
    elif p.where.startswith("plan."):
        key = p.where.removeprefix("plan.")
        base = plan().get(key)
        p.plan_changes = {key: [*base, value] if isinstance(base, list) else value}
    elif p.where.startswith("schedule."):
        key = p.where.removeprefix("schedule.")
        shaped: object = [value] if key in ("owners", "notification_providers") else value
        if key == "owner_routes":
            shaped = {"release-team": [value]}
        p.schedule_changes = {key: shaped}
    elif p.where.startswith("runbook."):
        p.runbook_changes = {p.where.removeprefix("runbook."): value}


SANDBOX_RUNBOOK = """schema_version = "cavra-drill.runbook.v1"
name = {name}
description = {description}
runbook_ref = {runbook_ref}

[target]
kind = "sandbox"
"""


@dataclass
class Outcome:
    planting: Planting
    value: str
    returncode: int
    stdout: str
    stderr: str
    written: dict[str, bytes]  # files the run (or the report after it) created or changed
    paths_in_logs_allowed: bool


def _snapshot(root: Path) -> dict[str, bytes]:
    found = {}
    for path in root.rglob("*"):
        if path.is_file() and not path.is_symlink():
            found[str(path.relative_to(root))] = path.read_bytes()
    return found


def _cavra(args: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    # CAVRA_DRILL_ACTOR wins over GITHUB_ACTOR: set only when the planting does not set either.
    actor = {} if {"CAVRA_DRILL_ACTOR", "GITHUB_ACTOR"} & set(env) else {"CAVRA_DRILL_ACTOR": "safety-check"}
    return subprocess.run(
        [sys.executable, "-m", "cavra_drill", *args],
        cwd=cwd,
        env=clean_env({**actor, **env}),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def carry_out(p: Planting, root: Path) -> Outcome:
    value = fakes()[p.kind]
    root.mkdir(parents=True)
    # Every input and output lives in its own directory, one of which may carry the fake.
    dirs = {name: root / name for name in ("workdir", "plan", "history", "rehearsal", "schedule", "runbook", "out")}
    for name in ("junit", "summary", "metrics", "attestation", "report"):
        dirs[name] = root / "out"
    if p.path_of is not None:
        dirs[p.path_of] = root / value / p.path_of
    for directory in dirs.values():
        directory.mkdir(parents=True, exist_ok=True)
    workdir = dirs["workdir"] / "cavra-drill-out"
    args = ["run", "--workdir", str(workdir)]
    if p.path_of == "workdir":
        # Everything where run puts it by default: the sample plan, evidence and history in the workdir.
        plan_path = workdir / "go-backend-rollback-plan.json"
        dirs["history"] = dirs["rehearsal"] = workdir
        history_path, evidence_path = workdir / "go-backend-rollback-drills.json", workdir / EVIDENCE
    else:
        plan_path = dirs["plan"] / "plan.json"
        plan_path.write_text(json.dumps({**plan(), **p.plan_changes}))
        history_path, evidence_path = dirs["history"] / "drills.json", dirs["rehearsal"] / "evidence.json"
        args += ["--plan", str(plan_path), "--history", str(history_path), "--rehearsal", str(evidence_path)]
    if p.schedule_changes is not None or p.path_of == "schedule":
        schedule_path = dirs["schedule"] / "schedule.json"
        fresh = {**schedule(), "next_due_at": "2099-02-01T00:00:00Z", **(p.schedule_changes or {})}
        schedule_path.write_text(json.dumps(fresh))
        args += ["--schedule", str(schedule_path)]
    if p.runbook_changes is not None or p.path_of == "runbook":
        fields = {"name": "sandbox", "description": "drill", "runbook_ref": "runbooks/x.md"}
        fields.update(p.runbook_changes or {})
        runbook_path = dirs["runbook"] / "runbook.toml"
        runbook_path.write_text(SANDBOX_RUNBOOK.format(**{k: json.dumps(v) for k, v in fields.items()}))
        args += ["--runbook", str(runbook_path)]
    args += ["--junit", str(dirs["junit"] / "junit.xml"), "--summary", str(dirs["summary"] / "summary.md")]
    args += ["--metrics", str(dirs["metrics"] / "drill.prom"), "--attestation", str(dirs["attestation"] / "att.json")]
    args += [*p.options, "--mode", "promoted"]
    before = _snapshot(root)
    done = _cavra(args, root, p.env)
    stdout, stderr = done.stdout, done.stderr
    if done.returncode in (0, 1):
        # The HTML page over what the run wrote.
        report = ["report", "--out", str(dirs["report"] / "report.html"), "--mode", "promoted"]
        report += ["--plan", str(plan_path), "--rehearsal", str(evidence_path), "--history", str(history_path)]
        if "--schedule" in args:
            report += ["--schedule", args[args.index("--schedule") + 1]]
        page = _cavra(report, root, p.env)
        stdout += page.stdout
        stderr += page.stderr
    after = _snapshot(root)
    written = {name: data for name, data in after.items() if before.get(name) != data}
    return Outcome(p, value, done.returncode, stdout, stderr, written, paths_in_logs_allowed=p.path_of is not None)


PLANTINGS = plantings()


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Outcome]]:
    root = tmp_path_factory.mktemp("safety")
    with ThreadPoolExecutor(max_workers=2) as pool:
        results = pool.map(lambda item: carry_out(item[1], root / str(item[0])), enumerate(PLANTINGS))
        yield {outcome.planting.id: outcome for outcome in results}


def _needle(value: str) -> list[bytes]:
    """The value as it could appear in a file: raw, JSON-escaped, XML-escaped, HTML-escaped."""
    import html

    forms = {value, json.dumps(value)[1:-1], html.escape(value), html.escape(value, quote=False)}
    return [form.encode() for form in forms]


def leaked_files(outcome: Outcome) -> list[str]:
    """The files the run wrote that hold the planted value, in any of its encodings."""
    needles = _needle(outcome.value)
    return sorted(name for name, data in outcome.written.items() if any(n in data for n in needles))


@pytest.mark.parametrize("planting", [p.id for p in PLANTINGS])
def test_planted_value_reaches_no_artifact(outcomes: dict[str, Outcome], planting: str) -> None:
    outcome = outcomes[planting]
    assert "Traceback" not in outcome.stderr, outcome.stderr
    assert outcome.returncode in (0, 1, 3), outcome.stderr
    leaked = leaked_files(outcome)
    assert leaked == [], f"{outcome.planting.kind} planted in {outcome.planting.where} reached {leaked}"


@pytest.mark.parametrize("planting", [p.id for p in PLANTINGS])
def test_a_refusal_writes_nothing(outcomes: dict[str, Outcome], planting: str) -> None:
    outcome = outcomes[planting]
    if outcome.returncode != 3:
        pytest.skip(f"not refused (exit {outcome.returncode}): the value stayed out of every file instead")
    assert sorted(outcome.written) == [], outcome.stderr.strip().splitlines()[-1:]


@pytest.mark.parametrize("planting", [p.id for p in PLANTINGS if p.path_of is None])
def test_planted_value_stays_out_of_the_logs(outcomes: dict[str, Outcome], planting: str) -> None:
    outcome = outcomes[planting]
    assert outcome.value not in outcome.stdout + outcome.stderr


def test_every_run_output_was_produced_somewhere(outcomes: dict[str, Outcome]) -> None:
    # Guard against a vacuous pass: the plantings that ran wrote every artifact kind.
    names = {Path(name).name for outcome in outcomes.values() for name in outcome.written}
    wanted = {"evidence.json", "drills.json", "production-readiness.json", "junit.xml", "summary.md", "drill.prom"}
    assert wanted | {"att.json", "report.html"} <= names, sorted(names)
    assert len([o for o in outcomes.values() if o.returncode in (0, 1)]) >= 5
