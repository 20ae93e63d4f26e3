"""The ``near`` pass in batch: candidate pairs by key, verified once, decided per component.

Items meet their candidate copies by LSH band and title keys
(:func:`transforms.neardup.candidate_keys`); each candidate pair is verified
once (:func:`verify_pair`), and in ``rank`` order each item joins the most
similar earlier representative it was verified against, or becomes a
representative itself (:func:`assign_leaders`). A copy therefore always
points at a representative, never at another copy.

Only packed :class:`transforms.dedup.Member` records travel here, never
items, and what a grouping holds per item stays small and linear in the
input:

1. ``CandidateKeys`` and ``Pairs`` (:mod:`transforms.dedup_candidates`):
   per candidate key, about 28 bytes, under the key's first
   :data:`~transforms.dedup_pairs.COARSE` characters, joined per bundle and
   waiting in frame files, one per part (up to :data:`NEAR_PARTS`) and
   bundle; each part is read and paired in one step, holding about 1/parts
   of the entries; :func:`bucket_pairs` pairs each item with at most
   :data:`WINDOW` earlier ones per key (a headline repeated 10,000 times
   gives linearly many pairs, not 50 million);
2. ``JoinEarlier`` / ``JoinLater`` (:mod:`transforms.dedup_joins`): each
   item's packed entry (rank, id, fingerprint) and the pairs wait in part
   files by ref; per part of the earlier item its entry is sent to the
   later one's part, and per part of the later one each pair is verified,
   once, holding one part's entries at a time (only file ids are grouped);
3. ``Components``: the verified pairs and the exact copies' links to their
   representatives are grouped by connected component
   (:class:`~transforms.dedup_components.GroupByComponent`, no global key),
   and :func:`assign_leaders` decides each group: it only follows pairs and
   links, so a component's decisions are those made over everything;
4. the near decisions and the credits they give representatives are as many
   as the near copies: they reach the survivors as side inputs. The
   survivors and anchors wait for them in frame files, not in the runner.
"""

from __future__ import annotations

from collections.abc import Iterable

import apache_beam as beam

from transforms.dedup_candidates import FLUSH_BYTES, CandidateFilesFn, CandidatesFn, part_pairs
from transforms.dedup_components import GroupByComponent
from transforms.dedup_joins import VerifyInParts
from transforms.dedup_member import as_member, pack_record, peek_member, unpack_record
from transforms.dedup_pairs import (
    WINDOW,
    Edge,
    assign_leaders,
    bucket_pairs,
    candidate_entries,
    join_entries,
    pack_entry,
    split_entries,
    unpack_entry,
    verify_pair,
)
from transforms.item import Duplicate
from transforms.neardup import NearConfig
from transforms.spill import FRAMES_SUFFIX, DeleteSpill, FrameSpillFn, read_frames

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

# Names the tests and earlier callers know these steps by.
_CandidatesFn, _CandidateFilesFn, _part_pairs = CandidatesFn, CandidateFilesFn, part_pairs

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
    """An anchor's record → ``(copy id, representative id, link)``, a record of its component."""
    packed, duplicate = record
    if duplicate is not None and duplicate.kind in _ANCHOR_KINDS:
        copy = as_member(packed).id
        yield copy, duplicate.of, ("link", copy, duplicate.of)


def _leaders(grouped) -> Iterable[tuple[str, tuple[str, float]]]:
    """One group of whole components' pairs and links → its near decisions."""
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
        # The candidate entries wait in files, a file per part and bundle;
        # each part is then read and paired in one step, which holds about
        # 1/parts of the entries at a time (a grouping of them would be held
        # whole, and copied while read back, by a runner such as FnApiRunner).
        paired = (
            entries
            | "CandidateKeys" >> beam.ParDo(CandidateFilesFn(config, spill_dir, self._parts))
            | "PartFiles" >> beam.GroupByKey()
            | "Pairs" >> beam.FlatMap(part_pairs, spill_dir).with_outputs("done", main="pairs")
        )
        paired.done | "DeleteCandidates" >> DeleteSpill(spill_dir, FRAMES_SUFFIX)
        # Each pair is verified in the part of its later item, where the
        # earlier item's entry is sent from the part of the earlier one
        # (transforms.dedup_joins): only file ids are grouped.
        verified = (entries, paired.pairs) | "Verify" >> VerifyInParts(
            spill_dir, config, self._parts
        )
        edges = verified | "Edges" >> beam.Map(
            lambda edge: (edge[1], edge[3], ("edge", *edge))
        )
        links = records | "Links" >> beam.FlatMap(_link)
        # A decision follows pairs and links only: each connected component
        # of them is decided in a group of its own, in rank order, as a
        # stream would see it, and no one group holds them all.
        near_of = (
            (edges, links)
            | "PairsAndLinks" >> beam.Flatten()
            | "Components" >> GroupByComponent()
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
