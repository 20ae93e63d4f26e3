"""The stream's counts: Beam counters named as the keys of ``summary.json``, and a local tally.

:class:`StageCounters` is the streaming summary form of
:func:`pipelines.pipeline.build`; :func:`count` adds to a counter and to
:data:`LOCAL_TALLY`, which the launcher reads on the local runner.
"""

from __future__ import annotations

import threading
from collections import Counter

import apache_beam as beam
from apache_beam.metrics import Metrics

from pipelines.summary import dead_letter_keys, item_keys

__all__ = ["LOCAL_TALLY", "NAMESPACE", "StageCounters", "count", "local_tally"]

NAMESPACE = "newswatch"

# The same counts, kept in this process. The local streaming runner loses
# counter updates: its state sampler keeps the metrics container of the first
# bundle each worker thread ran for a step, so later bundles' updates never
# reach the job's metrics. Its DoFns run in the launcher's process, which
# reads these instead; on Dataflow the Beam counters are the source.
LOCAL_TALLY: Counter[str] = Counter()
_TALLY_LOCK = threading.Lock()


def count(name: str, n: int = 1, counters: dict | None = None) -> None:
    """Adds ``n`` to the Beam counter ``newswatch/<name>`` and to :data:`LOCAL_TALLY`."""
    cache = counters if counters is not None else {}
    counter = cache.get(name)
    if counter is None:
        counter = cache[name] = Metrics.counter(NAMESPACE, name)
    counter.inc(n)
    with _TALLY_LOCK:
        LOCAL_TALLY[name] += n


def local_tally() -> dict[str, int]:
    """A snapshot of :data:`LOCAL_TALLY`."""
    with _TALLY_LOCK:
        return dict(LOCAL_TALLY)


class _CountFn(beam.DoFn):
    """Increments one counter per summary key of each record."""

    def __init__(self, keys_of) -> None:
        self._keys_of = keys_of
        self._counters: dict[str, object] = {}

    def process(self, record):
        for key in self._keys_of(record):
            count(key, 1, self._counters)


def _read_keys(_item) -> list[str]:
    return ["entries.read"]


class StageCounters(beam.PTransform):
    """The streaming summary form: ``{"items", "dead_letters", "files", "read"}`` → counters.

    Counter names are the keys of the batch ``summary.json``, so
    :func:`pipelines.summary.check_identities` holds over them too once the
    stream is idle.
    """

    def expand(self, pcolls):
        pcolls["items"] | "CountItems" >> beam.ParDo(_CountFn(item_keys))
        pcolls["dead_letters"] | "CountDeadLetters" >> beam.ParDo(_CountFn(dead_letter_keys))
        pcolls["read"] | "CountRead" >> beam.ParDo(_CountFn(_read_keys))
        return pcolls["read"].pipeline | "NoSummary" >> beam.Create([]).with_output_types(str)
