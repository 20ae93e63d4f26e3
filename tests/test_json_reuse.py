"""The JSON of items read back unchanged from dedup's spill files is reused, not encoded again.

:func:`transforms.item_json.remember_json` holds on :func:`to_json`'s round
trip: ``to_json(from_json(text)) == text`` for every text ``to_json``
writes. That is checked here on the real feeds (parsed, normalised, flagged)
and on the records orjson refuses; the sinks' bytes are compared with the
general path (nothing remembered).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from connectors.feeds import parse_feed
from connectors.sinks import serialise
from transforms.dedup import handle
from transforms.dedup_apply import ApplyFileFn
from transforms.flagging import flag_item
from transforms.item import Duplicate, Flag, MatchedTerm, Report, Source, from_json
from transforms.item_json import _KNOWN_MAX, forget_json, remember_json, to_json
from transforms.normalise import normalise_or_reason
from transforms.spill import spill_path


@pytest.fixture(autouse=True)
def _nothing_remembered():
    forget_json()
    yield
    forget_json()


def _real_items(corpora: Path, engine, limit: int = 1500) -> list:
    items: list = []
    paths = sorted(p for p in (corpora / "feeds" / "real").rglob("*") if p.is_file())
    for path in paths:
        for raw in parse_feed(path.name, path.read_bytes()).items:
            normal = normalise_or_reason(raw)
            if not isinstance(normal, str):
                items.append(flag_item(engine, normal))
        if len(items) >= limit:
            break
    return items


def _odd_items(make_item) -> list:
    # What orjson refuses or writes otherwise, so json writes it: a lone
    # surrogate, a small float, an integer past 64 bits (which orjson reads
    # as a float: from_json reads it with json).
    term = MatchedTerm("t1", "war crimes", "title", 0, 4, "lone", "r")
    flag = Flag("war_crime_allegation", 1e-05, (term,), "s", ("r",))
    return [
        make_item(title="lone \ud800 surrogate"),
        make_item(flags=(flag,)),
        make_item(views=2**70),
        make_item(also_reported_by=(Report("x", Source("feed", "B", "https://b.example"), "u"),)),
    ]


def test_to_json_gives_back_every_text_it_read(corpora, engine, make_item):
    items = _real_items(corpora, engine) + _odd_items(make_item)
    assert len(items) > 500 and any(i.flags for i in items)
    for item in items:
        text = to_json(item)
        assert to_json(from_json(text)) == text


def test_a_remembered_object_gets_its_text_and_an_equal_one_is_encoded(make_item):
    item = make_item()
    text = to_json(item)
    remember_json(item, "remembered")
    assert to_json(item) == "remembered"
    # Equal but another object: the general path.
    twin = dataclasses.replace(item)
    assert twin == item and twin is not item
    assert to_json(twin) == text
    forget_json()
    assert to_json(item) == text


def test_what_is_remembered_stays_bounded(make_item):
    from transforms import item_json

    held = [make_item(guid=f"g{n}") for n in range(3 * _KNOWN_MAX)]
    for item in held:
        remember_json(item, "x")
        assert len(item_json._KNOWN) <= _KNOWN_MAX
    assert to_json(held[-1]) == "x"


def test_apply_writes_the_same_bytes_as_the_general_path(corpora, engine, make_item, tmp_path):
    items = _real_items(corpora, engine, limit=200) + _odd_items(make_item)
    spill = str(tmp_path)
    lines = "".join(f"{handle(i)}\t{to_json(i)}\n" for i in items)
    Path(spill_path(spill, "f1")).write_text(lines, encoding="utf-8", errors="surrogatepass")
    # One copy and one representative with a report: decided items are encoded anew.
    copy, rep = items[1], items[2]
    report = (Report(id="other", source=rep.source, url="https://other.example/1"),)
    decisions = [
        (handle(copy), (Duplicate(of=items[0].id, kind="url"), (), 0)),
        (handle(rep), (None, report, 0)),
    ]
    fast = []
    for out in ApplyFileFn(spill).process(("f1", {"file": [None], "decision": decisions})):
        if getattr(out, "tag", None) is None:
            fast.append(_bytes(out))
    assert len(fast) == len(items)
    forget_json()
    general = []
    for out in ApplyFileFn(spill).process(("f1", {"file": [None], "decision": decisions})):
        if getattr(out, "tag", None) is None:
            forget_json()
            general.append(_bytes(dataclasses.replace(out)))
    assert fast == general
    assert b'"kind":"url"' in fast[1] and b"other.example" in fast[2]


def _bytes(item) -> bytes:
    try:
        return serialise(item)
    except UnicodeEncodeError:
        return b"unwritable"  # the sink's dead letter, on either path
