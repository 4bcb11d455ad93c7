"""The network as the client reaches it: httpx's transport, with TLS set up on first use.

httpx builds a TLS context for every client it makes, loading the CA bundle (~20 ms each); the
client makes two (the API, and presigned storage URLs that must never see the API token), at
every start of the command line, whose local server is plain `http://`. Here one transport
serves both, and its TLS context is made by the first `https://` request.
"""

from __future__ import annotations

import ssl
import threading

import httpx


class Network(httpx.BaseTransport):
    """httpx's `HTTPTransport`, one for `http://` and one (made when first needed) for the
    rest, each with its own connection pool."""

    def __init__(self) -> None:
        # No CA loaded and certificates required: were TLS ever tried on this transport (its
        # requests are `http://`), it would fail, never go unchecked.
        self._plain = httpx.HTTPTransport(verify=ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT))
        self._tls: httpx.HTTPTransport | None = None
        self._lock = threading.Lock()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.scheme == "http":
            return self._plain.handle_request(request)
        with self._lock:
            if self._tls is None:
                self._tls = httpx.HTTPTransport()
            tls = self._tls
        return tls.handle_request(request)

    def close(self) -> None:
        self._plain.close()
        with self._lock:
            if self._tls is not None:
                self._tls.close()
