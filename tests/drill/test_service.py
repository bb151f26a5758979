from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import anyio
import psutil
import pytest
from waiting import poll_until

from cavra_drill.drill.policy import DEFAULT_POLICY, PROBE_REQUESTS, evaluate
from cavra_drill.drill.sandbox import Sandbox
from cavra_drill.drill.service import (
    DISABLED_REASON,
    EXIT_CONFIG,
    EXIT_ORPHANED,
    EXIT_SOCKET,
    READY_PREFIX,
    ConfigError,
    parse_faults,
)
from cavra_drill.drill.service_client import (
    ServiceDied,
    ServiceHandle,
    ServiceNotReady,
    ServiceProtocolError,
    ServiceUnavailable,
    start_service,
)

from .support import READY_TIMEOUT, child_env, serve

pytestmark = pytest.mark.anyio

EVALUATION_KEYS = {
    "mode",
    "selected_backend",
    "fallback_used",
    "fallback_reason",
    "parity_match",
    "go_decision",
    "python_decision",
}


def evaluation(answer: dict[str, object]) -> dict[str, object]:
    value = answer["evaluation"]
    assert isinstance(value, dict)
    assert set(value) == EVALUATION_KEYS
    return value


async def decide_all(service: ServiceHandle) -> list[dict[str, object]]:
    """Every probe at once, each on its own connection, answers in probe order."""
    answers: list[dict[str, object]] = [{} for _ in PROBE_REQUESTS]

    async def one(index: int) -> None:
        answers[index] = await service.decide(PROBE_REQUESTS[index])

    async with anyio.create_task_group() as group:
        for index in range(len(PROBE_REQUESTS)):
            group.start_soon(one, index)
    return answers


def shell_runtime(tmp_path: Path, body: str) -> Path:
    script = tmp_path / "fake-runtime"
    script.write_text("#!/bin/sh\ncat > /dev/null\n" + body + "\n")
    script.chmod(0o755)
    return script


async def test_promoted_mode_serves_go_decisions_in_parity(sandbox: Sandbox) -> None:
    async with serve(sandbox, "promoted") as service:
        assert service.mode == "promoted"
        answers = await decide_all(service)
        status = await service.status()
    for request, answer in zip(PROBE_REQUESTS, answers, strict=True):
        expected = evaluate(DEFAULT_POLICY, request)
        assert {k: answer[k] for k in expected} == expected
        ev = evaluation(answer)
        assert ev["mode"] == "promoted"
        assert ev["selected_backend"] == "go"
        assert ev["fallback_used"] is False
        assert ev["fallback_reason"] is None
        assert ev["parity_match"] is True
        assert ev["go_decision"] == expected
        assert ev["python_decision"] == expected
        assert answer["service_pid"] == service.pid
        assert isinstance(answer["answered_monotonic_ns"], int)
        assert answer["answered_monotonic_ns"] > service.ready_monotonic_ns
    calls = sandbox.runtime_invocations()
    assert Counter(c["action_type"] for c in calls) == Counter(r["action_type"] for r in PROBE_REQUESTS)
    assert status["runtime_calls"] == len(PROBE_REQUESTS)
    assert status["mode"] == "promoted"
    assert status["pid"] == service.pid


async def test_disabled_mode_never_calls_the_runtime(sandbox: Sandbox) -> None:
    # A crashing runtime would show up as a fallback if it were called at all.
    sandbox.set_incident("crash")
    async with serve(sandbox, "disabled") as service:
        assert service.mode == "disabled"
        answers = await decide_all(service)
        status = await service.status()
    assert sandbox.runtime_invocations() == []
    assert status["runtime_calls"] == 0
    assert status["mode"] == "disabled"
    for request, answer in zip(PROBE_REQUESTS, answers, strict=True):
        expected = evaluate(DEFAULT_POLICY, request)
        assert {k: answer[k] for k in expected} == expected
        assert evaluation(answer) == {
            "mode": "disabled",
            "selected_backend": "python",
            "fallback_used": False,
            "fallback_reason": DISABLED_REASON,
            "parity_match": None,
            "go_decision": None,
            "python_decision": expected,
        }


