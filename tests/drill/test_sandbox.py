from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from cavra_drill.contract.settings import ENV_MODE, ENV_RUNTIME_PATH, ENV_RUNTIME_POLICY, ENV_RUNTIME_TIMEOUT
from cavra_drill.drill.policy import DEFAULT_POLICY
from cavra_drill.drill.processes import MARKER_ENV, OWNER_ENV
from cavra_drill.drill.sandbox import Sandbox, create_sandbox, remove_stale_sandboxes
from cavra_drill.drill.service import FAULT_ENV
from cavra_drill.errors import EnvironmentFault
from drill.conftest import DrillIds


def test_layout(sandbox: Sandbox) -> None:
    root = sandbox.root
    assert sandbox.runtime_path == root / "bin" / "cavra-runtime"
    assert os.access(sandbox.runtime_path, os.X_OK)
    assert json.loads(sandbox.policy_path.read_text()) == DEFAULT_POLICY
    assert sandbox.invocation_log == root / "runtime" / "invocations.jsonl"
    assert sandbox.invocation_log.read_bytes() == b""
    assert sandbox.incident_file == root / "runtime" / "incident"
    assert not sandbox.incident_file.exists()
    assert sandbox.logs_dir.is_dir()
    assert len(os.fsencode(sandbox.socket_path)) <= 103


def test_a_deep_root_gets_a_short_private_socket_directory(tmp_path: Path, drill_id: str) -> None:
    deep = tmp_path.joinpath(*["deeply-nested-directory"] * 6)
    box = create_sandbox(deep, drill_id=drill_id)
    try:
        assert box.socket_dir is not None
        assert box.socket_path.parent == box.socket_dir
        assert box.socket_dir.name.startswith("cavra-drill-")
        assert len(os.fsencode(box.socket_path)) <= 103
        assert (box.socket_dir.stat().st_mode & 0o077) == 0
    finally:
        box.remove()
    assert not box.root.exists()
    assert not box.socket_dir.exists()


def test_recreating_resets_the_log_and_the_incident(tmp_path: Path, drill_id: str) -> None:
    box = create_sandbox(tmp_path / "s", drill_id=drill_id)
    box.invocation_log.write_text('{"pid": 1}\n')
    box.set_incident("crash")
    # While its drill holds it, a sandbox cannot be laid out again under it.
    with pytest.raises(EnvironmentFault, match="in use by another drill"):
        create_sandbox(tmp_path / "s", drill_id=drill_id)
    box.keep()  # the first drill is over (and left it for inspection)
    again = create_sandbox(tmp_path / "s", drill_id=drill_id)
    assert again.runtime_invocations() == []
    assert not again.incident_file.exists()
    again.remove()


def test_stale_sandboxes_are_removed_and_live_or_kept_ones_stay(tmp_path: Path, drill_ids: DrillIds) -> None:
    live = create_sandbox(tmp_path / "live", drill_id=drill_ids.new())
    kept = create_sandbox(tmp_path / "kept", drill_id=drill_ids.new())
    kept.keep()
    dead = create_sandbox(tmp_path / "dead", drill_id=drill_ids.new())
    dead._release()  # what the kernel does when a drill dies: its lock goes with it
    assert remove_stale_sandboxes(tmp_path) == [dead.root]
    assert live.root.exists() and kept.root.exists() and not dead.root.exists()
    live.remove()


def test_set_incident(sandbox: Sandbox) -> None:
    sandbox.set_incident("hang")
    assert sandbox.incident_file.read_text().strip() == "hang"
    sandbox.set_incident("diverge")
    assert sandbox.incident_file.read_text().strip() == "diverge"
    sandbox.set_incident(None)
    assert not sandbox.incident_file.exists()
    sandbox.set_incident(None)
    with pytest.raises(ValueError, match="unknown incident"):
        sandbox.set_incident("explode")
    assert list(sandbox.incident_file.parent.glob(".*")) == []


def test_runtime_invocations_tolerate_a_torn_last_line(sandbox: Sandbox) -> None:
    sandbox.invocation_log.write_text(
        '{"pid": 10, "monotonic_ns": 1, "action_type": "read_file"}\n'
        "garbage\n"
        '{"pid": 11, "monotonic_ns": 2, "action_type": "write_file"}\n'
        '{"pid": 12, "monoton'
    )
    assert [c["pid"] for c in sandbox.runtime_invocations()] == [10, 11]


def test_service_env_replaces_inherited_cavra_settings(
    sandbox: Sandbox, drill_id: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(ENV_MODE, "promoted")
    monkeypatch.setenv(FAULT_ENV, "fallback-broken")
    monkeypatch.setenv("CAVRA_GO_ROLLBACK_PLAN", "/elsewhere/plan.json")
    monkeypatch.setenv(MARKER_ENV, "1:someone-elses-drill")
    env = sandbox.service_env("disabled", fault=None, drill_id=drill_id, timeout_seconds=0.5)
    assert env[ENV_MODE] == "disabled"
    assert FAULT_ENV not in env
    assert "CAVRA_GO_ROLLBACK_PLAN" not in env
    assert env[ENV_RUNTIME_PATH] == str(sandbox.runtime_path)
    assert env[ENV_RUNTIME_POLICY] == str(sandbox.policy_path)
    assert float(env[ENV_RUNTIME_TIMEOUT]) == 0.5
    assert env[MARKER_ENV] == f"{os.getpid()}:{drill_id}"
    assert env[OWNER_ENV] == str(os.getpid())
    assert env["PATH"] == os.environ["PATH"]
    with_fault = sandbox.service_env("promoted", fault="slow-restart=1", drill_id=drill_id, timeout_seconds=5)
    assert with_fault[FAULT_ENV] == "slow-restart=1"
