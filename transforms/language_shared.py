"""lingua's high-accuracy models in a process of their own: one per machine.

The cascade's vote sends the texts where CLD2 and lingua's low-accuracy mode
disagree to lingua's high-accuracy mode, whose first Latin-script text loads
about 1 GB of models in 5–10 CPU s, holding the interpreter's lock all the
while. Loaded in a worker, that stalls the worker; loaded in every worker
process of a machine (DirectRunner's ``multi_processing`` mode, the
processes of a Dataflow VM or a Flink task manager), it costs that much
memory and CPU again in each.

So the model lives in a *model server*: a child process (``python -m
transforms.language_server TAG``) that the first process to need it starts,
and that every process on the machine given the same tag asks over a local
socket. :class:`SharedAccurate` is the asking side. Besides :meth:`~SharedAccurate.detect`
it can :meth:`~SharedAccurate.submit` texts and :meth:`~SharedAccurate.take`
their answers later, in order: the language stage goes on with other items
while the server answers, and takes the answers at the end of its bundle.
A caller connects in a thread of its own, because a server that is loading
holds its interpreter's lock and cannot answer a new caller's handshake
until it is done: the texts submitted meanwhile are sent when the connection
is made.

The tag names a lock file and an address file in :func:`shared_dir`; the
address file holds the server's port and a random key that a client must
present. A server ends when the process that started it ends (it reads that
process's end of a pipe) and then removes its files; :func:`forget` also
does. If the server cannot be reached or started, the caller asks again once,
and after that loads its own copy: a broken share costs memory, never answers.
"""

from __future__ import annotations

import contextlib
import logging
import os
import subprocess
import sys
import tempfile
import threading
import uuid
from collections import deque
from collections.abc import Iterator
from multiprocessing import AuthenticationError
from multiprocessing.connection import Client, Connection
from pathlib import Path
from typing import Any

from transforms.langid_backends import LinguaDetector

try:
    import fcntl
except ImportError:  # Windows: without the lock two processes may each start a server
    fcntl = None

__all__ = [
    "SharedAccurate",
    "forget",
    "new_tag",
    "paths",
    "process_tag",
    "shared_dir",
    "take_copies",
]

_log = logging.getLogger(__name__)
# The errors of a connection whose server ended or broke.
_BROKEN = (OSError, EOFError)
# The server imports this module from the same tree as its starter.
_ROOT = str(Path(__file__).resolve().parents[1])


def shared_dir() -> str:
    """The folder of the servers' lock and address files (made if missing)."""
    path = os.path.join(tempfile.gettempdir(), "newswatch-shared-models")
    os.makedirs(path, mode=0o700, exist_ok=True)
    return path


def new_tag() -> str:
    """A new tag: unique, and safe in a file name."""
    return f"lingua-accurate-{uuid.uuid4().hex}"


_process_tag: str | None = None


def process_tag() -> str:
    """This process's tag: every run it launches shares one server per machine."""
    global _process_tag
    if _process_tag is None:
        _process_tag = new_tag()
    return _process_tag


def paths(tag: str) -> tuple[str, str]:
    """The tag's lock file and address file."""
    base = os.path.join(shared_dir(), tag)
    return base + ".lock", base + ".address"


# Servers this process started, by tag: (process, address line).
_started: dict[str, tuple[subprocess.Popen, str]] = {}
_copies = 0
_copies_lock = threading.Lock()


def _count_copy() -> None:
    global _copies
    with _copies_lock:
        _copies += 1


def take_copies() -> int:
    """Copies of the model this process caused since the last call (servers started, own copies)."""
    global _copies
    with _copies_lock:
        made, _copies = _copies, 0
    return made


def forget(tag: str) -> None:
    """End the server this process started for ``tag`` (if any) and remove the tag's files."""
    started = _started.pop(tag, None)
    if started is not None:
        process, _ = started
        process.stdin.close()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    for path in paths(tag):
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)


@contextlib.contextmanager
def _locked(path: str) -> Iterator[None]:
    with open(path, "a") as handle:
        if fcntl is None:
            yield
            return
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _read_address(path: str) -> tuple[tuple[str, int], bytes] | None:
    try:
        with open(path, encoding="ascii") as handle:
            host, port, key = handle.read().split()
        return (host, int(port)), bytes.fromhex(key)
    except (FileNotFoundError, ValueError):
        return None


def _start_server(tag: str) -> None:
    """Start this tag's server and wait until its address file is written."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, (_ROOT, env.get("PYTHONPATH"))))
    process = subprocess.Popen(
        [sys.executable, "-m", "transforms.language_server", tag],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env, text=True,
    )
    line = process.stdout.readline().strip()
    if not line.startswith("serving "):
        process.kill()
        process.wait()
        raise OSError(f"the model server did not start (said {line!r})")
    _started[tag] = (process, line)
    _count_copy()


def _connect(tag: str) -> Connection:
    """A connection to the tag's server, started first if there is none (or it is gone)."""
    lock, address_file = paths(tag)
    with _locked(lock):
        found = _read_address(address_file)
        if found is not None:
            try:
                return Client(found[0], authkey=found[1])
            except (*_BROKEN, AuthenticationError):
                pass  # a server that ended without removing its file (its port may be reused)
        _start_server(tag)
        found = _read_address(address_file)
        if found is None:
            raise OSError("the model server wrote no address")
        return Client(found[0], authkey=found[1])


