"""Dedup keys per item: the fast path against the general one, in one process, alternating.

    python -m benchmarks.dedupkeys_bench INPUT_DIR [--repeat N]

Reads and normalises every feed file under INPUT_DIR (as the replay does),
then times, best of ``--repeat`` runs each, alternating:

* ``dedup keys``: :func:`transforms.dedup_state.dedup_keys` (one fold of the
  text gives the fingerprint and the content key,
  :mod:`transforms.neardup_fast`) against the same keys built the general
  way (:func:`transforms.neardup._general_fingerprint` and
  :func:`transforms.dedup_member.content_key`, the code before the fast
  path, kept as its reference);
* ``dedup decide``: :class:`~transforms.dedup_state.DedupState` over those
  keys in rank order, with its integer candidate keys made from the
  signature's bytes against the same state parsing them back from
  :func:`~transforms.neardup.candidate_keys` strings (as it did before).

Both sides must give equal keys and verdicts (checked before timing). It
prints CPU seconds, microseconds per item and the ratio, and the load
average: the machine may be shared, so only the ratio is a figure.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from connectors.feeds import parse_feed
from transforms.dedup_member import content_key, rank, url_dedup_key
from transforms.dedup_state import _TITLE_KEY, DedupKeys, DedupState, dedup_keys
from transforms.dedup_state_records import _hash64
from transforms.item import Item
from transforms.neardup import Fingerprint, NearConfig, _general_fingerprint, candidate_keys
from transforms.normalise import normalise_or_reason

__all__ = ["general_keys", "main"]


def general_keys(item: Item) -> DedupKeys:
    """:func:`dedup_keys` the general way: fingerprint and content key each on its own."""
    url, content = url_dedup_key(item), content_key(item)
    return DedupKeys(
        id=item.id,
        url=None if url is None else _hash64(url),
        content=None if content is None else _hash64(content),
        near=_general_fingerprint(item.title, item.text),
        flagged=item.flagged,
    )


class _StringKeysState(DedupState):
    """The state as it made its integer keys before: from the candidate key strings."""

    def _near_keys(self, fp: Fingerprint) -> list[int]:
        return [
            int(k[1:], 16) | _TITLE_KEY if k[0] == "t" else int(k, 16)
            for k in candidate_keys(fp, self.config)
        ]


def _items(input_dir: Path) -> list[Item]:
    out = []
    for path in sorted(p for p in input_dir.rglob("*") if p.is_file()):
        for raw in parse_feed(path.name, path.read_bytes()).items:
            normal = normalise_or_reason(raw)
            if not isinstance(normal, str):
                out.append(normal)
    return sorted(out, key=rank)


def _decide(state: DedupState, keys: list[DedupKeys]) -> list:
    return [state.observe(k, 0) for k in keys]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("input", type=Path)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    items = _items(args.input)
    fast = [dedup_keys(i) for i in items]
    general = [general_keys(i) for i in items]
    if fast != general:
        print("dedup keys differ between the fast and the general path", file=sys.stderr)
        return 1
    config = NearConfig()
    forever = 10**12
    if _decide(DedupState(config, forever), fast) != _decide(
        _StringKeysState(config, forever), fast
    ):
        print("decisions differ between integer and string candidate keys", file=sys.stderr)
        return 1
    jobs = {
        "dedup keys": (
            lambda: [general_keys(i) for i in items],
            lambda: [dedup_keys(i) for i in items],
        ),
        "dedup decide": (
            lambda: _decide(_StringKeysState(config, forever), fast),
            lambda: _decide(DedupState(config, forever), fast),
        ),
    }
    best: dict[tuple[str, str], float] = {}
    loads = [os.getloadavg()[0]]
    for _ in range(args.repeat):
        for name, sides in jobs.items():
            for side, job in zip(("general", "fast"), sides, strict=True):
                started = time.process_time()
                job()
                spent = time.process_time() - started
                best[name, side] = min(best.get((name, side), spent), spent)
        loads.append(os.getloadavg()[0])
    n = len(items)
    print(
        f"{n} items, CPU seconds, best of {args.repeat}, alternating in one process; "
        f"load average {min(loads):.1f}-{max(loads):.1f}; equal keys and verdicts"
    )
    for name in jobs:
        old, new = best[name, "general"], best[name, "fast"]
        print(
            f"  {name:<14} before {old:6.2f} s ({1e6 * old / n:5.0f} us/item)   "
            f"now {new:6.2f} s ({1e6 * new / n:5.0f} us/item)   {old / new:.2f}x"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
