"""Parse feed files in a child process with a CPU deadline and a memory cap.

A parser stuck in a C loop cannot be interrupted from Python, and a signal
alarm only works in a process's main thread, which a Beam worker does not
run DoFns in. So :class:`ParseWorker` keeps one long-lived child process
(a fresh interpreter running this module: no Beam or gRPC threads are
forked, and unlike multiprocessing's ``spawn`` it never re-imports the
parent's ``__main__``) that runs
:func:`connectors.feeds.parse_feed` on the bytes it is sent. The parent
watches the child's CPU time for the file in work; past the deadline it
kills the child, dead-letters the file and starts a new child for the next
one. The child's address space is capped with ``RLIMIT_AS``, so a file that
would exhaust memory ends as a ``MemoryError`` (a dead letter) or, at worst,
a dead child (also a dead letter), never as a stopped batch.

The same class works inside a DoFn on FnApiRunner, in DirectRunner's worker
processes and on remote workers: it needs only ``multiprocessing`` and, for
CPU accounting, Linux's ``/proc`` (elsewhere wall time is used).
"""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
import threading
import time
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, Self

from connectors.feeds import DEFAULT_MAX_BYTES, FeedOutcome, _dead, parse_feed

__all__ = [
    "DEFAULT_CPU_SECONDS",
    "DEFAULT_MEMORY_BYTES",
    "ParseWorker",
    "discard_spares",
    "prestart",
]

DEFAULT_CPU_SECONDS = 30.0
DEFAULT_MEMORY_BYTES = 2 * 1024 * 1024 * 1024
# How often the parent looks at the child's CPU time while it waits.
_POLL_SECONDS = 0.05
_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


# The child imports connectors.feeds from the same place the parent did.
_ROOT = str(Path(__file__).resolve().parents[1])


def _child(conn: Any, memory_bytes: int) -> None:
    try:
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    except (ImportError, ValueError, OSError):  # not on this platform: deadline still holds
        pass
    while True:
        try:
            request = conn.recv()
        except EOFError:
            return
        if request is None:
            return
        path, data, fetched, max_bytes = request
        try:
            outcome = parse_feed(path, data, fetched=fetched, max_bytes=max_bytes)
        except MemoryError:  # parse_feed catches it, unless raised while reporting
            outcome = _dead(path, "parse", "out of memory while parsing", b"")
        del data
        # The newest protocol: about half the time of the default one both
        # ways on item lists (0.12 + 0.25 s against 0.29 + 0.36 s for 25,077
        # items of real length). Items pickle as their field values
        # (Item.__reduce__): 1.6x fewer instructions again, dump and load.
        conn.send_bytes(pickle.dumps(outcome, pickle.HIGHEST_PROTOCOL))


class _Pair:
    """The child's two pipe ends as one connection."""

    def __init__(self, inbound: Connection, outbound: Connection) -> None:
        self.recv = inbound.recv
        self.send_bytes = outbound.send_bytes


def _cpu_seconds(pid: int) -> float | None:
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            fields = handle.read().rsplit(b")", 1)[1].split()
    except (OSError, IndexError):
        return None
    # utime and stime are fields 14 and 15 of stat; 12 and 13 after the ")".
    return (int(fields[11]) + int(fields[12])) / _TICKS


def _spawn(memory_bytes: int) -> tuple[Any, Connection, Connection]:
    """A new child process: (process, connection to send on, connection to receive on)."""
    to_child_r, to_child_w = os.pipe()
    from_child_r, from_child_w = os.pipe()
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, (_ROOT, env.get("PYTHONPATH"))))
    command = [sys.executable, "-m", "connectors.parse_worker"]
    command += [str(to_child_r), str(from_child_w), str(memory_bytes)]
    try:
        process = subprocess.Popen(
            command, pass_fds=(to_child_r, from_child_w), env=env, stdin=subprocess.DEVNULL
        )
    finally:
        os.close(to_child_r)
        os.close(from_child_w)
    return process, Connection(to_child_w, readable=False), Connection(from_child_r, writable=False)


# Children started ahead of need (prestart), by their memory cap.
_spares: dict[int, list[tuple[Any, Connection, Connection]]] = {}
_spares_lock = threading.Lock()


