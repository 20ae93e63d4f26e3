"""Rule packs: the YAML format, its validation, and the loaded records.

The format (one file per language, ``transforms/packs/<language>.yaml``) is
described in :mod:`transforms.rules` and in the README; this module only
reads it and refuses what it cannot use, naming the file and the problem.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from transforms.folding import fold

__all__ = [
    "CATEGORIES",
    "FLAG_CATEGORIES",
    "Pack",
    "PackError",
    "Rule",
    "check_patterns",
    "load_pack",
    "read_yaml",
]
# libyaml's safe loader when built in: the same documents, about 8x faster to load.
_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

CATEGORIES = ("war_crime_allegation", "investigation", "other_investigation")
FLAG_CATEGORIES = ("war_crime_allegation", "investigation")


class PackError(ValueError):
    """A rule pack that cannot be loaded, with the file and the reason."""


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    category: str
    weight: float
    any: tuple[str, ...] = ()
    all: tuple[str, ...] = ()
    within: int | None = None
    none: tuple[str, ...] = ()
    none_within: int | None = None


@dataclass(frozen=True, slots=True)
class Pack:
    language: str
    name: str
    glosses: Mapping[str, str]
    patterns: Mapping[str, tuple[str, ...]]
    rules: tuple[Rule, ...]


def _need(cond: bool, where: str, message: str) -> None:
    if not cond:
        raise PackError(f"{where}: {message}")


def check_patterns(pats: object, where: str) -> tuple[str, ...]:
    """A non-empty list of patterns, each word non-empty and each stem at least 3 characters.

    Raises:
        PackError: naming ``where`` and the pattern at fault.
    """
    _need(isinstance(pats, list) and bool(pats), where, "needs a non-empty 'patterns' list")
    for pat in pats:
        for word in str(pat).split():
            stem = word.rstrip("*")
            _need(bool(fold(stem).strip()), where, f"pattern {pat!r} has an empty word")
            if word.endswith("*"):
                _need(len(stem) >= 3, where, f"stem {word!r} is shorter than 3 characters")
    return tuple(str(p) for p in pats)


def read_yaml(path: Path, what: str) -> Any:
    """The YAML document in ``path`` (safe loading).

    Raises:
        PackError: the file cannot be read or parsed, naming it and ``what`` it was to be.
    """
    try:
        return yaml.load(path.read_text(encoding="utf-8"), Loader=_SAFE_LOADER)
    except (OSError, yaml.YAMLError) as exc:
        raise PackError(f"{path}: cannot read {what}: {exc}") from exc


def load_pack(path: Path) -> Pack:
    """Load and validate one pack file.

    Raises:
        PackError: the file is not a valid pack; the message names the file
            and what is wrong with it.
    """
    doc = read_yaml(path, "pack")
    _need(isinstance(doc, dict), str(path), "pack must be a mapping")
    language = doc.get("language")
    _need(isinstance(language, str) and bool(language), str(path), "missing 'language'")
    glosses: dict[str, str] = {}
    patterns: dict[str, tuple[str, ...]] = {}
    for term_id, spec in (doc.get("terms") or {}).items():
        where = f"{path}: term {term_id!r}"
        _need(isinstance(spec, dict), where, "must be a mapping with gloss and patterns")
        _need(bool(spec.get("gloss")), where, "needs an English 'gloss'")
        glosses[term_id] = str(spec["gloss"])
        patterns[term_id] = check_patterns(spec.get("patterns"), where)
    rules = []
    seen: set[str] = set()
    for spec in doc.get("rules") or []:
        rid = spec.get("id")
        where = f"{path}: rule {rid!r}"
        _need(isinstance(rid, str) and rid not in seen, where, "needs a unique 'id'")
        seen.add(rid)
        _need(spec.get("category") in CATEGORIES, where, f"category must be one of {CATEGORIES}")
        weight = spec.get("weight")
        _need(
            isinstance(weight, (int, float)) and 0 <= weight <= 1, where, "weight must be in [0, 1]"
        )
        for key in ("within", "none_within"):
            value = spec.get(key)
            _need(
                value is None
                or (isinstance(value, int) and not isinstance(value, bool) and value > 0),
                where,
                f"{key} must be a positive whole number of words (got {value!r})",
            )
        rule = Rule(
            id=rid,
            category=spec["category"],
            weight=float(weight),
            any=tuple(spec.get("any") or ()),
            all=tuple(spec.get("all") or ()),
            within=spec.get("within"),
            none=tuple(spec.get("none") or ()),
            none_within=spec.get("none_within"),
        )
        _need(bool(rule.any or rule.all), where, "needs 'any' or 'all'")
        for term in (*rule.any, *rule.all, *rule.none):
            _need(term in patterns, where, f"refers to undefined term {term!r}")
        rules.append(rule)
    return Pack(language, str(doc.get("name") or language), glosses, patterns, tuple(rules))
