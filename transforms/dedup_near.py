"""The ``near`` pass in batch: candidate pairs by key, verified once, one decision.

Items meet their candidate copies by LSH band and title keys
(:func:`transforms.neardup.candidate_keys`); each candidate pair is verified
once (:func:`verify_pair`), and in ``rank`` order each item joins the most
similar earlier representative it was verified against, or becomes a
representative itself (:func:`assign_leaders`). A copy therefore always
points at a representative, never at another copy.

Only packed :class:`transforms.dedup.Member` records travel here, never
items, and what a grouping holds per item stays small and linear in the
input:

1. ``CandidateKeys`` and ``Pairs``: per candidate key, about 28 bytes (an
   8-byte ref of the item, its dates in 10 bytes, the rest of the key),
   under the key's first :data:`~transforms.dedup_pairs.COARSE` characters, joined per bundle into
   one bytes object per coarse key (:func:`join_entries`). The joined
   entries wait in frame files, one per part (by coarse key, up to
   :data:`NEAR_PARTS`) and bundle; the files are grouped by part (a few ids)
   and each part is read and grouped by coarse key in one step, holding
   about 1/parts of the entries at a time; :func:`bucket_pairs` pairs each
   item with at most :data:`~transforms.dedup_pairs.WINDOW` earlier ones per key (a headline
   repeated 10,000 times gives linearly many pairs, not 50 million);
2. ``JoinEarlier`` / ``JoinLater``: each item's packed entry (rank, id,
   fingerprint) meets its pairs by ref, once per side; a pair found under
   several keys is verified once;
3. the near decisions and the credits they give representatives are as many
   as the near copies: they reach the survivors as side inputs. The
   survivors and anchors wait for them in frame files, not in the runner.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

import apache_beam as beam
from apache_beam.transforms.window import GlobalWindows

from transforms.dedup_member import as_member, pack_record, peek_member, unpack_record
from transforms.dedup_pairs import (
    WINDOW,
    Edge,
    assign_leaders,
    bucket_pairs,
    candidate_entries,
    join_entries,
    pack_entry,
    ref,
    split_entries,
    unpack_entry,
    verify_pair,
)
from transforms.item import Duplicate
from transforms.neardup import NearConfig
from transforms.spill import (
    FRAMES_SUFFIX,
    DeleteSpill,
    FrameSpillFn,
    PartWriters,
    default_spill_dir,
    part_of,
    read_frames,
)

__all__ = [
    "FLUSH_BYTES",
    "NEAR_PARTS",
    "WINDOW",
    "Edge",
    "NearDedup",
    "assign_leaders",
    "bucket_pairs",
    "candidate_entries",
    "join_entries",
    "near_frame",
    "pack_entry",
    "split_entries",
    "unpack_entry",
    "verify_pair",
]

# Bytes of candidate entries a bundle buffers before it writes them joined
# (about 2.5 times as much as Python objects); the part files take them in
# any number of pieces.
FLUSH_BYTES = 4 << 20
# The most parts the candidate entries (about 0.9 KB per item) are paired
# in: a part is read and paired in one step, in memory.
NEAR_PARTS = 64


# ---------------------------------------------------------------- Beam

_ANCHOR_KINDS = ("url", "content")


def near_frame(handle: str, rank: tuple, item_id: str, fingerprint: bytes) -> bytes | None:
    """What an item's spill file keeps for the near pass: its handle and packed entry.

    None without a fingerprint. The entry is packed as a representative's
    (:func:`pack_entry`); :func:`_near_entries` marks the anchors.
    """
    if not fingerprint:
        return None
    key = handle.encode("utf-8", "surrogatepass")
    return bytes((len(key),)) + key + pack_entry(rank, item_id, fingerprint, False)


def _near_entries(joined, spill_dir: str):
    """One spill file's near frames and its exact copies → the packed entries of the near pass.

    A survivor of the exact passes keeps its entry; an anchor (a copy of kind
    url or content) has its entry marked a copy; an ``id`` copy, and a twin
    after the first, have none. Then the file's id, tagged ``done``.
    """
    file_id, grouped = joined
    copies = {handle: decision[0].kind for handle, decision in grouped["copy"]}
    seen: set[str] = set()
    for frame in read_frames(spill_dir, file_id):
        size = frame[0]
        handle = frame[1 : 1 + size].decode("utf-8", "surrogatepass")
        if handle in seen:
            continue
        seen.add(handle)
        kind = copies.get(handle)
        if kind is None:
            yield frame[1 + size :]
        elif kind in _ANCHOR_KINDS:
            yield b"\x01" + frame[2 + size :]
    yield beam.pvalue.TaggedOutput("done", file_id)


def _link(record: tuple):
    packed, duplicate = record
    if duplicate is not None and duplicate.kind in _ANCHOR_KINDS:
        yield "near", ("link", as_member(packed).id, duplicate.of)


class _CandidatesFn(beam.DoFn):
    """Members → ``(coarse key, joined entries)``, joined per coarse key within a bundle.

    Buffers at most ``flush_bytes`` of entries before it emits them (and the
    rest at the end of its bundle, in the global window: a batch step).
    """

    def __init__(self, config: NearConfig, flush_bytes: int = FLUSH_BYTES) -> None:
        self._config = config
        self._flush = flush_bytes

    def start_bundle(self) -> None:
        self._buffer: dict[str, list[bytes]] = defaultdict(list)
        self._size = 0

    def process(self, packed_entry: bytes):
        rank, item_id, fp, is_copy = unpack_entry(packed_entry)
        for coarse, entry in candidate_entries(rank, item_id, fp, is_copy, self._config):
            self._buffer[coarse].append(entry)
            self._size += len(entry) + 1
        if self._size >= self._flush:
            yield from self._drain()

    def finish_bundle(self):
        for joined in self._drain():
            yield GlobalWindows.windowed_value(joined)

    def _drain(self):
        buffer, self._buffer, self._size = self._buffer, defaultdict(list), 0
        while buffer:
            coarse, entries = buffer.popitem()
            yield coarse, join_entries(entries)


class _CandidateFilesFn(_CandidatesFn):
    """Members' packed entries → their candidate entries in frame files, one per part and bundle.

    The entries of a coarse key, joined as :class:`_CandidatesFn` joins
    them, go to the file of the key's part (its CRC-32 modulo ``parts``), as
    one frame: the key's size (1 byte), the key, the joined entries. Output,
    at the end of the bundle: ``(part, file id)`` for each file written.
    """

    def __init__(
        self, config: NearConfig, spill_dir: str, parts: int, flush_bytes: int = FLUSH_BYTES
    ) -> None:
        super().__init__(config, flush_bytes)
        self._dir = spill_dir
        self._parts = parts

    def setup(self) -> None:
        self._files = PartWriters(self._dir)

    def start_bundle(self) -> None:
        super().start_bundle()
        # Files left open by a failed bundle attempt are abandoned, never read.
        self._files.close()

    def process(self, packed_entry: bytes):
        for coarse, joined in super().process(packed_entry):
            self._write(coarse, joined)
        return ()

    def finish_bundle(self):
        for coarse, joined in self._drain():
            self._write(coarse, joined)
        for file_ref in self._files.close():
            yield GlobalWindows.windowed_value(file_ref)

    def teardown(self) -> None:
        self._files.close()

    def _write(self, coarse: str, joined: bytes) -> None:
        key = coarse.encode("utf-8", "surrogatepass")
        self._files.write(part_of(key, self._parts), bytes((len(key),)) + key + joined)


def _part_pairs(part_files: tuple[int, Iterable[str]], spill_dir: str):
    """One part's candidate files → the candidate pairs of its coarse keys (:func:`bucket_pairs`).

    The part's entries are read into memory, grouped by coarse key, and
    dropped once paired: a part holds about 1/``parts`` of all entries. Then
    the id of each file read, tagged ``done``.
    """
    _, file_ids = part_files
    files = sorted(set(file_ids))
    groups: dict[bytes, list[bytes]] = defaultdict(list)
    for file_id in files:
        for frame in read_frames(spill_dir, file_id):
            size = frame[0]
            groups[frame[1 : 1 + size]].append(frame[1 + size :])
    while groups:
        _, joined = groups.popitem()
        yield from bucket_pairs(entry for data in joined for entry in split_entries(data))
    for file_id in files:
        yield beam.pvalue.TaggedOutput("done", file_id)


def _print(packed_entry: bytes, involved: dict):
    """An item's packed entry by its ref, if some candidate pair needs it."""
    item_ref = ref(unpack_entry(packed_entry)[1])
    if item_ref in involved:
        yield item_ref, packed_entry


