"""``newswatch eval``: how good the flag is, measured on labelled real items.

Every labelled item goes through the same functions the pipeline uses
(normalise, identify language, flag), so the figures describe the product,
not a copy of it. Each file is scored overall, per language (the label's)
and per source; a file named in :data:`CHECK_SPLIT_FILES` is also scored on
its held-out check split and on the rest, side by side. Every miss and false
alarm is listed with the rules that fired, or else the rule that came
nearest (:func:`nearest_rule`). Tables are in :mod:`pipelines.eval_report`.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from transforms.flagging import flag_item
from transforms.item import Item, Source
from transforms.language import identify, make_detector
from transforms.normalise import normalise_item
from transforms.rules import FLAG_CATEGORIES, RuleEngine

__all__ = [
    "CHECK",
    "CHECK_SPLIT_FILES",
    "REST",
    "Counts",
    "flag_quality",
    "in_check_split",
    "load_labelled",
    "nearest_rule",
]

# Labelled files read only in part while the packs were written: a third of
# their items (by :func:`in_check_split`) is held out as the check split.
CHECK_SPLIT_FILES = frozenset({"dev-multilingual.jsonl"})
CHECK = "check"
REST = "rest"


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
    def items(self) -> int:
        return self.tp + self.fp + self.fn + self.tn

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
        if p is None or r is None:
            return None
        return 2 * p * r / (p + r) if p + r else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "items": self.items,
            "positives": self.positives,
            "tp": self.tp,
            "fp": self.fp,
            "fn": self.fn,
            "tn": self.tn,
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


def nearest_rule(
    engine: RuleEngine, fields: Mapping[str, str], language: str | None
) -> dict[str, Any] | None:
    """The flag rule that came nearest to firing on a text that was not flagged.

    A rule's conditions are each of its ``all`` terms plus one for its ``any``
    group. The nearest rule is the one with the largest share of its
    conditions met by terms found in the text; ties go to more conditions
    met, then to the higher weight. A rule with every condition met failed on
    its ``within`` window or on a ``none`` exclusion, which the result says.
    ``None`` when no flag rule has a single condition met.
    """
    found = engine.matched_terms(fields, language)
    best = None
    for rule in engine.rules_for(language):
        if rule.category not in FLAG_CATEGORIES:
            continue
        need = list(rule.all) + ([None] if rule.any else [])
        met = [t for t in rule.all if t in found]
        any_hit = [t for t in rule.any if t in found]
        score = len(met) + (1 if any_hit else 0)
        if not score:
            continue
        key = (score / len(need), score, rule.weight)
        if best is None or key > best[0]:
            missing = [t for t in rule.all if t not in found]
            if rule.any and not any_hit:
                missing.append("any of " + "|".join(rule.any))
            matched = {t: found[t][:2] for t in (*met, *any_hit)}
            blocked = [t for t in rule.none if t in found]
            best = (key, rule, score, len(need), matched, missing, blocked)
    if best is None:
        return None
    _, rule, score, need, matched, missing, blocked = best
    if missing:
        why = "missing " + ", ".join(missing)
    elif blocked:
        why = "excluded by " + ", ".join(blocked)
    else:
        why = f"terms not within {rule.within} words"
    return {
        "rule": rule.id,
        "met": score,
        "conditions": need,
        "matched": matched,
        "why": why,
    }


def _evidence(flags) -> list[dict[str, Any]]:
    return [
        {
            "category": f.category,
            "score": f.score,
            "rules": list(f.rules),
            "terms": [t.text for t in f.terms],
        }
        for f in flags
    ]


def flag_quality(
    rows: Iterable[Mapping[str, Any]],
    engine: RuleEngine,
    backend: str = "cascade",
    split: bool = False,
) -> dict:
    """Precision, recall and F1 of the flag: overall, per source and per language.

    Language is the label's, so each row counts once in one language. With
    ``split``, the same figures are also given for the held-out check split
    and for the rest (``result["splits"]``), and every error says its split.
    """
    detector = make_detector(backend)
    overall = Counts()
    by_source: dict[str, Counts] = defaultdict(Counts)
    by_language: dict[str, Counts] = defaultdict(Counts)
    splits: dict[str, dict[str, Any]] = {
        name: {"overall": Counts(), "by_language": defaultdict(Counts)} for name in (REST, CHECK)
    }
    errors: list[dict[str, Any]] = []
    for row in rows:
        item = flag_item(engine, identify(detector, normalise_item(_as_item(row))))
        predicted, actual = bool(item.flags), bool(row["flag"])
        language = row.get("lang") or "und"
        overall.add(predicted, actual)
        by_source[_source_group(row.get("source", ""))].add(predicted, actual)
        by_language[language].add(predicted, actual)
        part = None
        if split:
            part = CHECK if in_check_split(str(row["id"])) else REST
            splits[part]["overall"].add(predicted, actual)
            splits[part]["by_language"][language].add(predicted, actual)
        if predicted == actual:
            continue
        error: dict[str, Any] = {
            "id": row["id"],
            "kind": "false_positive" if predicted else "false_negative",
            "split": part,
            "language": language,
            "detected_language": item.language,
            "text": row["text"][:300],
            "evidence": _evidence(item.flags),
            "note": row.get("note", ""),
        }
        if not predicted:
            fields = {"title": item.title, "text": item.text}
            evaluation = engine.evaluate(fields, item.rules_language)
            below = [c for c in evaluation.candidates if c.category in FLAG_CATEGORIES]
            error["below_threshold"] = _evidence(below)
            if not below:
                error["nearest"] = nearest_rule(engine, fields, item.rules_language)
        errors.append(error)
    result: dict[str, Any] = {
        "overall": overall.as_dict(),
        "by_source": {k: v.as_dict() for k, v in sorted(by_source.items())},
        "by_language": {k: v.as_dict() for k, v in sorted(by_language.items())},
        "errors": errors,
    }
    if split:
        result["splits"] = {
            name: {
                "overall": part["overall"].as_dict(),
                "by_language": {k: v.as_dict() for k, v in sorted(part["by_language"].items())},
            }
            for name, part in splits.items()
        }
    return result