@pytest.mark.parametrize(
    ("incident", "reason_starts", "parity"),
    [
        ("crash", "go runtime error: exit code 70: cavra-runtime: injected crash", None),
        ("hang", "go runtime timeout after 0.5s", None),
        ("diverge", "go decision diverged from python", False),
    ],
)
async def test_runtime_incidents_fall_back_to_python(
    sandbox: Sandbox, incident: str, reason_starts: str, parity: bool | None
) -> None:
    request = PROBE_REQUESTS[1]
    expected = evaluate(DEFAULT_POLICY, request)
    async with serve(sandbox, "promoted", timeout_seconds=0.5) as service:
        sandbox.set_incident(incident)
        started = time.monotonic()
        answer = await service.decide(request)
        elapsed = time.monotonic() - started
    assert {k: answer[k] for k in expected} == expected
    ev = evaluation(answer)
    assert ev["selected_backend"] == "python"
    assert ev["fallback_used"] is True
    assert str(ev["fallback_reason"]).startswith(reason_starts), ev["fallback_reason"]
    assert ev["parity_match"] is parity
    assert ev["python_decision"] == expected
    if incident == "diverge":
        assert isinstance(ev["go_decision"], dict)
        assert ev["go_decision"]["rule_id"] == "go-stub-divergent"
    else:
        assert ev["go_decision"] is None
    if incident == "hang":
        assert 0.5 <= elapsed < 3.0
    (call,) = sandbox.runtime_invocations()
    pid = call["pid"]
    assert isinstance(pid, int)
    assert not psutil.pid_exists(pid) or "cavra-runtime" not in " ".join(psutil.Process(pid).cmdline())


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("echo 'not json'", "go runtime returned invalid JSON"),
        ('echo \'{"decision": "perhaps", "rule_id": "x", "severity": "low"}\'', "go runtime returned invalid JSON"),
        ("echo 'broken' >&2; exit 3", "go runtime error: exit code 3: broken"),
        ("kill -9 $$", "go runtime error: killed by signal 9"),
    ],
)
async def test_misbehaving_runtimes_fall_back_to_python(
    sandbox: Sandbox, tmp_path: Path, body: str, reason: str
) -> None:
    runtime = shell_runtime(tmp_path, body)
    async with serve(sandbox, "promoted", runtime_path=runtime) as service:
        ev = evaluation(await service.decide(PROBE_REQUESTS[0]))
    assert ev["selected_backend"] == "python"
    assert ev["fallback_used"] is True
    assert str(ev["fallback_reason"]).startswith(reason), ev["fallback_reason"]
    assert ev["parity_match"] is None


async def test_missing_runtime_falls_back_to_python(sandbox: Sandbox, tmp_path: Path) -> None:
    async with serve(sandbox, "promoted", runtime_path=tmp_path / "no-such-runtime") as service:
        ev = evaluation(await service.decide(PROBE_REQUESTS[0]))
    assert ev["fallback_used"] is True
    assert str(ev["fallback_reason"]).startswith("go runtime error: cannot start")


@pytest.mark.parametrize("mode", ["shadow", "enforce"])
async def test_shadow_and_enforce_decide_in_python_and_report_parity(sandbox: Sandbox, mode: str) -> None:
    async with serve(sandbox, mode) as service:
        ev = evaluation(await service.decide(PROBE_REQUESTS[0]))
    assert ev["mode"] == mode
    assert ev["selected_backend"] == "python"
    assert ev["fallback_used"] is False
    assert ev["parity_match"] is True
    assert len(sandbox.runtime_invocations()) == 1


async def test_unknown_mode_means_disabled(sandbox: Sandbox) -> None:
    async with serve(sandbox, "  PROMOTED-ish ") as service:
        assert service.mode == "disabled"
        assert (await service.status())["mode"] == "disabled"


async def test_fault_stop_ignores_sigterm_is_escalated(sandbox: Sandbox) -> None:
    async with serve(sandbox, "promoted", fault="stop-ignores-sigterm") as service:
        await service.decide(PROBE_REQUESTS[0])
        started = time.monotonic()
        report = await service.stop(0.5)
        elapsed = time.monotonic() - started
        assert report.escalated
        assert service.pid in report.killed
        assert not report.survivors
        assert service.returncode == -signal.SIGKILL
        assert 0.5 <= elapsed < 3.0
        # SIGKILL gave it no chance to clean up: the socket file is left behind.
        assert stat.S_ISSOCK(os.stat(sandbox.socket_path).st_mode)
    # ...and the next service takes over the stale socket.
    async with serve(sandbox, "disabled") as successor:
        assert (await successor.status())["mode"] == "disabled"


async def test_fault_slow_restart_delays_ready(sandbox: Sandbox) -> None:
    delay = 0.8
    started = time.monotonic_ns()
    async with serve(sandbox, "disabled", fault=f"slow-restart={delay}") as service:
        waited = (service.ready_monotonic_ns - started) / 1e9
        assert delay <= waited < delay + 2.0
        assert (await service.status())["mode"] == "disabled"


