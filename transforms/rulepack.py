"""Rule packs: the YAML format, its validation, and the loaded records.

The format (one file per language, ``transforms/packs/<language>.yaml``) is
described in :mod:`transforms.rules` and in the README; this module only
reads it and refuses what it cannot use, naming the file and the problem.
Parsed documents are cached on disk by content (:func:`read_yaml`), as
every run's start pays for them.
"""

from __future__ import annotations

import hashlib
import logging
import marshal
import os
import sys
import tempfile
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
    "cache_dir",
    "check_patterns",
    "load_pack",
    "read_yaml",
]
# libyaml's safe loader when built in: the same documents, about 8x faster to load.
_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_CACHE_FORMAT = 1
_MISSING = object()
_log = logging.getLogger(__name__)

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


def cache_dir() -> Path | None:
    """Where parsed pack documents are kept between runs; None when caching is off.

    ``NEWSWATCH_CACHE`` names the folder (``off`` turns caching off);
    otherwise ``$XDG_CACHE_HOME/newswatch`` or ``~/.cache/newswatch``.
    """
    chosen = os.environ.get("NEWSWATCH_CACHE", "")
    if chosen.lower() == "off":
        return None
    if chosen:
        return Path(chosen)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "newswatch"


def _cache_path(data: bytes) -> Path | None:
    folder = cache_dir()
    if folder is None:
        return None
    # The document depends on the bytes alone; the marshal format on the
    # Python version. A file edited on disk has other bytes, so another key.
    digest = hashlib.sha256(data).hexdigest()
    return folder / f"yaml-{_CACHE_FORMAT}-py{sys.version_info[0]}{sys.version_info[1]}-{digest}"


def _cached(data: bytes) -> Any:
    path = _cache_path(data)
    if path is None:
        return _MISSING
    try:
        return marshal.loads(path.read_bytes())
    except FileNotFoundError:
        return _MISSING
    except (OSError, ValueError, EOFError, TypeError) as exc:  # unreadable or damaged: parse again
        _log.debug("pack cache entry %s not used: %s", path, exc)
        return _MISSING


def _keep(data: bytes, doc: Any) -> None:
    path = _cache_path(data)
    if path is None:
        return
    try:
        blob = marshal.dumps(doc)  # plain data only: a date or the like is not kept
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, partial = tempfile.mkstemp(dir=path.parent, prefix=".partial-")
        with os.fdopen(fd, "wb") as handle:
            handle.write(blob)
        os.replace(partial, path)  # readers see the whole entry or none
    except (OSError, ValueError) as exc:  # a read-only home, a full disk: parse each time
        _log.debug("pack cache entry not written in %s: %s", path.parent, exc)


def read_yaml(path: Path, what: str) -> Any:
    """The YAML document in ``path`` (safe loading), from the cache when its bytes were seen.

    Parsing the packs is half of compiling them at every start; the parsed
    document (plain data) is kept with :mod:`marshal`, the format of
    Python's own ``.pyc`` files, under :func:`cache_dir`, keyed by the file's
    SHA-256. Any problem with the cache falls back to parsing the file.

    Raises:
        PackError: the file cannot be read or parsed, naming it and ``what`` it was to be.
    """
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise PackError(f"{path}: cannot read {what}: {exc}") from exc
    doc = _cached(data)
    if doc is not _MISSING:
        return doc
    try:
        doc = yaml.load(data.decode("utf-8"), Loader=_SAFE_LOADER)
    except (UnicodeDecodeError, yaml.YAMLError) as exc:
        raise PackError(f"{path}: cannot read {what}: {exc}") from exc
    _keep(data, doc)
    return doc


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
