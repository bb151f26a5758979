"""A minimal HTTP GET on anyio, for runbook checks: cancellable, with one deadline for all of it.

urllib bounds each socket operation, not the request: a server that keeps trickling bytes
holds it forever, and its worker thread then keeps the process from exiting. This client runs
on the event loop, so the deadline (and Ctrl-C) ends it at any point. It sends HTTP/1.0 with
`Connection: close` and reads to EOF; no proxy, no redirects, no cookies: it checks one
service the operator named, and reports only status and whether a text was in the body.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from urllib.parse import urlsplit

import anyio
import anyio.abc

MAX_RESPONSE_BYTES = 1 << 20


class HttpCheckError(Exception):
    """The GET could not be made or its answer not read. The message never names the URL."""


@dataclass(frozen=True)
class HttpAnswer:
    status: int
    body: bytes


def _target(url: str) -> tuple[str, int, bool, str, str]:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise HttpCheckError("not an http(s) URL with a host")
    tls = parts.scheme == "https"
    try:
        port = parts.port or (443 if tls else 80)
    except ValueError:
        raise HttpCheckError("the URL's port is not a number") from None
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    host_header = parts.netloc.rpartition("@")[2]  # never send URL credentials as a Host
    return parts.hostname, port, tls, path, host_header


def _dechunk(body: bytes) -> bytes:
    out, rest = bytearray(), body
    while rest:
        size_line, _, rest = rest.partition(b"\r\n")
        try:
            size = int(size_line.split(b";")[0].strip() or b"0", 16)
        except ValueError:
            raise HttpCheckError("malformed chunked body") from None
        if size == 0:
            break
        out += rest[:size]
        rest = rest[size + 2 :]
    return bytes(out)


def _parse(raw: bytes) -> HttpAnswer:
    head, sep, body = raw.partition(b"\r\n\r\n")
    if not sep:
        raise HttpCheckError("the answer ended before its headers did")
    status_line, *header_lines = head.split(b"\r\n")
    fields = status_line.split(None, 2)
    if len(fields) < 2 or not fields[0].startswith(b"HTTP/") or not fields[1].isdigit():
        raise HttpCheckError("the answer is not HTTP")
    headers = {
        name.strip().lower(): value.strip() for name, _, value in (line.partition(b":") for line in header_lines)
    }
    if b"chunked" in headers.get(b"transfer-encoding", b"").lower():
        body = _dechunk(body)
    return HttpAnswer(int(fields[1]), body)


async def http_get(url: str, *, timeout: float) -> HttpAnswer:
    """GET `url`; the whole exchange (connect, TLS, send, read) within `timeout` seconds."""
    host, port, tls, path, host_header = _target(url)
    request = (
        f"GET {path} HTTP/1.0\r\nHost: {host_header}\r\nUser-Agent: cavra-drill\r\n"
        "Accept: */*\r\nConnection: close\r\n\r\n"
    ).encode("latin-1", errors="replace")
    raw = bytearray()
    try:
        with anyio.fail_after(max(timeout, 0.001)):
            stream: anyio.abc.ByteStream
            if tls:
                stream = await anyio.connect_tcp(
                    host, port, ssl_context=ssl.create_default_context(), tls_standard_compatible=False
                )
            else:
                stream = await anyio.connect_tcp(host, port)
            async with stream:
                await stream.send(request)
                while len(raw) <= MAX_RESPONSE_BYTES:
                    try:
                        raw += await stream.receive()
                    except anyio.EndOfStream:
                        break
    except TimeoutError:
        raise HttpCheckError(f"no complete answer within {timeout:g} s") from None
    except (OSError, anyio.BrokenResourceError) as exc:
        # Connection refused, no route, DNS, TLS: the kind, not the address.
        raise HttpCheckError(f"connection failed ({getattr(exc, 'strerror', None) or type(exc).__name__})") from None
    return _parse(bytes(raw[: MAX_RESPONSE_BYTES + 1]))