async def test_fault_fallback_broken_keeps_using_go_when_disabled(sandbox: Sandbox) -> None:
    async with serve(sandbox, "disabled", fault="fallback-broken") as service:
        assert service.mode == "promoted"
        ev = evaluation(await service.decide(PROBE_REQUESTS[0]))
        status = await service.status()
    assert ev["selected_backend"] == "go"
    assert ev["mode"] == "promoted"
    assert status["mode"] == "promoted"
    assert len(sandbox.runtime_invocations()) == 1


async def test_sigterm_stops_promptly_and_removes_the_socket(sandbox: Sandbox) -> None:
    async with serve(sandbox, "promoted") as service:
        assert sandbox.socket_path.exists()
        started = time.monotonic()
        os.kill(service.pid, signal.SIGTERM)
        with anyio.fail_after(2.0):
            code = await service.process.wait()
        assert time.monotonic() - started < 1.0
        assert code == 0
        assert not sandbox.socket_path.exists()
        with pytest.raises(ServiceDied) as died:
            await service.status()
        assert died.value.exit_code == 0


async def test_protocol_errors_keep_the_connection_usable(sandbox: Sandbox) -> None:
    messages = [
        b"{not json\n",
        b"[1, 2]\n",
        b'{"op": "explode"}\n',
        b'{"op": "decide", "request": "read_file"}\n',
        b"\n",
        b'{"op": "status"}\n',
        json.dumps({"op": "decide", "request": PROBE_REQUESTS[3]}).encode() + b"\n",
    ]
    async with serve(sandbox, "disabled") as service:
        async with await anyio.connect_unix(sandbox.socket_path) as stream:
            await stream.send(b"".join(messages))
            data = b""
            with anyio.fail_after(5):
                while data.count(b"\n") < 6:
                    data += await stream.receive()
        replies = [json.loads(line) for line in data.splitlines()]
        with pytest.raises(ServiceProtocolError, match="unknown op"):
            await service._ask({"op": "nothing"}, None)
    assert [set(r) for r in replies[:4]] == [{"error"}] * 4
    assert "not valid JSON" in replies[0]["error"]
    assert replies[4]["pid"] == service.pid
    assert replies[5]["rule_id"] == evaluate(DEFAULT_POLICY, PROBE_REQUESTS[3])["rule_id"]


async def test_connections_are_served_concurrently(sandbox: Sandbox, tmp_path: Path) -> None:
    # The runtime announces itself on a FIFO and then never answers: while one connection
    # waits on it, another must still be served.
    fifo = tmp_path / "runtime-started"
    os.mkfifo(fifo)
    runtime = shell_runtime(tmp_path, f"echo started > '{fifo}'\nexec sleep 60")
    async with serve(sandbox, "promoted", timeout_seconds=1.0, runtime_path=runtime) as service:
        async with anyio.create_task_group() as group:
            decided: list[float] = []

            async def slow_decide() -> None:
                await service.decide(PROBE_REQUESTS[0])
                decided.append(time.monotonic())

            group.start_soon(slow_decide)
            with anyio.fail_after(5):
                await anyio.to_thread.run_sync(fifo.read_text, abandon_on_cancel=True)
            status = await service.status(timeout=1.0)
            status_at = time.monotonic()
            assert not decided
        assert status["runtime_calls"] == 1
        assert decided[0] > status_at


async def test_a_service_that_fails_to_start_raises_service_died(sandbox: Sandbox) -> None:
    env = sandbox.service_env("promoted", fault=None, drill_id=sandbox.drill_id, timeout_seconds=1)
    env["CAVRA_GO_RUNTIME_POLICY"] = str(sandbox.root / "missing-policy.json")
    with pytest.raises(ServiceDied) as died:
        await start_service(sandbox, env, ready_timeout=READY_TIMEOUT)
    assert died.value.exit_code == EXIT_CONFIG
    assert "CAVRA_GO_RUNTIME_POLICY is not a readable JSON object" in died.value.last_stderr_line
    assert "Traceback" not in "".join(p.read_text() for p in sandbox.logs_dir.iterdir())


async def test_an_unknown_fault_is_refused(sandbox: Sandbox) -> None:
    env = sandbox.service_env("promoted", fault="stop-ignores-sigkill", drill_id=sandbox.drill_id, timeout_seconds=1)
    with pytest.raises(ServiceDied, match="unknown fault"):
        await start_service(sandbox, env, ready_timeout=READY_TIMEOUT)


