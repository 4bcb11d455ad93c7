"""The client's transport on real sockets: plain HTTP as httpx sends it, TLS made on first use."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from filestore.entrypoints.client_network import Network

pytestmark = pytest.mark.e2e


class _Hello(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("content-length", "5")
        self.end_headers()
        self.wfile.write(b"hello")

    def log_message(self, *_: object) -> None:
        pass


@pytest.fixture
def plain_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Hello)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_http_goes_through_and_https_is_tls(plain_server: str) -> None:
    network = Network()
    with httpx.Client(transport=network) as api, httpx.Client(transport=network) as storage:
        assert api.get(f"http://{plain_server}/").text == "hello"
        assert storage.get(f"http://{plain_server}/").text == "hello"  # one transport for both
        # The same server over https: a TLS handshake is tried (and fails: it speaks plain HTTP).
        with pytest.raises(httpx.ConnectError):
            api.get(f"https://{plain_server}/")