def _halves(joined):
    """One item's packed entry, sent to each of its later partners."""
    _, grouped = joined
    for entry in grouped["print"]:
        for partner in set(grouped["pair"]):
            yield partner, entry


def _verified(joined, config: NearConfig):
    _, grouped = joined
    for entry in grouped["print"]:
        for half in set(grouped["half"]):
            edge = verify_pair(half, entry, config)
            if edge is not None:
                yield edge


def _leaders(grouped) -> Iterable[tuple[str, tuple[str, float]]]:
    _, records = grouped
    edges, links = [], []
    for kind, *fields in records:
        (edges if kind == "edge" else links).append(tuple(fields))
    return assign_leaders(edges, links).items()


def _mark(record: tuple, near_of: dict, leaders: dict):
    """A survivor → its near copy with its credit for the leader, or the survivor as it is.

    A survivor that stays goes on (tagged ``rest``) only if it can have a
    decision: it carries reports or twins, or it leads near copies.
    """
    packed, duplicate = record
    if duplicate is not None:
        return
    item_id, reports, twins = peek_member(packed, "id", "reports", "twins")
    decision = near_of.get(item_id)
    if decision is None:
        if reports or twins or item_id in leaders:
            yield beam.pvalue.TaggedOutput("rest", packed)
        return
    m = as_member(packed)
    leader, similarity = decision
    yield (packed, Duplicate(of=leader, kind="near", similarity=similarity))
    yield beam.pvalue.TaggedOutput("credit", (leader, (m.rank, (m.report, *m.reports))))


