"""The batch near pass: each pair verified once, pairs linear in a crowded bucket, twins."""

from __future__ import annotations

import apache_beam as beam
from apache_beam.testing.util import assert_that, equal_to

from transforms.dedup import Dedup, rank
from transforms.dedup_near import (
    WINDOW,
    _CandidatesFn,
    bucket_pairs,
    candidate_entries,
    join_entries,
    pack_entry,
    split_entries,
    unpack_entry,
    verify_pair,
)
from transforms.dedup_pairs import _order
from transforms.dedup_pairs import ref as _ref
from transforms.neardup import NearConfig, fingerprint

CONFIG = NearConfig()
LEAD = (
    "Investigators exhumed bodies from a mass grave in a forest outside the town on Tuesday, the "
    "regional prosecutor's office said, and forensic experts described signs of torture on several "
    "of the victims found at the site near the checkpoint"
)


def _entries(texts: list[str], title: str) -> dict[str, tuple]:
    """id → (rank, id, packed fingerprint, is copy) for each text."""
    out = {}
    for n, text in enumerate(texts):
        item_id = f"id{n:05d}"
        rank = (f"2026-03-{n // 24 + 1:02d}T{n % 24:02d}", "", item_id)
        out[item_id] = (rank, item_id, fingerprint(title, text).pack(), False)
    return out


def _pairs(members: dict[str, tuple], window: int = WINDOW) -> set[tuple[str, str]]:
    """The pure form of the pass's first two steps: candidate pairs, by id."""
    groups: dict[str, list[bytes]] = {}
    refs = {}
    for rank, item_id, fp, copy in members.values():
        refs[_ref(item_id)] = item_id
        for coarse, entry in candidate_entries(rank, item_id, fp, copy, CONFIG):
            groups.setdefault(coarse, []).append(entry)
    found = set()
    for entries in groups.values():
        found |= bucket_pairs(entries, window)
    return {(refs[a], refs[b]) for a, b in found}


def test_candidates_are_pairs_sharing_a_key_verified_once():
    texts = [LEAD + f" {suffix}" for suffix in ("today.", "this week.", "on Tuesday.")]
    texts.append("Ceasefire talks resumed in the capital on Monday with both delegations present.")
    members = _entries(texts, "Mass grave found")
    pairs = _pairs(members)
    # Under one headline every pair is a candidate (the title key); the bands
    # alone would not pair the other story.
    assert len(pairs) == 6
    edges = {
        (a, b): verify_pair(pack_entry(*members[a]), pack_entry(*members[b]), CONFIG)
        for a, b in pairs
    }
    verified = {pair for pair, edge in edges.items() if edge is not None}
    assert verified == {("id00000", "id00001"), ("id00000", "id00002"), ("id00001", "id00002")}
    assert all(edges[pair][1] < edges[pair][3] for pair in verified)
    # The order of the two halves does not matter; the earlier one comes first.
    assert verify_pair(pack_entry(*members["id00002"]), pack_entry(*members["id00000"]), CONFIG)[1] == "id00000"


def test_a_headline_repeated_hundreds_of_times_gives_linearly_many_pairs():
    # A daily bulletin under one headline, the same text each day: every issue
    # shares every key with every other, the worst case for pairs.
    copies = 300
    pairs = _pairs(_entries([LEAD] * copies, "Daily bulletin"))
    index = {f"id{n:05d}": n for n in range(copies)}
    assert all(0 < index[b] - index[a] <= WINDOW for a, b in pairs)
    assert len(pairs) == sum(min(j, WINDOW) for j in range(copies))  # not 44,850


def test_a_later_exact_copy_is_not_verified_against():
    members = _entries([LEAD, LEAD + " again."], "Mass grave found")
    rank, item_id, fp, _ = members["id00001"]
    members["id00001"] = (rank, item_id, fp, True)
    assert verify_pair(pack_entry(*members["id00000"]), pack_entry(*members["id00001"]), CONFIG) is None


def test_byte_identical_repeats_in_one_file_keep_one_item(pipeline, make_item):
    entry = make_item(id="a", origin="feed.xml", text=LEAD)
    other = make_item(id="b", origin="feed.xml", text="Another story entirely, about talks.")
    with pipeline as p:
        out = p | beam.Create([entry, entry, entry, other]) | Dedup()
        assert_that(
            out["unique"] | "U" >> beam.Map(lambda i: (i.id, i.duplicate)),
            equal_to([("a", None), ("b", None)]),
            label="unique",
        )
        assert_that(
            out["duplicates"] | "D" >> beam.Map(lambda i: (i.id, i.duplicate.kind, i.duplicate.of)),
            equal_to([("a", "id", "a"), ("a", "id", "a")]),
            label="duplicates",
        )