async def test_a_service_that_is_not_ready_in_time_is_stopped(sandbox: Sandbox) -> None:
    env = sandbox.service_env("disabled", fault="slow-restart=30", drill_id=sandbox.drill_id, timeout_seconds=1)
    started = time.monotonic()
    with pytest.raises(ServiceNotReady):
        await start_service(sandbox, env, ready_timeout=0.3)
    assert time.monotonic() - started < 3.0
    # The autouse leak check proves the half-started service is gone.


async def test_a_second_service_on_a_live_socket_refuses_to_start(sandbox: Sandbox) -> None:
    async with serve(sandbox, "disabled") as first:
        env = sandbox.service_env("disabled", fault=None, drill_id=sandbox.drill_id, timeout_seconds=1)
        with pytest.raises(ServiceDied) as died:
            await start_service(sandbox, env, ready_timeout=READY_TIMEOUT)
        assert died.value.exit_code == EXIT_SOCKET
        assert (await first.status())["pid"] == first.pid


async def test_requests_to_a_stopped_service_fail_cleanly(sandbox: Sandbox) -> None:
    async with serve(sandbox, "disabled") as service:
        await service.stop(1.0)
        with pytest.raises(ServiceDied):
            await service.decide(PROBE_REQUESTS[0])
        again = await service.stop(1.0)
        assert again.already_gone


async def test_request_to_nobody_is_unavailable(sandbox: Sandbox) -> None:
    async with serve(sandbox, "disabled") as service:
        os.unlink(sandbox.socket_path)
        with pytest.raises(ServiceUnavailable):
            await service.status(timeout=1.0)
        assert isinstance(ServiceUnavailable("x"), OSError)


def test_service_exits_when_its_owner_is_already_gone(sandbox: Sandbox) -> None:
    env = sandbox.service_env("disabled", fault=None, drill_id=sandbox.drill_id, timeout_seconds=1)
    env.update(child_env(sandbox.drill_id, owner_pid=1))
    done = subprocess.run(
        [sys.executable, "-m", "cavra_drill.drill.service", "--socket", str(sandbox.socket_path)],
        env=env,
        capture_output=True,
        timeout=10,
        check=False,
    )
    assert done.returncode == EXIT_ORPHANED
    assert b"gone" in done.stderr
    assert not sandbox.socket_path.exists()


def test_service_dies_with_its_owner(sandbox: Sandbox) -> None:
    # A fake drill starts the service, waits for READY, reports the pid and is then SIGKILLed.
    owner_code = f"""
import os, subprocess, sys
env = dict(os.environ)
env["CAVRA_DRILL_OWNER_PID"] = str(os.getpid())
service = subprocess.Popen(
    [sys.executable, "-m", "cavra_drill.drill.service", "--socket", {str(sandbox.socket_path)!r}],
    env=env, stdout=subprocess.PIPE, text=True, start_new_session=True,
)
line = service.stdout.readline()
assert line.startswith({READY_PREFIX!r}), line
print(service.pid, flush=True)
sys.stdin.read()
"""
    env = sandbox.service_env("disabled", fault=None, drill_id=sandbox.drill_id, timeout_seconds=1)
    owner = subprocess.Popen(
        [sys.executable, "-c", owner_code], env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert owner.stdout is not None
        service_pid = int(owner.stdout.readline())
        owner.kill()
        owner.wait(5)

        def dead() -> bool:
            try:
                return bool(psutil.Process(service_pid).status() == psutil.STATUS_ZOMBIE)
            except psutil.NoSuchProcess:
                return True

        assert poll_until(dead, timeout=5, interval=0.01), "the service outlived its owner"
    finally:
        if owner.poll() is None:
            owner.kill()
        owner.wait(5)
        for stream in (owner.stdin, owner.stdout):
            if stream is not None:
                stream.close()


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (None, (False, 0.0, False)),
        ("", (False, 0.0, False)),
        ("stop-ignores-sigterm", (True, 0.0, False)),
        ("slow-restart=1.5, fallback-broken", (False, 1.5, True)),
    ],
)
def test_parse_faults(raw: str | None, expected: tuple[bool, float, bool]) -> None:
    assert tuple(parse_faults(raw)) == expected


@pytest.mark.parametrize("raw", ["slow-restart", "slow-restart=-1", "slow-restart=nan", "fallback-broken=1", "x"])
def test_parse_faults_refuses_what_it_does_not_understand(raw: str) -> None:
    with pytest.raises(ConfigError):
        parse_faults(raw)