def _prints_of_file(file_id: str, spill_dir: str, involved: dict):
    """The packed entries that some candidate pair needs, from one frame file of entries.

    Then the file's id, tagged ``read``.
    """
    for entry in read_frames(spill_dir, file_id):
        yield from _print(entry, involved)
    yield beam.pvalue.TaggedOutput("read", file_id)


def _mark_file(file_id: str, spill_dir: str, near_of: dict, leaders: dict):
    """One frame file of records → :func:`_mark` of each; then the file's id, tagged ``done``."""
    for frame in read_frames(spill_dir, file_id):
        yield from _mark(unpack_record(frame), near_of, leaders)
    yield beam.pvalue.TaggedOutput("done", file_id)


def _credit(packed: bytes, credited: dict):
    """A survivor that stays, and the reports of its near copies → its decision, if any."""
    m = as_member(packed)
    credits = sorted(credited.get(m.id, ()), key=lambda c: c[0])
    reports = m.reports + tuple(r for _, batch in credits for r in batch)
    if reports or m.twins:
        yield m.file, (m.handle, (None, reports, m.twins))


class NearDedup(beam.PTransform):
    """``(records, spill files, exact copies)`` → ``(kept decisions, near copies)``.

    Records are ``(packed member, duplicate or None)``: the survivors of the
    exact passes and their copies, in one collection; spill files are
    ``(file id, None)`` for each spill file of the items, whose frame files
    hold each item's :func:`near_frame`; exact copies are the exact passes'
    ``(spill file, (handle, decision))``. Returned: ``(spill file, (handle,
    decision))`` for each survivor with reports or twins, and ``(packed
    member, duplicate)`` for each near copy.

    Fingerprints never travel through the exact passes: each spill file's
    frames are read back beside that file's exact copies (few), which say
    which entries are survivors, anchors or dropped. The entries and the
    surviving records then wait for the near decisions in frame files
    (:class:`~transforms.spill.FrameSpillFn`), read when needed and deleted:
    a runner such as FnApiRunner would hold them in memory while the
    decisions are made.

    Args:
        spill_dir: the folder of the spill files, where the frames wait too
            (any ``FileSystems`` path reached by every worker).
        config: the decision's settings.
        parts: how many groupings the candidate buckets are split into.
    """

    def __init__(
        self, spill_dir: str, config: NearConfig = NearConfig(), parts: int = NEAR_PARTS
    ) -> None:
        super().__init__()
        self._spill_dir = spill_dir
        self._config = config
        self._parts = parts

    def expand(self, inputs):
        records, spill_files, exact_copies = inputs
        config, spill_dir = self._config, self._spill_dir
        record_files = (
            records
            | "PackRecords" >> beam.FlatMap(lambda r: [pack_record(r)] if r[1] is None else [])
            | "SpillRecords" >> beam.ParDo(FrameSpillFn(spill_dir))
        )
        near_input = (
            {"file": spill_files, "copy": exact_copies}
            | "ExactByFile" >> beam.CoGroupByKey()
            | "NearInput"
            >> beam.FlatMap(_near_entries, spill_dir).with_outputs("done", main="entries")
        )
        near_input.done | "DeleteNearFrames" >> DeleteSpill(spill_dir, FRAMES_SUFFIX)
        entries = near_input.entries
        entry_files = entries | "SpillEntries" >> beam.ParDo(FrameSpillFn(spill_dir))
        # The candidate entries wait in files, a file per part and bundle;
        # each part is then read and paired in one step, which holds about
        # 1/parts of the entries at a time (a grouping of them would be held
        # whole, and copied while read back, by a runner such as FnApiRunner).
        part_pairs = (
            entries
            | "CandidateKeys" >> beam.ParDo(_CandidateFilesFn(config, spill_dir, self._parts))
            | "PartFiles" >> beam.GroupByKey()
            | "Pairs" >> beam.FlatMap(_part_pairs, spill_dir).with_outputs("done", main="pairs")
        )
        part_pairs.done | "DeleteCandidates" >> DeleteSpill(spill_dir, FRAMES_SUFFIX)
        pairs = part_pairs.pairs
        # Only the fingerprints of items in some pair travel to the joins.
        involved = (
            pairs
            | "Refs" >> beam.FlatMap(lambda pair: pair)
            | "Involved" >> beam.Distinct()
            | "InvolvedKeys" >> beam.Map(lambda item_ref: (item_ref, None))
        )
        # (Each collection of file ids is read by one step only: one read by
        # two steps that wait for side inputs stalled FnApiRunner.)
        read = entry_files | "Prints" >> beam.FlatMap(
            _prints_of_file, spill_dir, beam.pvalue.AsDict(involved)
        ).with_outputs("read", main="prints")
        read.read | "DeleteEntries" >> DeleteSpill(spill_dir, FRAMES_SUFFIX)
        prints = read.prints
        halves = (
            {"print": prints, "pair": pairs}
            | "JoinEarlier" >> beam.CoGroupByKey()
            | "Halves" >> beam.FlatMap(_halves)
        )
        edges = (
            {"print": prints, "half": halves}
            | "JoinLater" >> beam.CoGroupByKey()
            | "Verify" >> beam.FlatMap(_verified, config)
            | "Edges" >> beam.Map(lambda edge: ("near", ("edge", *edge)))
        )
        links = records | "Links" >> beam.FlatMap(_link)
        # Verified pairs and exact links are few (linear, see WINDOW): one
        # group takes them in rank order, as a stream would see them.
        near_of = (
            (edges, links)
            | "PairsAndLinks" >> beam.Flatten()
            | "Gather" >> beam.GroupByKey()
            | "Leaders" >> beam.FlatMap(_leaders)
        )
        # The decisions and the credits are as many as the near copies: they
        # reach the survivors as side inputs, so that the survivors
        # themselves are never grouped again.
        leaders = near_of | "LeaderIds" >> beam.Map(lambda decision: (decision[1][0], None))
        marked = record_files | "Mark" >> beam.FlatMap(
            _mark_file, spill_dir, beam.pvalue.AsDict(near_of), beam.pvalue.AsDict(leaders)
        ).with_outputs("rest", "credit", "done", main="copies")
        marked.done | "DeleteRecords" >> DeleteSpill(spill_dir, FRAMES_SUFFIX)
        credited = marked.credit | "GroupCredits" >> beam.GroupByKey()
        kept = marked.rest | "Credit" >> beam.FlatMap(_credit, beam.pvalue.AsDict(credited))
        return kept, marked.copies
