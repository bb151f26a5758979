"""Runbook files: every one in runbooks/ is valid; a malformed one is one line naming the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from cavra_drill.drill.runbook import CommandsTarget, HttpCheck, SandboxTarget, load_runbook, parse_runbook
from cavra_drill.errors import InputError

REPO = Path(__file__).resolve().parents[2]
RUNBOOKS = sorted((REPO / "runbooks").rglob("*.toml"))

GOOD_COMMANDS = """
schema_version = "cavra-drill.runbook.v1"
name = "svc"
[target]
kind = "commands"
[switch_mode]
argv = ["true"]
timeout_seconds = 5
[restart]
shell = "exit 0"
timeout_seconds = 5
[verify]
url = "http://127.0.0.1:9/backend"
timeout_seconds = 1
"""


def test_the_repository_has_runbooks_to_check() -> None:
    assert {p.name for p in RUNBOOKS} >= {"sandbox.toml", "http-service.toml"}


@pytest.mark.parametrize("path", RUNBOOKS, ids=lambda p: str(p.relative_to(REPO)))
def test_every_runbook_in_the_repository_is_valid(path: Path) -> None:
    runbook = load_runbook(str(path))
    assert runbook.name
    assert runbook.runbook_ref == "runbooks/go-backend-python-fallback.md"
    assert (REPO / runbook.runbook_ref).is_file()


def test_the_default_drill_is_the_packaged_sandbox_runbook_and_the_repository_shows_the_same_file() -> None:
    packaged = load_runbook(None)
    assert isinstance(packaged.target, SandboxTarget)
    assert (REPO / "runbooks" / "sandbox.toml").read_text() == (
        REPO / "cavra_drill" / "runbooks" / "sandbox.toml"
    ).read_text()


def test_a_commands_runbook_parses_into_its_steps() -> None:
    runbook = parse_runbook("svc.toml", GOOD_COMMANDS)
    assert isinstance(runbook.target, CommandsTarget)
    assert runbook.target.switch_mode.command == ["true"]
    assert runbook.target.restart.command == ["/bin/sh", "-c", "exit 0"]
    assert isinstance(runbook.target.verify, HttpCheck)
    assert runbook.target.verify.expect_status == 200


@pytest.mark.parametrize(
    ("old", "new", "key"),
    [
        ('schema_version = "cavra-drill.runbook.v1"', 'schema_version = "v2"', "schema_version"),
        ('kind = "commands"', 'kind = "ssh"', "target.kind"),
        ('argv = ["true"]', "argv = []", "switch_mode.argv"),
        ('argv = ["true"]', 'argv = ["true"]\nshell = "true"', "switch_mode.argv"),
        ("timeout_seconds = 5\n[restart]", "timeout_seconds = -1\n[restart]", "switch_mode.timeout_seconds"),
        ("timeout_seconds = 5\n[restart]", "timeout_seconds = true\n[restart]", "switch_mode.timeout_seconds"),
        ('url = "http://127.0.0.1:9/backend"', 'url = "ftp://x/y"', "verify.url"),
        (
            'url = "http://127.0.0.1:9/backend"',
            'url = "http://127.0.0.1:9/b"\nexpect_status = 700',
            "verify.expect_status",
        ),
        ("[restart]", "[restart]\ntimeout_secnds = 3", "restart.timeout_secnds"),
        ('name = "svc"', "", "name"),
        ("[verify]", "[verifyy]", "verify"),
    ],
)
def test_a_malformed_runbook_names_the_key(old: str, new: str, key: str) -> None:
    text = GOOD_COMMANDS.replace(old, new, 1)
    assert text != GOOD_COMMANDS
    with pytest.raises(InputError) as error:
        parse_runbook("svc.toml", text)
    message = error.value.message
    assert "\n" not in message
    assert message.startswith("runbook svc.toml: ")
    assert f"'{key}'" in message or key in message


def test_not_toml_and_not_utf8_are_one_line_errors(tmp_path: Path) -> None:
    broken = tmp_path / "broken.toml"
    broken.write_text("name = ")
    with pytest.raises(InputError, match="not valid TOML"):
        load_runbook(str(broken))
    binary = tmp_path / "binary.toml"
    binary.write_bytes(b"\xff\xfe")
    with pytest.raises(InputError, match="not UTF-8"):
        load_runbook(str(binary))
    with pytest.raises(InputError, match="cannot read"):
        load_runbook(str(tmp_path / "absent.toml"))
