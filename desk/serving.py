"""The desk under uvicorn in a background thread (for tests, benchmarks and embedding)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from desk.app import create_app
from desk.config import DeskConfig

__all__ = ["running"]


@contextmanager
def running(config: DeskConfig, *, start_timeout: float = 20.0) -> Iterator[str]:
    """Serves the desk on a free loopback port until the block ends; yields its base URL.

    Raises:
        RuntimeError: the server did not start within ``start_timeout`` seconds.
    """
    import uvicorn

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    port = sock.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(create_app(config), log_level="warning", access_log=False, lifespan="on")
    )
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + start_timeout
    try:
        while not server.started:  # uvicorn sets it once it is accepting
            if time.monotonic() > deadline or not thread.is_alive():
                raise RuntimeError("the desk did not start")
            time.sleep(0.02)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
