"""Deduplication in streaming: the batch decisions as keyed state with a time-to-live.

The batch passes (:mod:`transforms.dedup`) see the whole collection; a stream
sees one item at a time, so the representative of a story is the first item
processed, and the passes become lookups in what is remembered:

1. ``id`` — an item whose id was seen is the same entry again;
2. ``url`` — an item whose URL key belongs to a remembered item that was not
   itself an id copy;
3. ``content`` — the same, for the hash of the normalised text;
4. ``near`` — an item that is a near-duplicate
   (:func:`transforms.neardup.near_similarity`) of a remembered
   representative, or of an exact copy of one (a copy's full text can be a
   better match than its representative's teaser); the most similar, the
   earliest on a tie. Near copies themselves are not matched against, so a
   chain of edits cannot drift from the story.

Fed in ``rank`` order, this makes exactly the batch decisions (tested).
A copy goes out marked, as in batch; since its representative already went
out, a copy of a flagged representative also produces a
:class:`~transforms.item.ReportUpdate` for the sinks to upsert (not for the
same entry seen again). Only flagged items are published, so an update
naming an unflagged representative would reach no one: each record keeps a
bit saying whether its representative was flagged, and those updates are
only counted (``dedup_updates_unflagged``). Records persisted before that bit
existed read as flagged, so their copies' updates still go out, as before.

State is bounded: each remembered item is one compact binary record (ids,
64-bit key hashes, the packed :class:`~transforms.neardup.Fingerprint` of
items that can be matched against) that expires ``ttl`` after the item's event time. An
event-time timer removes expired records in batches, every ``ttl / 7`` by
default, and clears the state when nothing is left. Only portable features:
one ``BagState``, one ``ReadModifyWriteState``, one watermark timer; no
processing-time timer, so event-time expiry is testable with ``TestStream``
and the DoFn runs on Dataflow and Flink.

All items share one key: a story's copies can arrive from any source, so the
lookups must see everything. The DoFn keeps the decoded lookup tables in
memory between elements and rebuilds them from state whenever the state's
version (a token and a record count) says they are stale, e.g. after a
retry or on another worker.
"""

from __future__ import annotations

import json
import uuid

import apache_beam as beam
from apache_beam.coders import BytesCoder, StrUtf8Coder
from apache_beam.metrics import Metrics
from apache_beam.transforms.timeutil import TimeDomain
from apache_beam.transforms.userstate import (
    BagStateSpec,
    ReadModifyWriteStateSpec,
    TimerSpec,
    on_timer,
)
from apache_beam.utils.timestamp import Timestamp

from transforms.dedup import DUPLICATES_TAG
from transforms.dedup_state import (
    DEFAULT_TTL_SECONDS,
    MICROS,
    DedupState,
    dedup_keys,
)
from transforms.item import Item, Report, ReportUpdate
from transforms.neardup import NearConfig

__all__ = ["DEFAULT_TTL_SECONDS", "UPDATES_TAG", "StreamingDedup"]

UPDATES_TAG = "updates"
_KEY = "newswatch"

# (transform, key) -> (token, count, tables): the decoded lookup tables, valid
# while the state's version (a token changed on every rewrite, and the record
# count) matches. Process-wide, because some runners make a new DoFn instance
# per bundle; Beam never runs one key on two threads at once.
_TABLES: dict[tuple[str, str], tuple[str, int, DedupState]] = {}


