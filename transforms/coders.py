"""Deterministic Beam coders for the records.

Items are grouped on and cross worker boundaries; the default would pickle
them, which is neither deterministic nor stable across Python versions. The
coder writes the one JSON form (keys sorted), so equal records encode to
equal bytes on every worker and every runner.
"""

from __future__ import annotations

import json

import apache_beam as beam

from transforms.item import DeadLetter, Item, dead_letter_from_dict, from_dict, to_json

__all__ = ["DeadLetterCoder", "ItemCoder", "register"]


class ItemCoder(beam.coders.Coder):
    def encode(self, value: Item) -> bytes:
        return to_json(value).encode("utf-8")

    def decode(self, encoded: bytes) -> Item:
        return from_dict(json.loads(encoded))

    def is_deterministic(self) -> bool:
        return True

    def to_type_hint(self):
        return Item


class DeadLetterCoder(beam.coders.Coder):
    def encode(self, value: DeadLetter) -> bytes:
        return to_json(value).encode("utf-8")

    def decode(self, encoded: bytes) -> DeadLetter:
        return dead_letter_from_dict(json.loads(encoded))

    def is_deterministic(self) -> bool:
        return True

    def to_type_hint(self):
        return DeadLetter


def register() -> None:
    """Make Beam use these coders wherever a PCollection is typed as a record."""
    beam.coders.registry.register_coder(Item, ItemCoder)
    beam.coders.registry.register_coder(DeadLetter, DeadLetterCoder)


register()
