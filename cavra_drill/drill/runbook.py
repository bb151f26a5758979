"""Machine-readable runbooks (TOML) that the drill engine executes.

A runbook names its target and the steps of the rollback. Two kinds of target exist:

- `sandbox`: the simulated deployment (stub Go runtime + decision service); the default drill
  is `cavra_drill/runbooks/sandbox.toml`.
- `commands`: a real deployment driven by operator-supplied commands: switch the mode,
  restart, verify (a command, or an HTTP GET with an expected status and body), each with its
  own timeout, run without a shell unless the step asks for one (`shell = "..."`).

Runbooks are code: their commands run with the operator's privileges (docs/security.md). This
module only parses and checks them; any problem is one line naming the key (exit 3).
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

from cavra_drill.errors import InputError

RUNBOOK_SCHEMA = "cavra-drill.runbook.v1"
DEFAULT_RUNBOOK_REF = "runbooks/go-backend-python-fallback.md"
SANDBOX_RUNBOOK = "sandbox.toml"
MAX_RUNBOOK_BYTES = 1 << 20


@dataclass(frozen=True)
class CommandCheck:
    """A program to run: `argv` directly, or `shell` through /bin/sh when the runbook asks."""

    argv: tuple[str, ...] | None
    shell: str | None
    timeout_seconds: float
    env: dict[str, str] = field(default_factory=dict)

    @property
    def command(self) -> list[str]:
        if self.shell is not None:
            return ["/bin/sh", "-c", self.shell]
        assert self.argv is not None
        return list(self.argv)


@dataclass(frozen=True)
class HttpCheck:
    """An HTTP GET that passes on the expected status and, if given, a substring of the body."""

    url: str
    expect_status: int
    expect_body_contains: str | None
    timeout_seconds: float


Check = CommandCheck | HttpCheck


@dataclass(frozen=True)
class SandboxTarget:
    stop_grace_seconds: float = 3.0
    baseline_ready_seconds: float = 20.0


@dataclass(frozen=True)
class CommandsTarget:
    switch_mode: CommandCheck
    restart: CommandCheck
    verify: Check
    baseline: Check | None = None
    retry_interval_seconds: float = 0.5


@dataclass(frozen=True)
class Runbook:
    path: str
    name: str
    description: str
    runbook_ref: str
    target: SandboxTarget | CommandsTarget

    @property
    def kind(self) -> str:
        return "sandbox" if isinstance(self.target, SandboxTarget) else "commands"


class _Keys:
    """Reads one TOML table, naming every problem by its dotted key, and refusing unknown keys."""

    def __init__(self, path: str, table: dict[str, Any], prefix: str) -> None:
        self.path, self.table, self.prefix = path, table, prefix
        self.seen: set[str] = set()

    def fail(self, key: str, problem: str) -> InputError:
        return InputError(f"runbook {self.path}: key '{self.prefix}{key}': {problem}")

    def get(self, key: str) -> Any:
        self.seen.add(key)
        return self.table.get(key)

    def text(self, key: str, *, default: str | None = None) -> str:
        value = self.get(key)
        if value is None and default is not None:
            return default
        if not isinstance(value, str) or not value.strip():
            raise self.fail(key, "must be a non-empty string")
        return value

    def seconds(self, key: str, *, default: float | None = None) -> float:
        value = self.get(key)
        if value is None and default is not None:
            return default
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or value <= 0:
            raise self.fail(key, "must be a positive number of seconds")
        return float(value)

    def sub(self, key: str, *, required: bool = True) -> _Keys | None:
        value = self.get(key)
        if value is None and not required:
            return None
        if not isinstance(value, dict):
            raise self.fail(key, "must be a table")
        return _Keys(self.path, value, f"{self.prefix}{key}.")

    def done(self) -> None:
        unknown = sorted(set(self.table) - self.seen)
        if unknown:
            raise self.fail(unknown[0], "is not a known key (a typo?)")


def _command(keys: _Keys) -> CommandCheck:
    argv, shell = keys.get("argv"), keys.get("shell")
    if (argv is None) == (shell is None):
        raise keys.fail("argv", "give exactly one of 'argv' (a list, run directly) or 'shell' (a string)")
    if argv is not None and (not isinstance(argv, list) or not argv or not all(isinstance(a, str) and a for a in argv)):
        raise keys.fail("argv", "must be a non-empty list of non-empty strings")
    if shell is not None and (not isinstance(shell, str) or not shell.strip()):
        raise keys.fail("shell", "must be a non-empty string")
    env = keys.get("env") or {}
    if not isinstance(env, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in env.items()):
        raise keys.fail("env", "must be a table of strings")
    check = CommandCheck(
        argv=tuple(argv) if argv is not None else None,
        shell=shell,
        timeout_seconds=keys.seconds("timeout_seconds"),
        env=dict(env),
    )
    keys.done()
    return check


def _check(keys: _Keys) -> Check:
    if "url" not in keys.table:
        return _command(keys)
    url = keys.text("url")
    if not url.startswith(("http://", "https://")):
        raise keys.fail("url", "must be an http:// or https:// URL")
    status = keys.get("expect_status")
    if status is None:
        status = 200
    if isinstance(status, bool) or not isinstance(status, int) or not 100 <= status <= 599:
        raise keys.fail("expect_status", "must be an HTTP status code (100-599)")
    contains = keys.get("expect_body_contains")
    if contains is not None and not isinstance(contains, str):
        raise keys.fail("expect_body_contains", "must be a string")
    check = HttpCheck(url, status, contains, keys.seconds("timeout_seconds"))
    keys.done()
    return check


def parse_runbook(path: str, text: str) -> Runbook:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"runbook {path}: not valid TOML: {exc}") from None
    top = _Keys(path, data, "")
    if top.get("schema_version") != RUNBOOK_SCHEMA:
        raise top.fail("schema_version", f"must be {RUNBOOK_SCHEMA!r}")
    name = top.text("name")
    description = top.text("description", default="-")
    runbook_ref = top.text("runbook_ref", default=DEFAULT_RUNBOOK_REF)
    target_keys = top.sub("target")
    assert target_keys is not None
    kind = target_keys.get("kind")
    target: SandboxTarget | CommandsTarget
    if kind == "sandbox":
        target = SandboxTarget(
            stop_grace_seconds=target_keys.seconds("stop_grace_seconds", default=SandboxTarget.stop_grace_seconds),
            baseline_ready_seconds=target_keys.seconds(
                "baseline_ready_seconds", default=SandboxTarget.baseline_ready_seconds
            ),
        )
        target_keys.done()
    elif kind == "commands":
        retry = target_keys.seconds("retry_interval_seconds", default=CommandsTarget.retry_interval_seconds)
        target_keys.done()
        switch, restart, verify = (top.sub(step) for step in ("switch_mode", "restart", "verify"))
        assert switch is not None and restart is not None and verify is not None
        baseline = top.sub("baseline", required=False)
        target = CommandsTarget(
            switch_mode=_command(switch),
            restart=_command(restart),
            verify=_check(verify),
            baseline=_check(baseline) if baseline is not None else None,
            retry_interval_seconds=retry,
        )
    else:
        raise target_keys.fail("kind", "must be 'sandbox' or 'commands'")
    top.done()
    return Runbook(path=path, name=name, description=description, runbook_ref=runbook_ref, target=target)


def load_runbook(path: str | None) -> Runbook:
    """The runbook at `path`; None means the packaged default, the simulated sandbox drill."""
    if path is None:
        text = resources.files("cavra_drill.runbooks").joinpath(SANDBOX_RUNBOOK).read_text(encoding="utf-8")
        return parse_runbook(f"(built-in) {SANDBOX_RUNBOOK}", text)
    from cavra_drill.store.documents import NotAFile, Unreadable, read_file_bytes

    try:
        # Bounded and non-blocking: a FIFO or /dev/zero given as a runbook must not hang us.
        raw = read_file_bytes(path, limit=MAX_RUNBOOK_BYTES)
    except NotAFile:
        raise InputError(f"runbook {path}: cannot read it (not a regular file)") from None
    except Unreadable as exc:
        raise InputError(f"runbook {path}: cannot read it ({exc})") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise InputError(f"runbook {path}: not UTF-8") from None
    return parse_runbook(path, text)
