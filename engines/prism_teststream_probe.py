"""Probe: does Prism deliver TestStream elements to a streaming Python pipeline?

    .venv/bin/python engines/prism_teststream_probe.py [--runner prism|direct] [--stateful]

This is a probe, not a test (docs/engines.md says what it shows on Prism
v2.62.0). It runs one small streaming pipeline: a TestStream of three
(key, value) pairs at event times 1, 2 and 6 with the watermark advanced in
between, then either a plain Map or, with ``--stateful``, a keyed DoFn that
keeps each key's values in bag state and emits them when an event-time timer
fires. What reaches the end is written to a file and printed. On
BundleBasedDirectRunner (``--runner direct``) the plain pipeline prints the
three pairs and the stateful one ``('a', ['x', 'y'])`` and ``('b', ['z'])``.
Exit status 0 only if the expected records came out.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import apache_beam as beam  # noqa: E402
from apache_beam.coders import StrUtf8Coder, TupleCoder  # noqa: E402
from apache_beam.options.pipeline_options import PipelineOptions  # noqa: E402
from apache_beam.testing.test_stream import TestStream  # noqa: E402
from apache_beam.transforms.timeutil import TimeDomain  # noqa: E402
from apache_beam.transforms.userstate import BagStateSpec, TimerSpec, on_timer  # noqa: E402
from apache_beam.transforms.window import TimestampedValue  # noqa: E402

from tests.engines.enginekit import prism_path  # noqa: E402

__all__ = ["KeepUntilWatermark", "main"]

PAIR = TupleCoder([StrUtf8Coder(), StrUtf8Coder()])


class KeepUntilWatermark(beam.DoFn):
    """Bags each key's values; an event-time timer 10 s after the last one emits them."""

    BAG = BagStateSpec("bag", StrUtf8Coder())
    TIMER = TimerSpec("flush", TimeDomain.WATERMARK)

    def process(
        self,
        pair,
        timestamp=beam.DoFn.TimestampParam,
        bag=beam.DoFn.StateParam(BAG),
        timer=beam.DoFn.TimerParam(TIMER),
    ):
        bag.add(pair[1])
        timer.set(timestamp + 10)

    @on_timer(TIMER)
    def flush(self, key=beam.DoFn.KeyParam, bag=beam.DoFn.StateParam(BAG)):
        yield key, sorted(bag.read())
        bag.clear()


class _Append(beam.DoFn):
    """Appends each record's repr to a file (the harness may run in another thread)."""

    def __init__(self, path: str) -> None:
        self._path = path

    def process(self, record):
        with open(self._path, "a", encoding="utf-8") as sink:
            sink.write(repr(record) + "\n")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runner", choices=("prism", "direct"), default="prism")
    parser.add_argument("--stateful", action="store_true")
    args = parser.parse_args()
    if args.runner == "prism":
        flags = [
            "--runner=PrismRunner",
            f"--prism_location={prism_path()}",
            "--environment_type=LOOPBACK",
        ]
    else:
        flags = ["--runner=BundleBasedDirectRunner"]
    out = Path(tempfile.mkdtemp(prefix="prism-teststream-")) / "out.txt"
    out.touch()
    stream = (
        TestStream(coder=PAIR)
        .add_elements([TimestampedValue(("a", "x"), 1), TimestampedValue(("a", "y"), 2)])
        .advance_watermark_to(5)
        .add_elements([TimestampedValue(("b", "z"), 6)])
        .advance_watermark_to_infinity()
        .with_output_types(tuple[str, str])
    )
    step = beam.ParDo(KeepUntilWatermark()) if args.stateful else beam.Map(lambda pair: pair)
    pipeline = beam.Pipeline(options=PipelineOptions([*flags, "--streaming"]))
    _ = pipeline | stream | step | beam.ParDo(_Append(str(out)))
    pipeline.run().wait_until_finish()
    got = sorted(out.read_text(encoding="utf-8").splitlines())
    want = (
        ["('a', ['x', 'y'])", "('b', ['z'])"]
        if args.stateful
        else ["('a', 'x')", "('a', 'y')", "('b', 'z')"]
    )
    print(f"{args.runner}: {len(got)} record(s) came out: {got}")
    return 0 if got == want else 1


if __name__ == "__main__":
    sys.exit(main())
