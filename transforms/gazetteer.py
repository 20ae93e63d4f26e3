"""The gazetteer: named atrocities and places, as pack data (``packs/gazetteer/*.yaml``).

A place (Bucha, Khojaly, Srebrenica, ...) is listed with its spellings per
language. The engine adds each place that has patterns for a pack to that
pack as one more term (:func:`with_places`). When a text names places, the
strongest one adds its weight once to every flag category for which a rule
already fired (:func:`add_place_boost`) and shows among the evidence; a place
alone never makes a category fire, and a place's weight stays below 0.5.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from transforms.rulepack import (
    FLAG_CATEGORIES,
    Pack,
    PackError,
    Rule,
    check_patterns,
    read_yaml,
)

__all__ = [
    "ALL_LANGUAGES",
    "GAZETTEER_DIR",
    "PLACE_TERM_PREFIX",
    "Gazetteer",
    "Place",
    "add_place_boost",
    "load_gazetteer",
    "with_places",
]

# The gazetteer lives in this sub-folder of a packs directory (it is not a
# language pack, so it stays out of the packs' ``*.yaml`` glob).
GAZETTEER_DIR = "gazetteer"
# Patterns listed under this key apply to every language pack.
ALL_LANGUAGES = "all"
PLACE_TERM_PREFIX = "place."


@dataclass(frozen=True, slots=True)
class Place:
    """A named atrocity or place: a boost for rules that fired, never a rule itself."""

    id: str
    gloss: str
    weight: float
    # language -> patterns (``ALL_LANGUAGES`` for every pack)
    patterns: Mapping[str, tuple[str, ...]]

    def patterns_for(self, language: str) -> tuple[str, ...]:
        return (*self.patterns.get(ALL_LANGUAGES, ()), *self.patterns.get(language, ()))


@dataclass(frozen=True, slots=True)
class Gazetteer:
    places: tuple[Place, ...] = ()


def _need(cond: bool, where: str, message: str) -> None:
    if not cond:
        raise PackError(f"{where}: {message}")


def load_gazetteer(directory: Path) -> Gazetteer:
    """Load every ``*.yaml`` file of a gazetteer folder (no folder: an empty gazetteer).

    Each file maps ``places`` to entries ``{id: {gloss, weight, patterns:
    {language: [pattern, ...]}}}``; patterns follow the pack syntax, and those
    under ``all`` apply to every language.

    Raises:
        PackError: a file is not a valid gazetteer; the message names the
            file, the entry and the problem.
    """
    places: list[Place] = []
    seen: set[str] = set()
    folder = Path(directory)
    for path in sorted(folder.glob("*.yaml")) if folder.is_dir() else ():
        doc = read_yaml(path, "gazetteer")
        _need(
            isinstance(doc, dict) and isinstance(doc.get("places"), dict),
            str(path),
            "gazetteer must be a mapping with a 'places' mapping",
        )
        for place_id, spec in doc["places"].items():
            where = f"{path}: place {place_id!r}"
            _need(place_id not in seen, where, "defined twice")
            seen.add(place_id)
            _need(isinstance(spec, dict) and bool(spec.get("gloss")), where, "needs a 'gloss'")
            weight = spec.get("weight")
            _need(
                isinstance(weight, (int, float)) and 0 < weight < 0.5,
                where,
                f"weight must be in (0, 0.5): a place alone never decides (got {weight!r})",
            )
            by_language = spec.get("patterns")
            _need(
                isinstance(by_language, dict) and bool(by_language),
                where,
                "needs 'patterns' by language",
            )
            places.append(
                Place(
                    id=str(place_id),
                    gloss=str(spec["gloss"]),
                    weight=float(weight),
                    patterns={
                        str(lang): check_patterns(pats, f"{where} [{lang}]")
                        for lang, pats in by_language.items()
                    },
                )
            )
    return Gazetteer(tuple(places))


def with_places(pack: Pack, gazetteer: Gazetteer) -> tuple[Pack, dict[str, Place]]:
    """The pack with each place that has patterns for its language as one more term."""
    glosses = dict(pack.glosses)
    patterns = dict(pack.patterns)
    places: dict[str, Place] = {}
    for place in gazetteer.places:
        pats = place.patterns_for(pack.language)
        if pats:
            term = PLACE_TERM_PREFIX + place.id
            glosses[term] = place.gloss
            patterns[term] = pats
            places[term] = place
    return dataclasses.replace(pack, glosses=glosses, patterns=patterns), places


def add_place_boost(fired: dict, by_term: Mapping[str, list], places: Mapping[str, Place]) -> None:
    """Add the strongest place found, once, to each flag category that already fired.

    Args:
        fired: category -> [(rule, occurrences)], as the engine collected them;
            changed in place.
        by_term: term id -> its occurrences in the text.
        places: place term id -> place, for the pack matched.
    """
    found = [term for term in by_term if term in places]
    if not found:
        return
    best = max(found, key=lambda t: (places[t].weight, t))
    evidence = sorted((o for t in found for o in by_term[t]), key=lambda o: (o.start, o.end))
    for category in FLAG_CATEGORIES:
        if category in fired:
            rule = Rule(
                id=f"gazetteer.{places[best].id}",
                category=category,
                weight=places[best].weight,
                any=(best,),
            )
            fired[category].append((rule, evidence))
