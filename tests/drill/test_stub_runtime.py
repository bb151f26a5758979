from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psutil
import pytest

from cavra_drill.drill.policy import DEFAULT_POLICY, PROBE_REQUESTS, evaluate
from cavra_drill.drill.sandbox import Sandbox
from cavra_drill.drill.stub_runtime import DIVERGENT_DECISION, EXIT_CRASH, EXIT_USAGE, write_stub

from .support import request_bytes, run_stub


def test_stub_is_an_executable_isolated_python_script(sandbox: Sandbox) -> None:
    mode = sandbox.runtime_path.stat().st_mode
    assert stat.S_IMODE(mode) == 0o755
    first_line = sandbox.runtime_path.read_text().splitlines()[0]
    assert first_line == f"#!{sys.executable} -I"


def test_normal_call_answers_what_the_policy_says_and_is_logged(sandbox: Sandbox) -> None:
    for request in PROBE_REQUESTS:
        done = run_stub(sandbox, request_bytes(request))
        assert done.returncode == 0, done.stderr
        assert json.loads(done.stdout) == {**evaluate(DEFAULT_POLICY, request), "backend": "go"}
    calls = sandbox.runtime_invocations()
    assert [c["action_type"] for c in calls] == [r["action_type"] for r in PROBE_REQUESTS]
    assert all(isinstance(c["pid"], int) and isinstance(c["monotonic_ns"], int) for c in calls)
    stamps = [int(str(c["monotonic_ns"])) for c in calls]
    assert stamps == sorted(stamps)
    assert len({c["pid"] for c in calls}) == len(calls)


def test_registry_argument_is_accepted(sandbox: Sandbox, tmp_path: Path) -> None:
    registry = tmp_path / "registry.json"
    registry.write_text("{}")
    args = ("--policy", str(sandbox.policy_path), f"--registry={registry}")
    done = run_stub(sandbox, request_bytes(PROBE_REQUESTS[0]), *args)
    assert done.returncode == 0, done.stderr


def test_concurrent_calls_log_one_whole_line_each(sandbox: Sandbox) -> None:
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda r: run_stub(sandbox, request_bytes(r)), PROBE_REQUESTS))
    assert all(done.returncode == 0 for done in results)
    raw = sandbox.invocation_log.read_text().splitlines()
    assert len(raw) == len(PROBE_REQUESTS)
    assert all(json.loads(line)["pid"] > 0 for line in raw)


def test_crash_incident_exits_70_with_a_short_message(sandbox: Sandbox) -> None:
    sandbox.set_incident("crash")
    done = run_stub(sandbox, request_bytes(PROBE_REQUESTS[0]))
    assert done.returncode == EXIT_CRASH
    assert done.stdout == b""
    assert done.stderr.decode().strip() == "cavra-runtime: injected crash"
    assert len(sandbox.runtime_invocations()) == 1


def test_hang_incident_never_answers_and_dies_with_the_callers_timeout(sandbox: Sandbox) -> None:
    sandbox.set_incident("hang")
    started = time.monotonic()
    with pytest.raises(subprocess.TimeoutExpired):
        run_stub(sandbox, request_bytes(PROBE_REQUESTS[0]), timeout=0.5)
    assert time.monotonic() - started < 3.0
    (call,) = sandbox.runtime_invocations()
    pid = call["pid"]
    assert isinstance(pid, int)
    # subprocess.run killed and reaped it; the pid is free (or, at worst, reused by someone else).
    if psutil.pid_exists(pid):
        assert "cavra-runtime" not in " ".join(psutil.Process(pid).cmdline())


def test_diverge_incident_answers_against_the_policy(sandbox: Sandbox) -> None:
    sandbox.set_incident("diverge")
    for request in PROBE_REQUESTS[:3]:
        done = run_stub(sandbox, request_bytes(request))
        assert done.returncode == 0
        answer = json.loads(done.stdout)
        assert answer == {**DIVERGENT_DECISION, "backend": "go"}
        assert answer["rule_id"] != evaluate(DEFAULT_POLICY, request)["rule_id"]


def test_clearing_the_incident_restores_normal_answers(sandbox: Sandbox) -> None:
    sandbox.set_incident("crash")
    sandbox.set_incident(None)
    assert run_stub(sandbox, request_bytes(PROBE_REQUESTS[0])).returncode == 0


@pytest.mark.parametrize(
    ("payload", "args", "message"),
    [
        (b"{not json", (), "stdin is not a JSON object"),
        (b"[1, 2]", (), "stdin is not a JSON object"),
        (b"", (), "stdin is not a JSON object"),
        (b"{}", ("--policy",), "--policy needs a path"),
        (b"{}", ("--verbose",), "unknown argument"),
        (b"{}", ("--registry", "r.json"), "--policy is required"),
        (b'{"action_type": "read_file"}', ("--policy", "/nonexistent/policy.json"), "policy is not a readable"),
    ],
)
def test_bad_input_exits_2_without_a_traceback(
    sandbox: Sandbox, payload: bytes, args: tuple[str, ...], message: str
) -> None:
    done = run_stub(sandbox, payload, *args)
    assert done.returncode == EXIT_USAGE
    assert done.stdout == b""
    err = done.stderr.decode()
    assert message in err
    assert "Traceback" not in err
    # Even a refused call is a call: the log must show the runtime was invoked.
    assert len(sandbox.runtime_invocations()) == 1


def test_unwritable_log_fails_the_call_instead_of_hiding_it(tmp_path: Path, sandbox: Sandbox) -> None:
    stub = write_stub(
        tmp_path / "other-bin",
        invocation_log=tmp_path / "missing-dir" / "calls.jsonl",
        incident_file=sandbox.incident_file,
    )
    done = subprocess.run(
        [str(stub), "--policy", str(sandbox.policy_path)],
        input=request_bytes(PROBE_REQUESTS[0]),
        capture_output=True,
        timeout=10,
        check=False,
    )
    assert done.returncode == 74
    assert b"invocation log" in done.stderr


@pytest.mark.parametrize("python", ["/opt/my python/bin/python", "/x" * 200, ""])
def test_write_stub_refuses_interpreters_a_shebang_cannot_name(tmp_path: Path, python: str) -> None:
    with pytest.raises(ValueError, match="shebang"):
        write_stub(tmp_path, invocation_log=tmp_path / "l", incident_file=tmp_path / "i", python=python)


def test_stub_ignores_the_callers_python_environment(sandbox: Sandbox, tmp_path: Path) -> None:
    # -I: a hostile PYTHONPATH with a fake `json` must not change what the stub runs.
    (tmp_path / "json.py").write_text("raise SystemExit(99)\n")
    env = {**os.environ, "PYTHONPATH": str(tmp_path), "PYTHONSTARTUP": str(tmp_path / "json.py")}
    done = subprocess.run(
        [str(sandbox.runtime_path), "--policy", str(sandbox.policy_path)],
        input=request_bytes(PROBE_REQUESTS[0]),
        capture_output=True,
        env=env,
        timeout=10,
        check=False,
    )
    assert done.returncode == 0, done.stderr
