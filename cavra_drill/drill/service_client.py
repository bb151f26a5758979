"""Start, query and stop one decision service from async code (anyio).

Errors::

    ServiceError              base class
    ├── ServiceDied           the service exited: before its READY line, or while we asked it
    ├── ServiceNotReady       no READY line within the ready timeout
    ├── ServiceUnavailable    a request got no reply (refused, closed, timed out); also a
    │                         ConnectionError, so code that handles OSError handles it too
    └── ServiceProtocolError  a reply that is not a JSON object, or an `{"error": ...}` reply

Whatever goes wrong while starting, the process tree is stopped before the error is raised:
a failed start never leaves a service behind.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from contextlib import suppress
from functools import partial
from typing import TYPE_CHECKING

import anyio
import psutil
from anyio.streams.buffered import BufferedByteReceiveStream

from cavra_drill.contract.settings import (
    DEFAULT_RUNTIME_TIMEOUT_SECONDS,
    ENV_MODE,
    ENV_RUNTIME_TIMEOUT,
    normalize_mode,
    parse_float_setting,
)
from cavra_drill.drill.processes import StopReport, stop_tree
from cavra_drill.drill.service import READY_PREFIX

if TYPE_CHECKING:
    from collections.abc import Mapping
    from io import BufferedWriter
    from pathlib import Path

    from anyio.abc import Process

    from cavra_drill.drill.sandbox import Sandbox

SERVICE_MODULE = "cavra_drill.drill.service"
_MAX_LINE_BYTES = 1 << 20
# A decision may wait for the Go runtime's full timeout before the service answers, so a
# request gets that long plus this margin.
_REQUEST_MARGIN_SECONDS = 5.0
# stop_tree returns within grace + 2 s (its SIGKILL wait) plus a process scan; past this
# margin something is badly wrong and waiting longer would stall the caller's cleanup.
_STOP_MARGIN_SECONDS = 5.0
_REAP_SECONDS = 2.0
_FAILED_START_GRACE_SECONDS = 1.0
_TAIL_BYTES = 4096
_MAX_DETAIL = 200


class ServiceError(Exception):
    pass


class ServiceDied(ServiceError):
    def __init__(self, message: str, *, exit_code: int | None, last_stderr_line: str) -> None:
        super().__init__(message)
        self.exit_code = exit_code
        self.last_stderr_line = last_stderr_line


class ServiceNotReady(ServiceError):
    pass


class ServiceUnavailable(ServiceError, ConnectionError):
    pass


class ServiceProtocolError(ServiceError):
    pass


class ServiceHandle:
    """One running service. Call `stop` exactly when done; it is safe to call it again."""

    def __init__(
        self,
        process: Process,
        *,
        ready: dict[str, object],
        socket_path: Path,
        stderr_log: Path,
        request_timeout: float,
        spawned_monotonic_ns: int,
        create_time: float | None,
    ) -> None:
        self.process = process
        self.ready = ready
        self.socket_path = socket_path
        self.stderr_log = stderr_log
        self.request_timeout = request_timeout
        self.spawned_monotonic_ns = spawned_monotonic_ns
        self._create_time = create_time
        self._stopped: StopReport | None = None

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def mode(self) -> str:
        """The mode the service says it runs in (its READY line), not the one it was given."""
        return str(self.ready.get("mode", ""))

    @property
    def ready_monotonic_ns(self) -> int:
        value = self.ready.get("ready_monotonic_ns")
        return value if isinstance(value, int) else 0

    @property
    def returncode(self) -> int | None:
        return self.process.returncode

    async def decide(self, request: Mapping[str, object], *, timeout: float | None = None) -> dict[str, object]:
        return await self._ask({"op": "decide", "request": dict(request)}, timeout)

    async def status(self, *, timeout: float | None = None) -> dict[str, object]:
        return await self._ask({"op": "status"}, timeout)

    async def stop(self, grace: float) -> StopReport:
        """Stop the service's process tree (SIGTERM, `grace`, SIGKILL) and reap the service.

        Shielded from cancellation and bounded in time: it runs during cleanup, when the
        caller is often being cancelled itself.
        """
        if self._stopped is not None:
            # Reaped already: the pid may belong to someone else by now.
            return StopReport(self.pid, (), (), escalated=False, already_gone=True)
        with anyio.CancelScope(shield=True):
            report = await _stop_process(self.process, grace, self._create_time)
        self._stopped = report
        return report

    async def _ask(self, message: Mapping[str, object], timeout: float | None) -> dict[str, object]:
        limit = self.request_timeout if timeout is None else timeout
        try:
            with anyio.fail_after(limit):
                async with await anyio.connect_unix(self.socket_path) as stream:
                    await stream.send(json.dumps(message).encode() + b"\n")
                    line = await BufferedByteReceiveStream(stream).receive_until(b"\n", _MAX_LINE_BYTES)
        except TimeoutError:
            raise self._unavailable(f"no reply within {limit:g} s") from None
        except (OSError, anyio.EndOfStream, anyio.IncompleteRead, anyio.BrokenResourceError) as exc:
            raise self._unavailable(f"connection failed ({type(exc).__name__})") from None
        except anyio.DelimiterNotFound:
            raise ServiceProtocolError("reply longer than 1 MiB") from None
        try:
            reply = json.loads(line)
        except ValueError:
            raise ServiceProtocolError("reply is not valid JSON") from None
        if not isinstance(reply, dict):
            raise ServiceProtocolError("reply is not a JSON object")
        if "error" in reply:
            raise ServiceProtocolError(f"service rejected the request: {str(reply['error'])[:_MAX_DETAIL]}")
        return reply

    def _unavailable(self, detail: str) -> ServiceError:
        code = self.process.returncode
        if code is not None:
            return ServiceDied(
                f"service exited with code {code}: {detail}",
                exit_code=code,
                last_stderr_line=_last_line(self.stderr_log),
            )
        return ServiceUnavailable(f"service did not answer: {detail}")


async def start_service(
    sandbox: Sandbox,
    env: Mapping[str, str],
    *,
    ready_timeout: float,
    request_timeout: float | None = None,
) -> ServiceHandle:
    """Start the service and return once it has printed READY (an event, not a sleep).

    `request_timeout` bounds each later request; by default the runtime timeout from `env`
    plus a margin, since a promoted decision can wait that long for the Go runtime.
    """
    mode = normalize_mode(env.get(ENV_MODE))
    if request_timeout is None:
        runtime_timeout = parse_float_setting(env.get(ENV_RUNTIME_TIMEOUT), DEFAULT_RUNTIME_TIMEOUT_SECONDS)
        request_timeout = max(runtime_timeout, 0.0) + _REQUEST_MARGIN_SECONDS
    stderr_log, stderr_file = _new_log(sandbox.logs_dir, mode)
    spawned_ns = time.monotonic_ns()
    with stderr_file:
        # Not `async with`: leaving that block waits for the process to exit, and the
        # service must outlive this function.
        process = await anyio.open_process(
            [sys.executable, "-m", SERVICE_MODULE, "--socket", str(sandbox.socket_path)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=stderr_file,
            cwd=sandbox.root,
            env=env,
            start_new_session=True,
        )
    # Right after spawning, so that every stop below signals this process and never a pid
    # that the kernel has recycled for someone else since.
    created = _create_time(process.pid)
    try:
        with anyio.fail_after(ready_timeout):
            ready = await _read_ready(process)
    except TimeoutError:
        with anyio.CancelScope(shield=True):
            await _stop_process(process, _FAILED_START_GRACE_SECONDS, created)
        raise ServiceNotReady(f"service printed no READY line within {ready_timeout:g} s") from None
    except _NoReadyLine:
        with anyio.CancelScope(shield=True):
            with anyio.move_on_after(_REAP_SECONDS):
                await process.wait()
            code = process.returncode
            await _stop_process(process, _FAILED_START_GRACE_SECONDS, created)
        last = _last_line(stderr_log)
        raise ServiceDied(
            f"service exited with code {code} before it was ready" + (f": {last}" if last else ""),
            exit_code=code,
            last_stderr_line=last,
        ) from None
    except BaseException:
        # Cancelled (the caller's deadline) or worse: still never leave a service behind.
        with anyio.CancelScope(shield=True):
            await _stop_process(process, _FAILED_START_GRACE_SECONDS, created)
        raise
    return ServiceHandle(
        process,
        ready=ready,
        socket_path=sandbox.socket_path,
        stderr_log=stderr_log,
        request_timeout=request_timeout,
        spawned_monotonic_ns=spawned_ns,
        create_time=created,
    )


class _NoReadyLine(Exception):
    pass


async def _read_ready(process: Process) -> dict[str, object]:
    if process.stdout is None:
        raise _NoReadyLine
    stream = BufferedByteReceiveStream(process.stdout)
    while True:
        try:
            line = await stream.receive_until(b"\n", _MAX_LINE_BYTES)
        except (anyio.EndOfStream, anyio.IncompleteRead, anyio.DelimiterNotFound, anyio.BrokenResourceError):
            raise _NoReadyLine from None
        text = line.decode("utf-8", "replace")
        if not text.startswith(READY_PREFIX):
            continue
        try:
            ready = json.loads(text[len(READY_PREFIX) :])
        except ValueError:
            continue
        if isinstance(ready, dict):
            return ready


async def _stop_process(process: Process, grace: float, create_time: float | None) -> StopReport:
    """stop_tree in a worker thread, time-boxed, then reap. The caller provides the shield."""
    report: StopReport | None = None
    with anyio.move_on_after(grace + _STOP_MARGIN_SECONDS):
        report = await anyio.to_thread.run_sync(
            partial(stop_tree, process.pid, grace=grace, create_time=create_time), abandon_on_cancel=True
        )
    if report is None:
        # stop_tree overran its own bound; make one last direct attempt and say so.
        with suppress(ProcessLookupError):
            process.kill()
        report = StopReport(process.pid, (), (), escalated=True, already_gone=False, survivors=(process.pid,))
    if process.stdout is not None:
        await process.stdout.aclose()
    with anyio.move_on_after(_REAP_SECONDS):
        await process.wait()
    return report


def _new_log(logs_dir: Path, mode: str) -> tuple[Path, BufferedWriter]:
    logs_dir.mkdir(parents=True, exist_ok=True)
    # Numbered across modes, so the logs of a drill read in start order.
    index = 1 + sum(1 for _ in logs_dir.glob("service-*.stderr.log"))
    while True:
        path = logs_dir / f"service-{index:02d}-{mode}.stderr.log"
        try:
            # Exclusive create: two starts in one sandbox never share (or truncate) a log.
            return path, path.open("xb")
        except FileExistsError:
            index += 1


def _create_time(pid: int) -> float | None:
    try:
        return float(psutil.Process(pid).create_time())
    except psutil.Error:
        return None


def _last_line(path: Path) -> str:
    try:
        with path.open("rb") as handle:
            handle.seek(0, 2)
            size = handle.tell()
            handle.seek(max(0, size - _TAIL_BYTES))
            tail = handle.read()
    except OSError:
        return ""
    lines = [line for line in tail.decode("utf-8", "replace").splitlines() if line.strip()]
    return lines[-1].strip()[:_MAX_DETAIL] if lines else ""
