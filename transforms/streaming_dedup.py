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
out, the copy also produces a :class:`~transforms.item.ReportUpdate` for the
sinks to upsert (not for the same entry seen again).

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

import hashlib
import json
import re
import struct
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

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

from transforms.dedup import DUPLICATES_TAG, content_key, url_dedup_key
from transforms.item import Duplicate, Item, Report, ReportUpdate
from transforms.neardup import Fingerprint, NearConfig, candidate_keys, fingerprint, near_similarity

__all__ = [
    "DEFAULT_TTL_SECONDS",
    "UPDATES_TAG",
    "DedupKeys",
    "DedupState",
    "StreamingDedup",
    "Verdict",
    "dedup_keys",
]

DEFAULT_TTL_SECONDS = 7 * 24 * 3600
UPDATES_TAG = "updates"
_KEY = "newswatch"
_MICROS = 1_000_000
_HEX_ID = re.compile(r"[0-9a-f]{32}")
# Record flags.
_URL, _CONTENT, _NEAR, _OTHER_REP, _HEX, _REP_HEX = 1, 2, 4, 8, 16, 32
_TITLE_KEY = 1 << 80  # keeps title keys apart from band keys


@dataclass(frozen=True, slots=True)
class DedupKeys:
    """What deduplication needs to know about one item.

    Attributes:
        id: the item's id.
        url: 64-bit hash of its URL key, or None without a URL.
        content: 64-bit hash of its content key, or None when too short.
        near: its fingerprint.
    """

    id: str
    url: int | None
    content: int | None
    near: Fingerprint


def _hash64(text: str) -> int:
    return int.from_bytes(hashlib.blake2b(text.encode("utf-8"), digest_size=8).digest(), "little")


def dedup_keys(item: Item) -> DedupKeys:
    """The :class:`DedupKeys` of an item (the same keys the batch passes group on)."""
    url = url_dedup_key(item)
    content = content_key(item)
    return DedupKeys(
        id=item.id,
        url=None if url is None else _hash64(url),
        content=None if content is None else _hash64(content),
        near=fingerprint(item.title, item.text),
    )


@dataclass(frozen=True, slots=True)
class Verdict:
    """What became of one item.

    Attributes:
        duplicate: set when the item is a copy.
        credit: the representative whose ``also_reported_by`` the copy joins
            (None for a new story and for the same entry seen again).
    """

    duplicate: Duplicate | None = None
    credit: str | None = None


class _Entry:
    """One remembered item, as held in memory."""

    __slots__ = ("content", "expiry", "fp", "id", "keys", "rep", "seq", "url")

    def __init__(
        self,
        id: str,
        rep: str,
        expiry: int,
        url: int | None,
        content: int | None,
        fp: Fingerprint | None,
        seq: int,
    ) -> None:
        self.id, self.rep, self.expiry = id, rep, expiry
        self.url, self.content, self.fp, self.seq = url, content, fp, seq
        self.keys: list[int] = []


def _pack_id(value: str) -> tuple[bool, bytes]:
    if _HEX_ID.fullmatch(value):
        return True, bytes.fromhex(value)
    raw = value.encode("utf-8")
    if len(raw) > 255:
        raise ValueError(f"item id longer than 255 bytes cannot be remembered (got {len(raw)})")
    return False, bytes([len(raw)]) + raw


def _unpack_id(data: bytes, at: int, hexed: bool) -> tuple[str, int]:
    if hexed:
        return data[at : at + 16].hex(), at + 16
    n = data[at]
    return data[at + 1 : at + 1 + n].decode("utf-8"), at + 1 + n


