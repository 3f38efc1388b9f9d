"""HTTP over an already connected socket (what a port-forward stream is), against a real server."""

import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from verification.bluegreen.kube import get_url, http_get_over


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        status = 503 if self.path == "/readyz" else 200
        body = b'{"version": "1.1.0"}'
        self.send_response(status)
        self.send_header("X-App-Version", "1.1.0")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_args: object) -> None:
        pass


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[str, int]]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd.server_address[:2]
    httpd.shutdown()
    httpd.server_close()


def test_get_over_a_connected_socket(server: tuple[str, int]) -> None:
    answer = http_get_over(socket.create_connection(server), "/version", "pod-0")
    assert (answer.via, answer.path, answer.status, answer.version, answer.error) == (
        "pod-0",
        "/version",
        200,
        "1.1.0",
        None,
    )
    assert http_get_over(socket.create_connection(server), "/readyz", "pod-0").status == 503


def test_a_closed_stream_is_an_error_not_an_exception() -> None:
    ours, theirs = socket.socketpair()
    theirs.close()
    answer = http_get_over(ours, "/healthz", "pod-1", timeout=2)
    assert answer.status is None
    assert answer.error and answer.error.startswith(("RemoteDisconnected", "ConnectionResetError", "BrokenPipeError"))


def test_get_url(server: tuple[str, int]) -> None:
    host, port = server
    assert get_url(f"http://{host}:{port}/").version == "1.1.0"
    refused = get_url("http://127.0.0.1:9/")  # discard port: nothing listens
    assert refused.status is None and refused.error and refused.error.startswith("ConnectError")
