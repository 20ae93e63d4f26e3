"""The item record: one news item or post, defined once and used by every stage.

An item is born in a connector (``source``, ``guid``, ``url``, ``title``, raw
``text``), then each transform returns a copy with its own fields filled in:
normalisation (``text``, ``canonical_url``, ``id``), language identification,
flagging, deduplication. Records are frozen so that a stage can never change
what another stage already emitted.

There is exactly one JSON form (:func:`to_json` / :func:`from_json`); every
sink writes it and the Beam coder encodes it, so what crosses a worker
boundary is what lands in ``items.jsonl``.

Every name below is importable from here. The parts live in
:mod:`transforms.item_records` (the record classes and schema versions),
:mod:`transforms.item_ids` (ids and hashes), :mod:`transforms.item_json` (the
JSON form) and :mod:`transforms.item_deadletters` (dead letters of items);
none of them imports Beam.
"""

from __future__ import annotations

from transforms.item_deadletters import DEAD_LETTER_TAG, failure_reason, item_dead_letter
from transforms.item_ids import COLLISION_MARK, collision_id, item_id, sha256_hex
from transforms.item_json import dead_letter_from_dict, from_dict, from_json, to_dict, to_json
from transforms.item_records import (
    READABLE_SCHEMA_VERSIONS,
    SCHEMA_VERSION,
    ArchiveRecord,
    DeadLetter,
    Duplicate,
    Flag,
    Item,
    MatchedTerm,
    Media,
    Report,
    ReportUpdate,
    Source,
)

__all__ = [
    "COLLISION_MARK",
    "DEAD_LETTER_TAG",
    "SCHEMA_VERSION",
    "DeadLetter",
    "Duplicate",
    "Flag",
    "ArchiveRecord",
    "collision_id",
    "Item",
    "MatchedTerm",
    "Media",
    "READABLE_SCHEMA_VERSIONS",
    "Report",
    "ReportUpdate",
    "Source",
    "dead_letter_from_dict",
    "failure_reason",
    "from_dict",
    "from_json",
    "item_dead_letter",
    "item_id",
    "sha256_hex",
    "to_dict",
    "to_json",
]
