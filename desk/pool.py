"""Store connections for the desk's worker threads.

A :class:`connectors.store.ReviewStore` holds one SQLite connection that one
thread uses at a time. Requests run on a thread pool, and an export streams
over several pool hops, so connections are lent out whole (:meth:`StorePool.store`)
rather than tied to threads: while a request holds one, nobody else uses it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from connectors.store import ReviewStore

__all__ = ["StorePool"]

# How long the filter choices (distinct languages, sources ...) are reused:
# counting them scans the table, and they change only as items arrive.
FACETS_TTL = 30.0


class StorePool:
    """Open review-store connections, lent one request at a time.

    Args:
        path: the store file (created with its schema if missing).
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._idle: list[ReviewStore] = []
        self._all: list[ReviewStore] = []
        self._lock = threading.Lock()
        self._cache: dict[str, tuple[float, Any]] = {}
        # Open one now: a file that is not a review store fails at start, not on first use.
        with self.store():
            pass

    @contextmanager
    def store(self) -> Iterator[ReviewStore]:
        with self._lock:
            opened = self._idle.pop() if self._idle else None
        if opened is None:
            opened = ReviewStore(self.path)
            with self._lock:
                self._all.append(opened)
        try:
            yield opened
        finally:
            with self._lock:
                self._idle.append(opened)

    def cached(self, key: str, compute: Callable[[], Any], ttl: float = FACETS_TTL) -> Any:
        """``compute()``, reused for ``ttl`` seconds."""
        now = time.monotonic()
        hit = self._cache.get(key)
        if hit is not None and now - hit[0] < ttl:
            return hit[1]
        value = compute()
        self._cache[key] = (now, value)
        return value

    def close(self) -> None:
        with self._lock:
            for opened in self._all:
                opened.close()
            self._all.clear()
            self._idle.clear()
