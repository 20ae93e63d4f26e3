"""Streaming-dedup state per remembered item, on the real feed items (a figure of docs/scaling.md).

    .venv/bin/python engines/dedup_state_size.py [--corpora DIR]

Every entry of ``feeds/real`` goes, normalised, through the streaming dedup
DoFn (``transforms.streaming_dedup``) with in-memory stand-ins for its bag,
value and timer, one second apart under one key; what the bag holds at the end
is what Dataflow or Flink would keep for those items until their TTL ends.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from apache_beam.utils.timestamp import Timestamp  # noqa: E402

from connectors.feeds import parse_feed  # noqa: E402
from transforms.item import to_json  # noqa: E402
from transforms.neardup import NearConfig  # noqa: E402
from transforms.normalise import normalise_item  # noqa: E402
from transforms.streaming_dedup import _StreamingDedupFn  # noqa: E402

__all__ = ["main"]


class _Bag:
    def __init__(self) -> None:
        self.values: list[bytes] = []

    def read(self) -> list[bytes]:
        return list(self.values)

    def add(self, value: bytes) -> None:
        self.values.append(value)

    def clear(self) -> None:
        self.values = []


class _Value:
    def __init__(self) -> None:
        self.value = None

    def read(self):
        return self.value

    def write(self, value) -> None:
        self.value = value

    def clear(self) -> None:
        self.value = None


class _Timer:
    def set(self, at) -> None:
        self.at = at


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpora", default=str(REPO.parent / "shared" / "corpora"))
    real = Path(parser.parse_args().corpora) / "feeds" / "real"
    items = [
        normalise_item(item)
        for path in sorted(real.rglob("*"))
        if path.is_file()
        for item in parse_feed(str(path), path.read_bytes()).items
    ]
    fn = _StreamingDedupFn(NearConfig(), ttl_seconds=7 * 86400, cleanup_seconds=3600)
    fn.setup()
    records, meta, timer = _Bag(), _Value(), _Timer()
    for n, item in enumerate(items):
        list(fn.process(("k", item), Timestamp(1_700_000_000 + n), records, meta, timer))
    kept = len(records.values)
    state = sum(len(r) for r in records.values) + len(meta.read() or "")
    item_json = sum(len(to_json(i)) for i in items) / len(items)
    print(f"{len(items)} items, {kept} remembered: {state / kept:,.0f} B of dedup state each")
    print(f"(an item's JSON is {item_json:,.0f} B on average; state keeps keys, not items)")


if __name__ == "__main__":
    main()