def test_rank_is_what_orders_a_bucket(make_item):
    early = make_item(id="z", published="2026-03-01T00:00:00Z")
    late = make_item(id="a", published="2026-03-02T00:00:00Z")
    assert rank(early) < rank(late)


def test_bucket_entries_pack_to_bytes_and_back():
    fp = fingerprint("Mass grave found", LEAD).pack()
    rank = ("2026-03-01T00:00:00Z", "\uffff", "id\u00e9", "ab" * 32, "https://wire.example/rss")
    packed = pack_entry(rank, "id\u00e9", fp, True)
    assert isinstance(packed, bytes)
    assert unpack_entry(packed) == (rank, "id\u00e9", fp, True)


def test_joined_entries_split_back_in_order():
    entries = [b"", b"a", b"x" * 254, b"y" * 255, b"z" * 70_000]
    assert list(split_entries(join_entries(entries))) == entries
    assert list(split_entries(join_entries([]))) == []


def test_candidates_join_entries_per_coarse_key_and_flush_when_full():
    members = _entries([LEAD, LEAD + " Updated.", "Another story entirely, about talks."], "Grave")
    packed = [pack_entry(*m) for m in members.values()]
    expected: dict[str, list[bytes]] = {}
    for rank, item_id, fp, copy in members.values():
        for coarse, entry in candidate_entries(rank, item_id, fp, copy, CONFIG):
            expected.setdefault(coarse, []).append(entry)
    for flush in (1, 1 << 20):  # after every member, or once at the end of the bundle
        fn = _CandidatesFn(CONFIG, flush_bytes=flush)
        fn.start_bundle()
        out = [kv for m in packed for kv in fn.process(m)]
        out += [w.value for w in fn.finish_bundle()]
        got: dict[str, list[bytes]] = {}
        for coarse, joined in out:
            got.setdefault(coarse, []).extend(split_entries(joined))
        assert got == expected
        assert (len(out) > len(expected)) == (flush == 1)


def test_dates_in_entries_are_short_and_sort_as_the_strings_do():
    dates = [
        "2026-03-10T08:00:00Z",
        "2026-03-10T08:00:00.123456Z",
        "2026-03-10T08:00:00.5Z",
        "2026-03-10T08:00:01Z",
        "2025-12-31T23:59:59Z",
        "2026-03-10T08:00:00",
        "\uffff",
    ]
    pairs = [(a, b) for a in dates for b in dates]
    assert sorted(pairs) == sorted(pairs, key=lambda r: _order(r))
    assert len(_order(("2026-03-10T08:00:00Z", "\uffff"))) == 10


def test_records_pack_with_their_duplicate_and_back():
    from transforms.dedup_member import pack_record, unpack_record
    from transforms.item import Duplicate

    for record in [
        (b"packed member", None),
        (b"\x00\xff", Duplicate(of="id\u00e9", kind="url")),
        (b"", Duplicate(of="x", kind="near", similarity=0.8125)),
    ]:
        assert unpack_record(pack_record(record)) == record


def test_a_survivor_goes_on_only_when_it_can_have_a_decision(make_item):
    from transforms.dedup_member import member, pack_member
    from transforms.dedup_near import _mark

    plain, leader, copy = (make_item(id=n, guid=n, text=LEAD) for n in ("p", "l", "c"))
    near_of, leaders = {"c": ("l", 0.9)}, {"l": None}
    packed = {i.id: pack_member(member(i, CONFIG, "F")) for i in (plain, leader, copy)}
    assert list(_mark((packed["p"], None), near_of, leaders)) == []
    (rest,) = _mark((packed["l"], None), near_of, leaders)
    assert (rest.tag, rest.value) == ("rest", packed["l"])
    marked, credit = _mark((packed["c"], None), near_of, leaders)
    assert marked[1].kind == "near" and marked[1].of == "l" and credit.tag == "credit"
    # A survivor with twins has a decision to carry even without near copies.
    twin = member(plain, CONFIG, "F")._replace(twins=1)
    (rest,) = _mark((pack_member(twin), None), {}, {})
    assert rest.tag == "rest"


def test_near_pass_leaves_no_record_file_behind(pipeline, make_item, tmp_path):
    spill = tmp_path / "spill"
    early = make_item(id="a", guid="a", url="https://a.example/1", text=LEAD,
                      published="2026-03-01T00:00:00Z")
    late = make_item(id="b", guid="b", url="https://b.example/1", text=LEAD + " today",
                     published="2026-03-02T00:00:00Z")
    with pipeline as p:
        out = p | beam.Create([early, late]) | Dedup(spill_dir=str(spill))
        assert_that(
            out["items"] | beam.Map(lambda i: (i.id, i.duplicate and i.duplicate.kind,
                                               [r.id for r in i.also_reported_by])),
            equal_to([("a", None, ["b"]), ("b", "near", [])]),
        )
    assert not spill.exists() or list(spill.rglob("*")) == []