class _StreamingDedupFn(beam.DoFn):
    RECORDS = BagStateSpec("records", BytesCoder())
    META = ReadModifyWriteStateSpec("meta", StrUtf8Coder())
    EXPIRY = TimerSpec("expiry", TimeDomain.WATERMARK)

    def __init__(self, config: NearConfig, ttl_seconds: float, cleanup_seconds: float) -> None:
        self._config = config
        self._ttl = ttl_seconds
        self._every = max(1, int(cleanup_seconds * MICROS))
        self._counters = {
            kind: Metrics.counter("newswatch", f"duplicates_{kind}")
            for kind in ("id", "url", "content", "near")
        }
        self._remembered = Metrics.counter("newswatch", "dedup_state_records_added")
        self._expired = Metrics.counter("newswatch", "dedup_state_records_expired")
        self._cleared = Metrics.counter("newswatch", "dedup_state_cleared")
        self._record_bytes = Metrics.distribution("newswatch", "dedup_state_record_bytes")
        self._unflagged = Metrics.counter("newswatch", "dedup_updates_unflagged")

        # Names this transform's tables in the process-wide cache (shared by every copy of the DoFn).
        self._tables = uuid.uuid4().hex

    def _state(self, key: str, records, meta) -> tuple[dict, DedupState]:
        raw = meta.read()
        version = json.loads(raw) if raw else {"token": uuid.uuid4().hex, "count": 0, "timer": None}
        cached = _TABLES.get((self._tables, key))
        if cached is not None and cached[0] == version["token"] and cached[1] == version["count"]:
            return version, cached[2]
        state = DedupState(self._config, self._ttl)
        if raw:
            state.load(records.read())
        return version, state

    def _cleanup_time(self, expiry_micros: int) -> Timestamp:
        # Expired records are removed in batches on a fixed grid, not one timer per record.
        return Timestamp(micros=(expiry_micros // self._every + 1) * self._every)

    def process(
        self,
        element,
        timestamp=beam.DoFn.TimestampParam,
        records=beam.DoFn.StateParam(RECORDS),
        meta=beam.DoFn.StateParam(META),
        expiry=beam.DoFn.TimerParam(EXPIRY),
    ):
        key, item = element
        version, state = self._state(key, records, meta)
        verdict, record = state.observe(dedup_keys(item), timestamp.micros)
        if record is not None:
            records.add(record)
            self._remembered.inc()
            self._record_bytes.update(len(record))
            version["count"] += 1
            due = self._cleanup_time(timestamp.micros + state.ttl).micros
            if version["timer"] is None or due < version["timer"]:
                version["timer"] = due
                expiry.set(Timestamp(micros=due))
            meta.write(json.dumps(version))
        _TABLES[self._tables, key] = (version["token"], version["count"], state)
        if verdict.duplicate is None:
            yield item
            return
        self._counters[verdict.duplicate.kind].inc()
        yield beam.pvalue.TaggedOutput(
            DUPLICATES_TAG, item.replace(duplicate=verdict.duplicate, also_reported_by=())
        )
        if verdict.credit is not None and not verdict.credit_flagged:
            self._unflagged.inc()
        elif verdict.credit is not None:
            report = Report(id=item.id, source=item.source, url=item.url)
            yield beam.pvalue.TaggedOutput(
                UPDATES_TAG, ReportUpdate(representative_id=verdict.credit, report=report)
            )

    @on_timer(EXPIRY)
    def on_expiry(
        self,
        key=beam.DoFn.KeyParam,
        fired=beam.DoFn.TimestampParam,
        records=beam.DoFn.StateParam(RECORDS),
        meta=beam.DoFn.StateParam(META),
        expiry=beam.DoFn.TimerParam(EXPIRY),
    ):
        self._expire(key, fired, records, meta, expiry)

    def _expire(self, key, fired, records, meta, expiry) -> None:
        """Drop expired records and rewrite the rest; clear everything when none is left."""
        version, state = self._state(key, records, meta)
        self._expired.inc(state.expire(fired.micros))
        records.clear()
        if not len(state):
            meta.clear()
            _TABLES.pop((self._tables, key), None)
            self._cleared.inc()
            return
        for record in state.records():
            records.add(record)
        due = self._cleanup_time(state.earliest_expiry()).micros
        version = {"token": uuid.uuid4().hex, "count": len(state), "timer": due}
        meta.write(json.dumps(version))
        expiry.set(Timestamp(micros=due))
        _TABLES[self._tables, key] = (version["token"], version["count"], state)


class StreamingDedup(beam.PTransform):
    """Items (with event timestamps) → ``{"unique", "duplicates", "updates"}``.

    Args:
        ttl_seconds: how long an item is remembered (default 7 days).
        config: the near-duplicate decision's settings.
        cleanup_seconds: how often expired items are removed (default ``ttl / 7``).
    """

    def __init__(
        self,
        ttl_seconds: float = DEFAULT_TTL_SECONDS,
        config: NearConfig = NearConfig(),
        cleanup_seconds: float | None = None,
    ) -> None:
        super().__init__()
        if ttl_seconds <= 0:
            raise ValueError(f"ttl_seconds must be positive (got {ttl_seconds!r})")
        self._ttl = ttl_seconds
        self._config = config
        self._every = cleanup_seconds if cleanup_seconds is not None else ttl_seconds / 7

    def expand(self, items):
        out = (
            items
            | "Key" >> beam.Map(lambda item: (_KEY, item)).with_output_types(tuple[str, Item])
            | "Decide"
            >> beam.ParDo(_StreamingDedupFn(self._config, self._ttl, self._every)).with_outputs(
                DUPLICATES_TAG, UPDATES_TAG, main="unique"
            )
        )
        return {
            "unique": out.unique,
            "duplicates": out[DUPLICATES_TAG],
            "updates": out[UPDATES_TAG],
        }
