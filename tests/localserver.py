"""A real HTTP server on 127.0.0.1 for connector tests, serving real fixtures.

Routes map a path to a handler ``(request) -> Reply``. A reply can misbehave
on purpose: a status with headers (429 with Retry-After, 304, 500, redirects),
a body sent in slow pieces, a gzip-encoded body. Every request is recorded
(path, query, headers), so tests assert what the client sent.

    with LocalServer() as server:
        server.route("/feed.xml", lambda req: Reply(200, body=data))
        url = server.url("/feed.xml")
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

__all__ = ["LocalServer", "Reply", "Request"]


@dataclass
class Request:
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    at: float = 0.0  # time.monotonic() when the request arrived
    method: str = "GET"
    body: bytes = b""  # a POST's body (credential exchanges)


@dataclass
class Reply:
    """What a route answers.

    Attributes:
        status: the HTTP status.
        body: bytes, or an iterable of ``(bytes, delay_seconds_before)`` pieces
            for slow bodies.
        headers: response headers.
        length: Content-Length to announce (default: the body's length when
            ``body`` is bytes; none for pieces, which are sent until closed).
        delay: seconds to wait before sending the status line (a server that
            is slow to answer at all).
    """

    status: int = 200
    body: bytes | Iterable[tuple[bytes, float]] = b""
    headers: dict[str, str] = field(default_factory=dict)
    length: int | None = None
    delay: float = 0.0


Handler = Callable[[Request], Reply]


class LocalServer:
    """A threaded HTTP/1.1 server on 127.0.0.1:<free port>."""

    def __init__(self) -> None:
        self.routes: dict[str, Handler] = {}
        self.requests: list[Request] = []
        self._lock = threading.Lock()
        server = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:  # keep test output clean
                pass

            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                request = Request(
                    path=parts.path,
                    query=parse_qs(parts.query),
                    headers={k.lower(): v for k, v in self.headers.items()},
                    at=time.monotonic(),
                )
                with server._lock:
                    server.requests.append(request)
                    handler = server.routes.get(parts.path)
                reply = handler(request) if handler else Reply(404, b"not found")
                self._send(reply)

            def do_POST(self) -> None:
                # Routes see POSTs too (request.method says which): token and
                # session endpoints that connectors call before they GET.
                parts = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                request = Request(
                    path=parts.path,
                    query=parse_qs(parts.query),
                    headers={k.lower(): v for k, v in self.headers.items()},
                    at=time.monotonic(),
                    method="POST",
                    body=self.rfile.read(length),
                )
                with server._lock:
                    server.requests.append(request)
                    handler = server.routes.get(parts.path)
                reply = handler(request) if handler else Reply(404, b"not found")
                self._send(reply)

            def _send(self, reply: Reply) -> None:
                if reply.delay:
                    time.sleep(reply.delay)  # the misbehaviour under test: a slow answer
                self.send_response(reply.status)
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                try:
                    if isinstance(reply.body, bytes):
                        length = reply.length if reply.length is not None else len(reply.body)
                        self.send_header("Content-Length", str(length))
                        self.end_headers()
                        self.wfile.write(reply.body)
                    else:
                        self.send_header("Connection", "close")
                        self.end_headers()
                        for piece, delay in reply.body:
                            if delay:
                                time.sleep(delay)  # the misbehaviour under test: a slow body
                            self.wfile.write(piece)
                            self.wfile.flush()
                        self.close_connection = True
                except (BrokenPipeError, ConnectionResetError):
                    self.close_connection = True

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._server.daemon_threads = True
        # A short poll interval makes shutdown (every fixture teardown) quick.
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    def url(self, path: str = "/") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def route(self, path: str, handler: Handler) -> None:
        with self._lock:
            self.routes[path] = handler

    def hits(self, path: str) -> list[Request]:
        with self._lock:
            return [r for r in self.requests if r.path == path]

    def __enter__(self) -> LocalServer:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._server.shutdown()
        self._server.server_close()