def test_members_leave_their_fingerprint_in_the_spill_files_frames(make_item):
    from transforms.dedup import _spill_near_record
    from transforms.dedup_member import member, unpack_member

    item = make_item(text=LEAD)
    key, (packed, frame) = _spill_near_record(CONFIG, item, "F")
    m = member(item, CONFIG, "F")
    assert m.near and unpack_member(packed) == m._replace(near=b"")
    assert frame == bytes((len(key),)) + key.encode() + pack_entry(m.rank, m.id, m.near, False)
    # Too little text for a fingerprint: no frame at all.
    assert _spill_near_record(CONFIG, make_item(text="Short."), "F")[1][1] is None


def test_near_input_keeps_survivors_marks_anchors_and_drops_id_copies_and_twins(tmp_path):
    from transforms.dedup_near import _near_entries, near_frame
    from transforms.item import Duplicate
    from transforms.spill import FrameSpillFn

    fp = fingerprint("Mass grave found", LEAD).pack()
    entries = {h: pack_entry((f"2026-03-0{n}", "", h), h, fp, False)
               for n, h in enumerate(("s", "u", "i", "c"), 1)}
    fn = FrameSpillFn(str(tmp_path))
    fn.setup()
    fn.start_bundle()
    for h in ("s", "u", "i", "s", "c"):  # "s" twice: a twin
        list(fn.process(near_frame(h, (f"2026-03-0{'suic'.index(h) + 1}", "", h), h, fp)))
    (file_id,) = [w.value for w in fn.finish_bundle()]
    copies = [("u", (Duplicate(of="x", kind="url"), (), 0)),
              ("i", (Duplicate(of="x", kind="id"), (), 0)),
              ("c", (Duplicate(of="x", kind="content"), (), 0))]
    out = list(_near_entries((file_id, {"file": [None], "copy": copies}), str(tmp_path)))
    assert out[:-1] == [entries["s"], b"\x01" + entries["u"][1:], b"\x01" + entries["c"][1:]]
    assert [unpack_entry(e)[3] for e in out[:-1]] == [False, True, True]
    assert (out[-1].tag, out[-1].value) == ("done", file_id)


def test_candidates_paired_by_part_from_files_give_the_pairs_of_one_grouping(tmp_path):
    from collections import defaultdict

    from transforms.dedup_near import _CandidateFilesFn, _part_pairs

    texts = [LEAD + f" {n}" for n in range(6)] + ["Another story entirely, about talks."] * 3
    members = _entries(texts, "Grave")
    expected = {(_ref(a), _ref(b)) for a, b in _pairs(members)}
    assert expected
    for parts, flush in ((1, 1 << 20), (3, 1), (7, 200)):
        spill = tmp_path / f"p{parts}"
        fn = _CandidateFilesFn(CONFIG, str(spill), parts, flush_bytes=flush)
        fn.setup()
        files: dict[int, list[str]] = defaultdict(list)
        for bundle in (list(members.values())[:4], list(members.values())[4:]):
            fn.start_bundle()
            for m in bundle:
                assert list(fn.process(pack_entry(*m))) == []
            for w in fn.finish_bundle():
                part, file_id = w.value
                files[part].append(file_id)
        assert set(files) <= set(range(parts)) and len(files) > (parts > 1)
        got, done = set(), []
        for part, ids in files.items():
            for out in _part_pairs((part, ids), str(spill)):
                if isinstance(out, beam.pvalue.TaggedOutput):
                    done.append(out.value)
                else:
                    got.add(out)
        assert got == expected
        assert sorted(done) == sorted(f for ids in files.values() for f in ids)


def test_candidate_entries_are_the_candidate_keys_split_at_the_coarse_part():
    from transforms.dedup_pairs import COARSE
    from transforms.neardup import candidate_keys

    text = " ".join(f"word{n} shelling report village{n % 7}" for n in range(60))
    for title in ("Shelling of the market", "One", ""):
        fp = fingerprint(title, text)
        for config in (CONFIG, NearConfig(bands=128, rows=1), NearConfig(bands=16, rows=8)):
            for copy in (False, True):
                rank_ = ("2026-03-10T08:00:00Z", "2026-03-10T09:00:00Z", "id", "sha", "src")
                got = candidate_entries(rank_, "item-1", fp.pack(), copy, config)
                tail = bytes((copy,)) + _ref("item-1") + _order(rank_)
                want = []
                for key in candidate_keys(fp, config):
                    rest = key[COARSE:]
                    fine = bytes.fromhex(rest if len(rest) % 2 == 0 else "0" + rest)
                    want.append((key[:COARSE], bytes((len(fine),)) + fine + tail))
                assert got == want and len(got) == config.bands + (title.count(" ") >= 1)