def _encode(entry: _Entry) -> bytes:
    """One record: expiry, flags, id, [representative id], [url], [content], [fingerprint]."""
    hexed, id_bytes = _pack_id(entry.id)
    flags = _HEX if hexed else 0
    parts = [b"", id_bytes]
    if entry.rep != entry.id:
        rep_hexed, rep_bytes = _pack_id(entry.rep)
        flags |= _OTHER_REP | (_REP_HEX if rep_hexed else 0)
        parts.append(rep_bytes)
    if entry.url is not None:
        flags |= _URL
        parts.append(struct.pack("<Q", entry.url))
    if entry.content is not None:
        flags |= _CONTENT
        parts.append(struct.pack("<Q", entry.content))
    if entry.fp is not None:
        flags |= _NEAR
        parts.append(entry.fp.pack())
    parts[0] = struct.pack("<qB", entry.expiry, flags)
    return b"".join(parts)


def _decode(data: bytes, seq: int) -> _Entry:
    expiry, flags = struct.unpack_from("<qB", data)
    item_id, at = _unpack_id(data, 9, bool(flags & _HEX))
    rep = item_id
    if flags & _OTHER_REP:
        rep, at = _unpack_id(data, at, bool(flags & _REP_HEX))
    url = content = None
    if flags & _URL:
        (url,), at = struct.unpack_from("<Q", data, at), at + 8
    if flags & _CONTENT:
        (content,), at = struct.unpack_from("<Q", data, at), at + 8
    fp = Fingerprint.unpack(data[at:]) if flags & _NEAR else None
    return _Entry(item_id, rep, expiry, url, content, fp, seq)


