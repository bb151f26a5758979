"""The examples in docs/ only use commands and options that the real CLI has.

Every YAML file in docs/examples must parse, every runbook (TOML, also when embedded in a
Kubernetes ConfigMap) must be accepted by cavra-drill's own runbook parser, and every
`cavra-drill ...` invocation (in the YAML files, and in the code of every page under docs/) is
checked against the command tree typer builds: each subcommand must exist, and each option
must belong to the command it is given to.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from cavra_drill.contract.documents import parse_document
from cavra_drill.contract.models import DrillSchedule
from cavra_drill.contract.plan import judge_plan
from cavra_drill.docs_reference import CommandDoc, command_tree
from cavra_drill.drill.runbook import parse_runbook

DOCS = Path(__file__).resolve().parents[2] / "docs"
EXAMPLES = DOCS / "examples"
YAML_FILES = sorted([*EXAMPLES.glob("*.yml"), *EXAMPLES.glob("*.yaml")])
TOML_FILES = sorted(EXAMPLES.glob("*.toml"))
PAGES = sorted(DOCS.rglob("*.md"))

PROGRAM = re.compile(r"(?<![\w.-])(?:[\w./-]*/)?cavra-drill(?![\w.-])")
# Shell words that end one command: pipes, lists, redirections, subshell ends.
STOP_WORDS = frozenset({"|", "||", "&", "&&", ";", ";;", ">", ">>", "<", "<<", "(", ")", "2>", "2>&1"})
# `[OPTIONS]`, `FILES...`, `<path>`, `KIND`: placeholders in usage lines, not real words.
PLACEHOLDER = re.compile(r"[\[<{].*|[A-Z][A-Z0-9_.…|-]*(\.\.\.)?|\.\.\.|…")
FENCE = re.compile(r"^```[^\n]*\n(.*?)^```", re.MULTILINE | re.DOTALL)
INLINE_CODE = re.compile(r"`([^`\n]+)`")
# YAML lists that are one program's argv (Kubernetes containers), not lists of shell lines.
ARGV_KEYS = frozenset({"command", "args"})


@dataclass(frozen=True)
class Invocation:
    where: str
    words: tuple[str, ...]
    """The words after the program name."""


def split_words(line: str) -> list[str]:
    lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    try:
        return list(lexer)
    except ValueError:  # unbalanced quotes in a YAML scalar: plain words are good enough here
        return line.split()


def invocations_in_text(text: str, where: str) -> Iterator[Invocation]:
    text = re.sub(r"\\\n\s*", " ", text)  # shell line continuations
    for number, line in enumerate(text.splitlines(), 1):
        if not PROGRAM.search(line):
            continue
        words = split_words(line)
        for index, word in enumerate(words):
            if not PROGRAM.fullmatch(word):
                continue
            rest: list[str] = []
            for following in words[index + 1 :]:
                if following in STOP_WORDS or PROGRAM.fullmatch(following):
                    break
                rest.append(following)
            yield Invocation(f"{where}:{number}", tuple(rest))


def invocations_in_yaml(value: object, where: str, key: str = "") -> Iterator[Invocation]:
    if isinstance(value, str):
        yield from invocations_in_text(value, where)
    elif isinstance(value, dict):
        for child_key, child in value.items():
            yield from invocations_in_yaml(child, f"{where}.{child_key}", str(child_key))
    elif isinstance(value, list):
        argv = key in ARGV_KEYS and all(isinstance(item, str) for item in value)
        if argv and value and PROGRAM.fullmatch(value[0]):
            yield Invocation(where, tuple(value[1:]))  # an argv list (Kubernetes `command:`)
            return
        for index, child in enumerate(value):
            yield from invocations_in_yaml(child, f"{where}[{index}]")


def invocations_in_page(path: Path) -> Iterator[Invocation]:
    text = path.read_text(encoding="utf-8")
    name = path.relative_to(DOCS).as_posix()
    for block in FENCE.finditer(text):
        yield from invocations_in_text(block.group(1), f"docs/{name} (code block)")
    prose = FENCE.sub("", text)
    for span in INLINE_CODE.finditer(prose):
        yield from invocations_in_text(span.group(1), f"docs/{name} (inline code)")


def load_yaml(path: Path) -> list[object]:
    return list(yaml.safe_load_all(path.read_text(encoding="utf-8")))


def problems_with(invocation: Invocation, root: CommandDoc) -> list[str]:
    """What in one invocation the CLI does not have."""
    node = root
    problems = []
    words = list(invocation.words)
    index = 0
    while index < len(words):
        word = words[index]
        index += 1
        if word.startswith("-") and word != "-":
            name = word.split("=", 1)[0]
            if name not in node.option_names:
                problems.append(f"`{node.title}` has no option {name}")
                continue
            param = next((p for p in node.params if name == p.name or name in p.aliases), None)
            if param is not None and not param.is_flag and "=" not in word:
                index += 1  # its value
        elif PLACEHOLDER.fullmatch(word):
            continue
        elif node.subcommands:
            sub = node.subcommand(word)
            if sub is None:
                problems.append(f"`{node.title}` has no command {word!r}")
                break
            node = sub
    return [f"{invocation.where}: {problem}" for problem in problems]


@pytest.fixture(scope="module")
def cli_tree() -> CommandDoc:
    return command_tree()


def test_there_are_examples() -> None:
    names = {p.name for p in YAML_FILES}
    assert {"github-actions.yml", "gitlab-ci.yml", "kubernetes-cronjob.yaml"} <= names


@pytest.mark.parametrize("path", YAML_FILES, ids=lambda p: p.name)
def test_yaml_example_parses_and_drills(path: Path) -> None:
    documents = load_yaml(path)
    assert documents and all(isinstance(d, dict) for d in documents), f"{path.name}: not YAML mappings"
    found = [i for d in documents for i in invocations_in_yaml(d, path.name)]
    assert any(i.words[:1] == ("run",) for i in found), f"{path.name}: no `cavra-drill run`"


def embedded_runbooks() -> Iterator[tuple[str, str]]:
    for path in YAML_FILES:
        for document in load_yaml(path):
            if isinstance(document, dict) and document.get("kind") == "ConfigMap":
                for key, text in (document.get("data") or {}).items():
                    if str(key).endswith(".toml"):
                        yield f"{path.name}:{key}", str(text)


def all_runbooks() -> list[tuple[str, str]]:
    files = [(p.name, p.read_text(encoding="utf-8")) for p in TOML_FILES]
    return files + list(embedded_runbooks())


@pytest.mark.parametrize(("where", "text"), all_runbooks(), ids=lambda v: v if "\n" not in v else "")
def test_example_runbook_is_accepted(where: str, text: str) -> None:
    runbook = parse_runbook(where, text)
    assert runbook.kind in ("sandbox", "commands")


def test_every_invocation_uses_real_commands_and_options(cli_tree: CommandDoc) -> None:
    found: list[Invocation] = []
    for path in YAML_FILES:
        for document in load_yaml(path):
            found.extend(invocations_in_yaml(document, f"docs/examples/{path.name}"))
    for page in PAGES:
        found.extend(invocations_in_page(page))
    assert len(found) >= 20, "the invocation finder found almost nothing: is it broken?"
    problems = [p for invocation in found for p in problems_with(invocation, cli_tree)]
    assert problems == [], "examples use what the CLI does not have:\n" + "\n".join(problems)


def test_the_checker_catches_unknown_commands_and_options(cli_tree: CommandDoc) -> None:
    text = (
        "cavra-drill run --environment staging --no-such-option \\\n  --json | tee out.json\n"
        "cavra-drill teleport --now\n"
        "CAVRA_GO_BACKEND_MODE=promoted .venv/bin/cavra-drill readiness --report=drills --json\n"
        "# cavra-drill-out is a directory, cavra_drill a package\n"
        "cavra-drill validate FILE... --kind history\n"
    )
    found = list(invocations_in_text(text, "t"))
    assert [i.words[:1] for i in found] == [("run",), ("teleport",), ("readiness",), ("validate",)]
    problems = [p for invocation in found for p in problems_with(invocation, cli_tree)]
    assert problems == [
        "t:1: `cavra-drill run` has no option --no-such-option",
        "t:2: `cavra-drill` has no command 'teleport'",
    ]
    pod = {"command": ["cavra-drill", "run", "--bogus"], "tags": ["cavra-drill", "x"]}
    argv = list(invocations_in_yaml(pod, "k8s"))
    expected = ["k8s.command: `cavra-drill run` has no option --bogus"]
    assert [p for i in argv for p in problems_with(i, cli_tree)] == expected


def single_document(name: str) -> dict[Any, Any]:
    (document,) = load_yaml(EXAMPLES / name)
    assert isinstance(document, dict)
    return document


def test_github_actions_example_schedules_one_drill_per_environment_at_a_time() -> None:
    workflow = single_document("github-actions.yml")
    triggers = workflow["on"] if "on" in workflow else workflow[True]  # YAML 1.1 reads a bare `on` as true
    assert {"schedule", "workflow_dispatch"} <= set(triggers)
    job = workflow["jobs"]["drill"]
    assert job["strategy"]["matrix"]["environment"]
    assert "${{ matrix.environment }}" in job["concurrency"]["group"]
    assert job["concurrency"]["cancel-in-progress"] is False
    steps = job["steps"]
    drill = next(s["run"] for s in steps if "cavra-drill run" in s.get("run", ""))
    for option in ("--environment", "--junit", "--attestation", "--json"):
        assert option in drill
    uses = {s["uses"].split("@")[0]: s for s in steps if "uses" in s}
    assert uses["actions/upload-artifact"]["if"] == "always()"
    assert uses["actions/attest"]["with"]["predicate-type"] == "https://in-toto.io/attestation/test-result/v0.1"


def test_gitlab_example_runs_on_schedules_one_drill_per_environment_at_a_time() -> None:
    job = single_document("gitlab-ci.yml")["cavra-rollback-drill"]
    assert {"if": '$CI_PIPELINE_SOURCE == "schedule"'} in job["rules"]
    assert "$DRILL_ENVIRONMENT" in job["resource_group"]
    assert job["parallel"]["matrix"][0]["DRILL_ENVIRONMENT"]
    assert job["artifacts"]["when"] == "always"
    assert job["artifacts"]["reports"]["junit"] == "drill-out/junit.xml"
    assert any("--junit drill-out/junit.xml" in line for line in job["script"])


def test_kubernetes_example_never_overlaps_or_retries_and_keeps_the_history_on_its_volume() -> None:
    documents = {d["kind"]: d for d in load_yaml(EXAMPLES / "kubernetes-cronjob.yaml") if isinstance(d, dict)}
    cron = documents["CronJob"]["spec"]
    assert cron["concurrencyPolicy"] == "Forbid"
    assert cron["startingDeadlineSeconds"] > 0
    job = cron["jobTemplate"]["spec"]
    assert job["backoffLimit"] == 0
    pod = job["template"]["spec"]
    assert pod["restartPolicy"] == "Never"
    (container,) = pod["containers"]
    argv = container["command"]
    workdir = argv[argv.index("--workdir") + 1]
    mounts = {m["name"]: m["mountPath"] for m in container["volumeMounts"]}
    claims = {
        v["name"]: v["persistentVolumeClaim"]["claimName"] for v in pod["volumes"] if "persistentVolumeClaim" in v
    }
    (volume,) = claims
    assert mounts[volume] == workdir
    assert claims[volume] == documents["PersistentVolumeClaim"]["metadata"]["name"]
    config = documents["ConfigMap"]["data"]
    runbook = argv[argv.index("--runbook") + 1]
    assert runbook.rsplit("/", 1)[1] in config
    plan = judge_plan(parse_document("plan", config["go-backend-rollback-plan.json"].encode()))
    assert plan.valid and plan.approved, plan.message
    DrillSchedule.model_validate_json(config["go-backend-rollback-drill-schedule.json"])
    env = {e["name"]: e["value"] for e in container["env"]}
    for name in ("CAVRA_GO_ROLLBACK_PLAN", "CAVRA_GO_ROLLBACK_DRILL_SCHEDULE"):
        assert env[name].rsplit("/", 1)[1] in config
