"""The runbook's HTTP check against real local servers: status, body, chunking, failures."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import anyio
import pytest

from cavra_drill.drill.http_check import HttpCheckError, http_get


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        if self.path == "/chunked":
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for part in (b'{"selected_backend": ', b'"python"}'):
                self.wfile.write(f"{len(part):x}\r\n".encode() + part + b"\r\n")
            self.wfile.write(b"0\r\n\r\n")
            return
        status = 200 if self.path.startswith("/backend") else 503
        body = b'{"selected_backend": "python"}' if status == 200 else b"down"
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def get(url: str, timeout: float = 5) -> tuple[int, bytes]:
    async def main() -> tuple[int, bytes]:
        answer = await http_get(url, timeout=timeout)
        return answer.status, answer.body

    return anyio.run(main)


def test_status_and_body(server: str) -> None:
    assert get(f"{server}/backend?x=1") == (200, b'{"selected_backend": "python"}')
    assert get(f"{server}/other")[0] == 503


def test_chunked_body_is_decoded(server: str) -> None:
    assert get(f"{server}/chunked") == (200, b'{"selected_backend": "python"}')


def test_refused_connection_is_a_check_error_without_the_address() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(HttpCheckError) as error:
        get(f"http://127.0.0.1:{port}/backend")
    assert "127.0.0.1" not in str(error.value) and str(port) not in str(error.value)


def test_a_silent_server_times_out_as_a_whole() -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        with pytest.raises(HttpCheckError, match=r"within 0\.3 s"):
            get(f"http://127.0.0.1:{port}/backend", timeout=0.3)
