"""Run every benchmark in turn: ``python -m benchmarks`` (what ``make bench`` does)."""

from __future__ import annotations

import importlib
import sys
import time

BENCHMARKS = (
    "flag_bench",
    "langid_bench",
    "cascade_modes",
    "dedup_bench",
    "startup_bench",  # with ARGUMENTS below
    "replay_bench",
    "poll_bench",
    "desk_bench",
    "hostile_bench",
    "stream_bench",
    "memory_bench",  # last: the 1M-item replay takes long
)
# Options beyond each benchmark's defaults: the figures the README gives.
ARGUMENTS = {
    "startup_bench": ["--workers", "2"],
    "replay_bench": ["--cld2-bound"],
}


def main() -> int:
    for name in BENCHMARKS:
        module = importlib.import_module(f"benchmarks.{name}")
        print(f"\n=== {name} ===", flush=True)
        started = time.monotonic()
        sys.argv = [name, *ARGUMENTS.get(name, [])]
        module.main()
        print(f"({name} took {time.monotonic() - started:.0f} s)", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