class DedupState:
    """The streaming dedup decisions over what is remembered: a pure state machine.

    Args:
        config: the near-duplicate decision's settings.
        ttl_seconds: how long an item is remembered after its event time.
    """

    def __init__(
        self, config: NearConfig = NearConfig(), ttl_seconds: float = DEFAULT_TTL_SECONDS
    ) -> None:
        if ttl_seconds <= 0:
            raise ValueError(f"ttl_seconds must be positive (got {ttl_seconds!r})")
        self.config = config
        self.ttl = int(ttl_seconds * _MICROS)
        self._entries: list[_Entry] = []
        self._ids: dict[str, _Entry] = {}
        self._urls: dict[int, _Entry] = {}
        self._contents: dict[int, _Entry] = {}
        # Candidate key -> the entry, or a list when several share it (most keys have one).
        self._near: dict[int, _Entry | list[_Entry]] = {}
        self._seq = 0

    def __len__(self) -> int:
        return len(self._entries)

    def records(self) -> Iterator[bytes]:
        """Every remembered item as a binary record (what the DoFn persists)."""
        return (_encode(e) for e in self._entries)

    def load(self, records: Iterable[bytes]) -> DedupState:
        """Add persisted records, in the order they were made."""
        for data in records:
            self._add(_decode(data, self._seq))
        return self

    def earliest_expiry(self) -> int | None:
        """Microseconds at which the first remembered item expires."""
        return min((e.expiry for e in self._entries), default=None)

    def observe(self, keys: DedupKeys, timestamp_micros: int) -> tuple[Verdict, bytes | None]:
        """Decide one item seen at ``timestamp_micros`` and remember it.

        Returns:
            The verdict, and the record that now remembers the item (None for
            the same entry seen again, which adds nothing).
        """
        now = timestamp_micros
        seen = self._ids.get(keys.id)
        if seen is not None and seen.expiry > now:
            return Verdict(Duplicate(of=seen.id, kind="id")), None
        expiry = now + self.ttl
        near_keys = self._near_keys(keys.near)
        anchor = keys.near if near_keys else None
        by_url = self._urls.get(keys.url) if keys.url is not None else None
        if by_url is not None and by_url.expiry > now:
            verdict = Verdict(Duplicate(of=by_url.id, kind="url"), credit=by_url.rep)
            entry = _Entry(keys.id, by_url.rep, expiry, None, None, anchor, self._seq)
            return verdict, self._remember(entry, near_keys)
        by_content = self._contents.get(keys.content) if keys.content is not None else None
        if by_content is not None and by_content.expiry > now:
            verdict = Verdict(Duplicate(of=by_content.id, kind="content"), credit=by_content.rep)
            entry = _Entry(keys.id, by_content.rep, expiry, keys.url, None, anchor, self._seq)
            return verdict, self._remember(entry, near_keys)
        best: tuple[float, int, _Entry] | None = None
        checked: set[int] = set()
        for key in near_keys:
            found = self._near.get(key, ())
            for other in (found,) if isinstance(found, _Entry) else found:
                if other.seq in checked or other.expiry <= now:
                    continue
                checked.add(other.seq)
                similarity = near_similarity(keys.near, other.fp, self.config)
                if similarity is not None and (
                    best is None or (-similarity, other.seq) < (-best[0], best[1])
                ):
                    best = (similarity, other.seq, other)
        if best is not None:
            similarity, _, match = best
            verdict = Verdict(
                Duplicate(of=match.rep, kind="near", similarity=round(similarity, 4)),
                credit=match.rep,
            )
            # A near copy is not matched against: chains of copies would drift from the story.
            entry = _Entry(keys.id, match.rep, expiry, keys.url, keys.content, None, self._seq)
            return verdict, self._remember(entry, [])
        entry = _Entry(keys.id, keys.id, expiry, keys.url, keys.content, anchor, self._seq)
        return Verdict(), self._remember(entry, near_keys)

    def expire(self, now_micros: int) -> int:
        """Forget every item whose time-to-live has passed by ``now_micros``; returns how many."""
        keep, gone = [], []
        for entry in self._entries:
            (keep if entry.expiry > now_micros else gone).append(entry)
        for entry in gone:
            self._unindex(entry)
        self._entries = keep
        return len(gone)

    def _remember(self, entry: _Entry, near_keys: list[int]) -> bytes:
        entry.keys = near_keys
        self._add(entry)
        return _encode(entry)

    def _add(self, entry: _Entry) -> None:
        # Keys of a new record replace older ones: an older holder of the same
        # key has expired, or the new item would have been its copy.
        entry.seq = self._seq
        self._seq += 1
        self._entries.append(entry)
        self._ids[entry.id] = entry
        if entry.url is not None:
            self._urls[entry.url] = entry
        if entry.content is not None:
            self._contents[entry.content] = entry
        if entry.fp is not None:
            if not entry.keys:
                entry.keys = self._near_keys(entry.fp)
            for key in entry.keys:
                found = self._near.get(key)
                if found is None:
                    self._near[key] = entry
                elif isinstance(found, _Entry):
                    self._near[key] = [found, entry]
                else:
                    found.append(entry)

    def _unindex(self, entry: _Entry) -> None:
        if self._ids.get(entry.id) is entry:
            del self._ids[entry.id]
        if entry.url is not None and self._urls.get(entry.url) is entry:
            del self._urls[entry.url]
        if entry.content is not None and self._contents.get(entry.content) is entry:
            del self._contents[entry.content]
        for key in entry.keys:
            found = self._near.get(key)
            if found is entry:
                del self._near[key]
            elif isinstance(found, list):
                found.remove(entry)
                if len(found) == 1:
                    self._near[key] = found[0]

    def _near_keys(self, fp: Fingerprint) -> list[int]:
        # The candidate keys as ints: in memory they cost half as much as strings.
        return [
            int(k[1:], 16) | _TITLE_KEY if k[0] == "t" else int(k, 16)
            for k in candidate_keys(fp, self.config)
        ]


# ---------------------------------------------------------------- Beam

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
        self._every = max(1, int(cleanup_seconds * _MICROS))
        self._counters = {
            kind: Metrics.counter("newswatch", f"duplicates_{kind}")
            for kind in ("id", "url", "content", "near")
        }
        self._remembered = Metrics.counter("newswatch", "dedup_state_records_added")
        self._expired = Metrics.counter("newswatch", "dedup_state_records_expired")
        self._cleared = Metrics.counter("newswatch", "dedup_state_cleared")
        self._record_bytes = Metrics.distribution("newswatch", "dedup_state_record_bytes")

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
        if verdict.credit is not None:
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