def prestart(memory_bytes: int = DEFAULT_MEMORY_BYTES) -> None:
    """Start a child now, for the first :class:`ParseWorker` of this process to take.

    A launcher that runs the pipeline in its own process calls this before
    it builds the graph: the child's interpreter start and imports (about
    0.1 s) then run beside the graph's construction, not before the first
    file. Call :func:`discard_spares` when the run ends.
    """
    spare = _spawn(memory_bytes)
    with _spares_lock:
        _spares.setdefault(memory_bytes, []).append(spare)


def _take_spare(memory_bytes: int) -> tuple[Any, Connection, Connection] | None:
    with _spares_lock:
        waiting = _spares.get(memory_bytes)
        while waiting:
            spare = waiting.pop()
            if spare[0].poll() is None:
                return spare
            _end(*spare)
    return None


def _end(process: Any, send: Connection, conn: Connection) -> None:
    if process.poll() is None:
        process.kill()
    try:
        process.wait(timeout=5)
    except subprocess.TimeoutExpired:
        pass
    send.close()
    conn.close()


def discard_spares() -> None:
    """End every child that :func:`prestart` started and no worker took."""
    with _spares_lock:
        spares = [spare for waiting in _spares.values() for spare in waiting]
        _spares.clear()
    for spare in spares:
        _end(*spare)


class ParseWorker:
    """Runs ``parse_feed`` in a child process, one file at a time, with bounds.

    Args:
        cpu_seconds: CPU time one file may take (wall time where CPU time
            cannot be read); past it the file is dead-lettered.
        memory_bytes: address-space cap of the child process.
    """

    def __init__(
        self,
        cpu_seconds: float = DEFAULT_CPU_SECONDS,
        memory_bytes: int = DEFAULT_MEMORY_BYTES,
    ) -> None:
        if cpu_seconds <= 0:
            raise ValueError(f"cpu_seconds must be positive (got {cpu_seconds!r})")
        self._cpu = cpu_seconds
        self._memory = memory_bytes
        self._process: Any = None
        self._conn: Any = None
        self._send: Any = None
        self.restarts = 0

    def _start(self) -> None:
        spare = _take_spare(self._memory)
        self._process, self._send, self._conn = spare or _spawn(self._memory)

    def _alive(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def _stop(self) -> None:
        if self._process is None:
            return
        _end(self._process, self._send, self._conn)
        self._process = self._conn = self._send = None

    def close(self) -> None:
        """End the child process (the worker starts a new one if used again)."""
        if self._alive():
            try:
                self._send.send(None)
                self._process.wait(timeout=2)
            except (OSError, ValueError, subprocess.TimeoutExpired):
                pass
        self._stop()

    def parse(
        self,
        path: str,
        data: bytes,
        fetched: str | None = None,
        max_bytes: int = DEFAULT_MAX_BYTES,
    ) -> FeedOutcome:
        """Parse one file in the child; a dead letter if it takes too long or dies.

        Never raises for bad input.
        """
        if not self._alive():
            self._stop()
            self._start()
        try:
            self._send.send((path, data, fetched, max_bytes))
        except (OSError, ValueError) as exc:
            self._stop()
            return _dead(path, "parse", f"parser process unavailable: {exc}", data)
        pid = self._process.pid
        cpu_start = _cpu_seconds(pid)
        wall_start = time.monotonic()
        # A child blocked without using CPU still must not hold the batch.
        wall_limit = max(4 * self._cpu, self._cpu + 60)
        while True:
            try:
                if self._conn.poll(_POLL_SECONDS):
                    return pickle.loads(self._conn.recv_bytes())
            except (EOFError, OSError):
                code = self._process.poll() if self._process else None
                self._stop()
                self.restarts += 1
                return _dead(path, "parse", f"parser process died (exit code {code})", data)
            cpu_now = _cpu_seconds(pid)
            used = (
                cpu_now - cpu_start
                if cpu_now is not None and cpu_start is not None
                else time.monotonic() - wall_start
            )
            if used > self._cpu or time.monotonic() - wall_start > wall_limit:
                self._stop()
                self.restarts += 1
                reason = f"parse took more than {self._cpu:g} s of CPU; stopped"
                return _dead(path, "parse", reason, data)
            if not self._alive() and not self._conn.poll(0):
                code = self._process.poll()
                self._stop()
                self.restarts += 1
                return _dead(path, "parse", f"parser process died (exit code {code})", data)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


if __name__ == "__main__":
    _child(
        _Pair(
            Connection(int(sys.argv[1]), writable=False),
            Connection(int(sys.argv[2]), readable=False),
        ),
        int(sys.argv[3]),
    )
