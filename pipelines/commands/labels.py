"""``newswatch labels export``: reviewers' decisions as a labelled set for ``newswatch eval``.

The rows have the fields of ``../shared/corpora/labeled/dev.jsonl`` (see its
RUBRIC.md): ``id``, ``source``, ``text``, ``flag``, ``allegation``,
``investigation``, ``other_investigation``, ``lang``, ``note``, plus
``reviewer``, ``decided_at`` and ``url`` for tracing a label back.
"""

from __future__ import annotations

import argparse
import json
import os
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pipelines.commands.common import CliError

__all__ = ["HELP", "NAME", "add_arguments", "label_row", "run"]

NAME = "labels"
HELP = "export reviewers' decisions from the review store as evaluation data"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.description = "Work with the labels reviewers make in the review store."
    sub = parser.add_subparsers(dest="labels_command", required=True, metavar="SUBCOMMAND")
    export = sub.add_parser(
        "export",
        help="write current decisions as JSONL in the labelled-set format",
        description=(
            "Write every item whose current decision is confirmed or dismissed as one JSON line "
            "in the format of labeled/dev.jsonl, so `newswatch eval --dev FILE` measures the "
            "flag against the desk's judgements."
        ),
    )
    export.add_argument("--store", required=True, metavar="FILE", help="review store (SQLite)")
    export.add_argument("--output", required=True, metavar="FILE", help="JSONL file to write")


def label_row(stored: Any, decision: Any) -> dict[str, Any]:
    """One labelled row for a decided item.

    Confirmed: ``flag`` true, with the categories the reviewer set, else the
    pipeline's flags. Dismissed: ``flag``, ``allegation`` and
    ``investigation`` false. ``other_investigation`` follows the reviewer's
    categories when set, else the pipeline's ``other_categories``. A text the
    flagged topic truncated is exported without the truncation marker.

    Args:
        stored: a :class:`connectors.store.StoredItem`.
        decision: its current :class:`connectors.store_queries.Decision`.
    """
    item = stored.item
    text = item.text
    if stored.text_truncated:
        text = text[: stored.text_truncated["kept_chars"]]
    if decision.categories is not None:
        categories = set(decision.categories)
    else:
        categories = {f.category for f in item.flags} | set(item.other_categories)
    confirmed = decision.decision == "confirmed"
    # Eval groups rows by what precedes the first ':' of ``source``: the outlet.
    outlet = (item.source.name or item.source.kind).replace(":", " ")
    return {
        "id": item.id,
        "source": f"{outlet}:{item.source.url}",
        "text": "\n".join(part for part in (item.title, text) if part),
        "flag": confirmed,
        "allegation": confirmed and "war_crime_allegation" in categories,
        "investigation": confirmed and "investigation" in categories,
        "other_investigation": "other_investigation" in categories,
        "lang": item.language or "und",
        "note": decision.note,
        "reviewer": decision.reviewer,
        "decided_at": decision.decided_at,
        "url": item.url,
    }


def run(args: argparse.Namespace, extra: Sequence[str]) -> int:
    import sqlite3

    from connectors.store import ReviewStore
    from connectors.store_queries import decided_items

    if extra:
        raise CliError(f"unknown arguments: {' '.join(extra)}")
    store_path, output = Path(args.store), Path(args.output)
    if not store_path.is_file():
        raise CliError(f"--store: no review store at {store_path}")
    if not output.parent.is_dir():
        raise CliError(f"--output: directory {output.parent} does not exist")
    counts: Counter = Counter()
    partial = output.with_name(output.name + ".partial")
    try:
        with ReviewStore(store_path) as store, partial.open("w", encoding="utf-8") as handle:
            for stored, decision in decided_items(store):
                row = label_row(stored, decision)
                handle.write(json.dumps(row, ensure_ascii=False, sort_keys=True) + "\n")
                counts[decision.decision] += 1
    except sqlite3.Error as exc:
        partial.unlink(missing_ok=True)
        raise CliError(f"--store {store_path}: {exc}") from None
    os.replace(partial, output)  # readers never see half a file
    total = sum(counts.values())
    print(
        f"{total} labels written to {output} "
        f"(confirmed {counts['confirmed']}, dismissed {counts['dismissed']})"
    )
    return 0
