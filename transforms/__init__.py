"""Beam transforms of newswatch: the item record and every stage between source and sink.

Importing the package registers the deterministic record coders with Beam,
so every worker that unpickles one of these stages encodes items the same way.
"""

from transforms import coders as _coders  # noqa: F401 - registers ItemCoder and DeadLetterCoder
from transforms.dedup import Dedup, ExactDedup, NearDedup
from transforms.flagging import Flagging, flag_item
from transforms.item import (
    DeadLetter,
    Duplicate,
    Flag,
    Item,
    MatchedTerm,
    Report,
    ReportUpdate,
    Source,
)
from transforms.language import DetectLanguage, make_detector
from transforms.normalise import Normalise, canonical_url, html_to_text, normalise_item
from transforms.rules import PackError, RuleEngine
from transforms.streaming_dedup import StreamingDedup

__all__ = [
    "DeadLetter",
    "Dedup",
    "DetectLanguage",
    "Duplicate",
    "ExactDedup",
    "Flag",
    "Flagging",
    "Item",
    "MatchedTerm",
    "NearDedup",
    "Normalise",
    "PackError",
    "Report",
    "ReportUpdate",
    "RuleEngine",
    "Source",
    "StreamingDedup",
    "canonical_url",
    "flag_item",
    "html_to_text",
    "make_detector",
    "normalise_item",
]
