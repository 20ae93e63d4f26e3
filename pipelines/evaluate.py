"""``newswatch eval``: how good the flag is, measured on labelled real items.

Every dev-set item goes through the same functions the pipeline uses
(normalise, identify language, flag), so the figures describe the product,
not a copy of it. Output: a table for people and a JSON file for machines.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from transforms.flagging import flag_item
from transforms.item import Item, Source
from transforms.language import identify, make_detector
from transforms.normalise import normalise_item
from transforms.rules import RuleEngine

__all__ = [
    "CHECK_SPLIT_FILES",
    "Counts",
    "flag_quality",
    "format_errors",
    "format_flag_table",
    "in_check_split",
    "load_labelled",
]

# Labelled files read only in part while the packs were written: a third of
# their items (by :func:`in_check_split`) is held out as the check split.
CHECK_SPLIT_FILES = frozenset({"dev-multilingual.jsonl"})


def in_check_split(item_id: str) -> bool:
    """Whether an item belongs to the held-out check split of its file.

    The split is a third of the items, chosen by the item id alone: the first
    eight bytes of SHA-256 of the UTF-8 id, read big-endian, are divisible by
    three. It does not depend on the file's order or on any label, so it is
    the same on every machine and for every version of the file.
    """
    digest = hashlib.sha256(item_id.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") % 3 == 0


@dataclass(slots=True)
class Counts:
    tp: int = 0
    fp: int = 0
    fn: int = 0
    tn: int = 0

    def add(self, predicted: bool, actual: bool) -> None:
        if predicted and actual:
            self.tp += 1
        elif predicted:
            self.fp += 1
        elif actual:
            self.fn += 1
        else:
            self.tn += 1

    @property
    def positives(self) -> int:
        return self.tp + self.fn

    @property
    def precision(self) -> float | None:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else None

    @property
    def recall(self) -> float | None:
        return self.tp / self.positives if self.positives else None

    @property
    def f1(self) -> float | None:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p and r else None

    def as_dict(self) -> dict[str, Any]:
        return {
            "tp": self.tp,
            "fp": self.fp,
            "fn": self.fn,
            "tn": self.tn,
            "positives": self.positives,
            "precision": self.precision,
            "recall": self.recall,
            "f1": self.f1,
        }


def load_labelled(path: Path) -> list[dict[str, Any]]:
    """Read a labelled JSONL set.

    Raises:
        ValueError: a line is not JSON or lacks ``id``, ``text`` or ``flag``.
    """
    rows = []
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ValueError(f"{path}:{number}: not JSON: {exc}") from None
            missing = {"id", "text", "flag"} - set(row)
            if missing:
                raise ValueError(f"{path}:{number}: missing {sorted(missing)}")
            rows.append(row)
    return rows


def _source_group(source: str) -> str:
    return source.split(":", 1)[0]


def _as_item(row: Mapping[str, Any]) -> Item:
    return Item(
        source=Source(kind="eval", name=row.get("source", ""), url=row.get("source", "")),
        guid=str(row["id"]),
        url=None,
        title="",
        text=row["text"],
    )


def flag_quality(
    rows: Iterable[Mapping[str, Any]], engine: RuleEngine, backend: str = "cascade"
) -> dict:
    """Precision, recall and F1 of the flag, overall, per source and per language.

    Language is the detected one (as in the pipeline), grouped under the
    label's language so that each row counts once.
    """
    detector = make_detector(backend)
    overall = Counts()
    by_source: dict[str, Counts] = defaultdict(Counts)
    by_language: dict[str, Counts] = defaultdict(Counts)
    errors: list[dict[str, Any]] = []
    for row in rows:
        item = flag_item(engine, identify(detector, normalise_item(_as_item(row))))
        predicted, actual = bool(item.flags), bool(row["flag"])
        overall.add(predicted, actual)
        by_source[_source_group(row.get("source", ""))].add(predicted, actual)
        by_language[row.get("lang") or "und"].add(predicted, actual)
        if predicted != actual:
            errors.append(
                {
                    "id": row["id"],
                    "kind": "false_positive" if predicted else "false_negative",
                    "language": item.language,
                    "text": row["text"][:300],
                    "evidence": [
                        {
                            "category": f.category,
                            "score": f.score,
                            "rules": list(f.rules),
                            "terms": [t.text for t in f.terms],
                        }
                        for f in item.flags
                    ],
                    "note": row.get("note", ""),
                }
            )
    return {
        "overall": overall.as_dict(),
        "by_source": {k: v.as_dict() for k, v in sorted(by_source.items())},
        "by_language": {k: v.as_dict() for k, v in sorted(by_language.items())},
        "errors": errors,
    }


def _fmt(value: float | None) -> str:
    return "   -" if value is None else f"{value:.3f}"


def format_flag_table(result: Mapping[str, Any]) -> str:
    lines = [
        f"{'group':<28} {'pos':>4} {'tp':>4} {'fp':>4} {'fn':>4} {'prec':>6} {'recall':>6} {'f1':>6}"
    ]

    def row(name: str, c: Mapping[str, Any]) -> None:
        lines.append(
            f"{name:<28} {c['positives']:>4} {c['tp']:>4} {c['fp']:>4} {c['fn']:>4} "
            f"{_fmt(c['precision']):>6} {_fmt(c['recall']):>6} {_fmt(c['f1']):>6}"
        )

    row("overall", result["overall"])
    for name, c in result["by_source"].items():
        row(f"source {name}", c)
    for name, c in result["by_language"].items():
        row(f"language {name}", c)
    return "\n".join(lines)


def format_errors(errors: Sequence[Mapping[str, Any]], limit: int = 40) -> str:
    lines = []
    for e in errors[:limit]:
        why = "; ".join(
            f"{x['category']} {x['score']} {x['rules']} {x['terms'][:4]}" for x in e["evidence"]
        )
        lines.append(
            f"{e['kind']:<15} {e['id']:<14} {e['text'][:90]!r}" + (f"  <- {why}" if why else "")
        )
    if len(errors) > limit:
        lines.append(f"... {len(errors) - limit} more in the JSON output")
    return "\n".join(lines)