class SharedAccurate:
    """lingua's high-accuracy detector in the machine's model server for ``tag``.

    It stands in for ``LinguaDetector(low_accuracy=False, lazy=True)``: the
    same :meth:`detect` and :attr:`loaded`; it connects on its first call, so
    a run whose texts never need the model never starts a server. Texts can
    also be sent ahead (:meth:`submit`) and their answers taken in the same
    order (:meth:`take`), :meth:`ready` saying whether one has come.

    Args:
        tag: every process on one machine given the same tag asks the same
            server (:func:`new_tag`, :func:`process_tag`).
    """

    name = "lingua"

    def __init__(self, tag: str) -> None:
        self.tag = tag
        self._conn: Connection | None = None
        self._local: LinguaDetector | None = None
        # Texts submitted and not yet answered, oldest first (all of them
        # sent, once a connection is made).
        self._sent: deque[str] = deque()
        # The first connection, made in a thread: [Connection or the error].
        self._connecting: threading.Thread | None = None
        self._made: list[Any] = []
        self.reconnects = 0

    def __getstate__(self) -> dict[str, Any]:
        return {"tag": self.tag}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["tag"])

    @property
    def loaded(self) -> bool:
        """Whether this process has asked for the model yet (the server, or its own copy)."""
        connected = self._conn is not None or self._connecting is not None
        return connected or (self._local is not None and self._local.loaded)

    @property
    def is_local(self) -> bool:
        """Whether the share failed and this process loaded its own copy."""
        return self._local is not None

    @property
    def waiting(self) -> int:
        """Texts submitted and not yet taken."""
        return len(self._sent)

    def detect(self, text: str) -> tuple[str, float]:
        """The answer for ``text``, waited for.

        Raises:
            RuntimeError: answers to submitted texts are still to be taken.
        """
        if self._sent:
            raise RuntimeError(f"{len(self._sent)} submitted answer(s) must be taken first")
        self.submit(text)
        return self.take()

    def submit(self, text: str) -> None:
        """Send a text; its answer is taken, in order, with :meth:`take`."""
        self._sent.append(text)
        if self._local is not None:
            return
        if self._conn is None:
            if self._connecting is None:
                self._connecting = threading.Thread(target=self._connect, daemon=True)
                self._connecting.start()
            self._connected(wait=False)
            return
        try:
            self._conn.send(text)
        except Exception as exc:  # noqa: BLE001 - any failure to share: ask again, then a copy
            self._broken(exc)

    def _connect(self) -> None:
        try:
            self._made.append(_connect(self.tag))
        except Exception as exc:  # noqa: BLE001 - handled by the caller's thread
            self._made.append(exc)

    def _connected(self, wait: bool) -> bool:
        """Whether no connection is being made; if one was, send the waiting texts on it."""
        if self._connecting is None:
            return True
        if not wait and self._connecting.is_alive():
            return False
        self._connecting.join()
        self._connecting = None
        made = self._made.pop()
        if isinstance(made, Exception):
            self._broken(made)
            return True
        self._conn = made
        try:
            for text in self._sent:
                self._conn.send(text)
        except Exception as exc:  # noqa: BLE001 - as in submit
            self._broken(exc)
        return True

    def ready(self) -> bool:
        """Whether the oldest text's answer can be taken without waiting."""
        if not self._sent or not self._connected(wait=False):
            return False
        if self._local is not None:
            return True
        try:
            return self._conn.poll(0)
        except _BROKEN as exc:
            self._broken(exc)
            return True

    def take(self) -> tuple[str, float]:
        """The answer for the oldest text submitted (waits for it).

        Raises:
            IndexError: nothing was submitted.
            RuntimeError: the server failed on the text (lingua's own error).
        """
        text = self._sent[0]
        self._connected(wait=True)
        if self._local is not None:
            self._sent.popleft()
            return self._local.detect(text)
        try:
            status, answer = self._conn.recv()
        except _BROKEN as exc:
            self._broken(exc)
            return self.take()
        self._sent.popleft()
        if status != "ok":
            raise RuntimeError(f"language model server: {answer}")
        return answer[0], answer[1]

    def _broken(self, exc: BaseException) -> None:
        """The connection failed: reconnect once and send the waiting texts again, else a copy."""
        _log.warning("language model server %s: %s", self.tag, exc)
        self._conn = None
        if self.reconnects < 1:
            self.reconnects += 1
            try:
                self._conn = _connect(self.tag)
                for text in self._sent:
                    self._conn.send(text)
                return
            except Exception as again:  # noqa: BLE001
                _log.warning("language model server %s: %s", self.tag, again)
                self._conn = None
        _log.warning("language model server %s: loading a copy in this process", self.tag)
        self._local = LinguaDetector(low_accuracy=False, lazy=True)
        _count_copy()
