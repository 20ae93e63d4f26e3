"""Beam transforms of newswatch: the item record and every stage between source and sink.

Names are loaded on first use (PEP 562), so that ``import transforms.item``
stays free of Beam: the poller and the review desk read and write items
without paying for Beam's import. Importing any Beam stage registers the
deterministic record coders (``transforms.coders``) as before.
"""

from __future__ import annotations

import importlib
from typing import Any

# public name -> module that defines it
_EXPORTS = {
    "DeadLetter": "transforms.item",
    "Duplicate": "transforms.item",
    "Flag": "transforms.item",
    "Item": "transforms.item",
    "MatchedTerm": "transforms.item",
    "Report": "transforms.item",
    "ReportUpdate": "transforms.item",
    "Source": "transforms.item",
    "canonical_url": "transforms.normalise",
    "html_to_text": "transforms.normalise",
    "normalise_item": "transforms.normalise",
    "PackError": "transforms.rules",
    "RuleEngine": "transforms.rules",
    "flag_item": "transforms.flagging",
    "Flagging": "transforms.flagging",
    "make_detector": "transforms.language",
    "DetectLanguage": "transforms.language",
    "Normalise": "transforms.normalise_stage",
    "Dedup": "transforms.dedup",
    "DedupInOneGroup": "transforms.dedup_small",
    "ExactDedup": "transforms.dedup",
    "NearDedup": "transforms.dedup",
    "StreamingDedup": "transforms.streaming_dedup",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'transforms' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))
