"""The model server of :mod:`transforms.language_shared`: lingua's answers on a socket.

    python -m transforms.language_server TAG

Started by :class:`~transforms.language_shared.SharedAccurate` with a pipe
on its standard input. It listens on a loopback port, writes the port and a
random key (which every caller must present) to the tag's address file,
says ``serving PORT`` on its standard output, and answers each connection
in a thread of its own: a text in, ``("ok", (code, confidence))`` or
``("error", reason)`` out. When its standard input ends (the process that
started it ended) it removes its files and exits.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
from multiprocessing import AuthenticationError
from multiprocessing.connection import Connection, Listener
from typing import Any

from transforms.langid_backends import LinguaDetector
from transforms.language_shared import paths

__all__ = ["serve"]

# The errors of a connection whose caller ended or broke.
_BROKEN = (OSError, EOFError)


def _answer(conn: Connection, detector: LinguaDetector) -> None:
    with conn:
        while True:
            try:
                text = conn.recv()
            except _BROKEN:
                return
            try:
                reply: tuple[str, Any] = ("ok", detector.detect(text))
            except Exception as exc:  # noqa: BLE001 - the asker turns it into a dead letter
                reply = ("error", f"{type(exc).__name__}: {exc}")
            try:
                conn.send(reply)
            except _BROKEN:
                return


def _remove_own(address_file: str, lock_file: str, line: str) -> None:
    with contextlib.suppress(OSError):
        with open(address_file, encoding="ascii") as handle:
            if handle.read() != line:
                return  # a newer server's
        os.unlink(address_file)
        os.unlink(lock_file)


def serve(tag: str) -> None:
    """Serve ``tag``'s model until standard input ends (the starter ended)."""
    key = os.urandom(16)
    listener = Listener(("127.0.0.1", 0), authkey=key)
    host, port = listener.address
    line = f"{host} {port} {key.hex()}"
    lock_file, address_file = paths(tag)
    fd = os.open(address_file + ".tmp", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(line)
    os.replace(address_file + ".tmp", address_file)
    detector = LinguaDetector(low_accuracy=False, lazy=True)

    def accept() -> None:
        while True:
            try:
                conn = listener.accept()
            except (AuthenticationError, EOFError, ConnectionError):
                continue  # a caller without the key, or one that hung up at once
            except OSError:
                # The listening socket itself failed: end, so that callers are
                # refused and start a new server or load their own copy.
                _remove_own(address_file, lock_file, line)
                os._exit(1)
            threading.Thread(target=_answer, args=(conn, detector), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    print(f"serving {line.split()[1]}", flush=True)
    sys.stdin.read()  # returns when the starter's end of the pipe closes
    _remove_own(address_file, lock_file, line)
    os._exit(0)  # the accept thread is blocked in a system call


if __name__ == "__main__":
    serve(sys.argv[1])
