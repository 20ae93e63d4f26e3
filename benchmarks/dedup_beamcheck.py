"""The Beam batch ``Dedup`` run on a sample of the dedup evaluation, against the loop's decisions.

:func:`beam_check` is ``python -m benchmarks.dedup_eval --beam-check N``: it
counts the items whose batch decision differs from the one the state machine
made in rank order.
"""

from __future__ import annotations

import json
import tempfile
import time
from collections import Counter
from pathlib import Path

from transforms.item import Item
from transforms.neardup import NearConfig

__all__ = ["beam_check"]


def beam_check(items: list[Item], config: NearConfig, expected: dict[str, tuple[str, str]]) -> dict:
    """Run the Beam batch ``Dedup`` on ``items``; count decisions that differ from ``expected``."""
    import apache_beam as beam
    from apache_beam.options.pipeline_options import PipelineOptions

    import transforms.coders  # noqa: F401
    from pipelines.commands.replay import DEFAULT_RUNNER
    from transforms.dedup import Dedup
    from transforms.item import from_json, to_json

    with tempfile.TemporaryDirectory() as tmp:
        src, dst = Path(tmp, "in.jsonl"), Path(tmp, "out")
        src.write_text("\n".join(to_json(i) for i in items) + "\n", encoding="utf-8")
        started = time.perf_counter()
        with beam.Pipeline(options=PipelineOptions([f"--runner={DEFAULT_RUNNER}"])) as p:
            out = (
                p
                | beam.io.ReadFromText(str(src))
                | beam.Map(from_json).with_output_types(Item)
                | Dedup(config)
            )
            (
                (out["unique"], out["duplicates"])
                | beam.Flatten()
                | beam.Map(
                    lambda i: json.dumps(
                        [
                            i.id,
                            i.duplicate.kind if i.duplicate else "new",
                            i.duplicate.of if i.duplicate else i.id,
                        ]
                    )
                )
                | beam.io.WriteToText(str(dst), shard_name_template="", num_shards=1)
            )
        seconds = time.perf_counter() - started
        rows = [json.loads(line) for line in dst.read_text(encoding="utf-8").splitlines()]
    # A batch copy points at its direct representative (which may be a copy
    # of another kind); follow the chain to the cluster.
    first = {item_id: (kind, of) for item_id, kind, of in rows if kind != "id"}

    def cluster(item_id: str) -> str:
        seen = set()
        while first[item_id][0] != "new" and item_id not in seen:
            seen.add(item_id)
            item_id = first[item_id][1]
        return item_id

    differ = sum(
        (cluster(item_id), kind) != (expected[item_id][0], expected[item_id][1])
        for item_id, (kind, _) in first.items()
    )
    differ += sum(1 for item_id, kind, of in rows if kind == "id" and of != item_id)
    kinds = Counter(kind for _, kind, _ in rows)
    return {
        "items": len(items),
        "outputs": len(rows),
        "kinds": dict(kinds),
        "disagreements": differ,
        "seconds": round(seconds, 1),
    }
