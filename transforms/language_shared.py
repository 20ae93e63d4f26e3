"""lingua's high-accuracy models, loaded once per machine instead of once per worker process.

The cascade's vote sends the texts where CLD2 and lingua's low-accuracy mode
disagree to lingua's high-accuracy mode, whose first Latin-script text loads
about 1 GB of models in 5–10 CPU s. A runner with several SDK worker
processes on one machine (DirectRunner's ``multi_processing`` mode, the
processes of a Dataflow VM or a Flink task manager) would pay that in every
process. :class:`SharedAccurate` asks one copy instead, through Beam's
:class:`~apache_beam.utils.multi_process_shared.MultiProcessShared`: the
first process to need the model holds it and serves the others' calls over a
local socket (about a tenth of a millisecond a call, against about a
millisecond for the call itself); that process calls it directly.

Each run has its own tag (:func:`new_tag`), so two runs never share a model
whose holder may end with the other run. The tag names a lock file and an
address file in :func:`shared_dir`; :func:`forget` removes them when the run
is over. If the holder cannot be reached (it ended, or the socket broke), the
caller asks again once, and after that loads its own copy: a broken share
costs memory, never answers.
"""

from __future__ import annotations

import logging
import os
import tempfile
import threading
import uuid
from typing import Any

from transforms.langid_backends import LinguaDetector

__all__ = ["SharedAccurate", "forget", "new_tag", "shared_dir", "take_copies"]

_log = logging.getLogger(__name__)
# The errors a proxy raises when the holder is gone or the connection broke;
# lingua's own errors on a text come back as themselves.
_BROKEN = (OSError, EOFError)


def shared_dir() -> str:
    """The folder of the share's lock and address files (made if missing)."""
    path = os.path.join(tempfile.gettempdir(), "newswatch-shared-models")
    os.makedirs(path, exist_ok=True)
    return path


def new_tag() -> str:
    """A tag for one run's shared model: unique, and safe in a file name."""
    return f"lingua-accurate-{uuid.uuid4().hex}"


def forget(tag: str) -> None:
    """Remove a finished run's lock and address files (those that exist)."""
    base = os.path.join(shared_dir(), tag)
    for suffix in (".lock", ".address", ".address.tmp"):
        try:
            os.unlink(base + suffix)
        except FileNotFoundError:
            pass


_copies = 0
_copies_lock = threading.Lock()


def take_copies() -> int:
    """How many copies this process made since the last call (the holder's, or its own)."""
    global _copies
    with _copies_lock:
        made, _copies = _copies, 0
    return made


def _accurate() -> LinguaDetector:
    # Runs in the process that holds the share, or in one that could not
    # reach it. lazy: each language's models still load only when a text
    # first needs them.
    global _copies
    with _copies_lock:
        _copies += 1
    return LinguaDetector(low_accuracy=False, lazy=True)


class SharedAccurate:
    """lingua's high-accuracy detector, one per machine for the run tagged ``tag``.

    It stands in for ``LinguaDetector(low_accuracy=False, lazy=True)``: the
    same :meth:`detect` and :attr:`loaded`. It connects on its first call,
    so a run whose texts never need the model never starts the share.

    Args:
        tag: the run's tag (:func:`new_tag`); every process given the same
            tag on one machine uses the same model.
    """

    name = "lingua"

    def __init__(self, tag: str) -> None:
        self.tag = tag
        self._share: Any = None
        self._remote: Any = None
        self._local: LinguaDetector | None = None
        self.reconnects = 0

    @property
    def loaded(self) -> bool:
        """Whether this process has asked for the model yet (its own copy or the share)."""
        return self._remote is not None or (self._local is not None and self._local.loaded)

    @property
    def is_local(self) -> bool:
        """Whether the share failed and this process loaded its own copy."""
        return self._local is not None

    def _connect(self) -> Any:
        from apache_beam.utils.multi_process_shared import MultiProcessShared

        # The share object is kept: in the process that holds the model it
        # also holds the server that answers the others.
        self._share = MultiProcessShared(_accurate, self.tag, path=shared_dir())
        return self._share.acquire()

    def detect(self, text: str) -> tuple[str, float]:
        if self._local is not None:
            return self._local.detect(text)
        for _attempt in range(2):
            if self._remote is None:
                try:
                    self._remote = self._connect()
                except Exception as exc:  # noqa: BLE001 - any failure to share: load a copy
                    _log.warning("shared language model %s: cannot connect: %s", self.tag, exc)
                    break
            try:
                code, confidence = self._remote.detect(text)
                return code, confidence
            except _BROKEN as exc:
                self._remote = None
                self.reconnects += 1
                _log.warning("shared language model %s unreachable: %s", self.tag, exc)
        _log.warning("shared language model %s: loading a copy in this process", self.tag)
        self._local = _accurate()
        return self._local.detect(text)
