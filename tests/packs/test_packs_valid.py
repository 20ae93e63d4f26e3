"""Structural checks for every rule pack in transforms/packs/."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

PACKS = Path(__file__).resolve().parents[2] / "transforms" / "packs"
PACK_FILES = sorted(PACKS.glob("*.yaml"))
CATEGORIES = {"war_crime_allegation", "investigation", "other_investigation"}
EXPECTED = {"en", "ru", "uk", "hy", "az", "fr", "de", "es", "ar", "fa", "tr", "xx"}


def _load(path: Path) -> dict:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def test_expected_packs_present():
    assert {p.stem for p in PACK_FILES} >= EXPECTED


@pytest.mark.parametrize("path", PACK_FILES, ids=lambda p: p.stem)
def test_pack_structure(path: Path):
    doc = _load(path)
    assert isinstance(doc, dict)
    assert doc["language"] == path.stem, "file name must be the pack's ISO 639-1 code"
    assert doc.get("name")
    terms = doc["terms"]
    assert isinstance(terms, dict) and terms
    for term_id, spec in terms.items():
        assert isinstance(spec.get("gloss"), str) and spec["gloss"].strip(), f"{term_id}: gloss"
        patterns = spec.get("patterns")
        assert isinstance(patterns, list) and patterns, f"{term_id}: patterns"
        for pattern in patterns:
            assert isinstance(pattern, str) and pattern == pattern.strip(), (
                f"{term_id}: {pattern!r}"
            )
            assert "  " not in pattern, (
                f"{term_id}: words must be separated by single spaces: {pattern!r}"
            )
            for word in pattern.split(" "):
                assert word, f"{term_id}: empty word in {pattern!r}"
                assert "*" not in word[:-1], (
                    f"{term_id}: '*' only at the end of a word: {pattern!r}"
                )
                if word.endswith("*"):
                    assert len(word[:-1]) >= 3, (
                        f"{term_id}: stem shorter than 3 characters: {pattern!r}"
                    )
    rules = doc["rules"]
    assert isinstance(rules, list) and rules
    ids = [r["id"] for r in rules]
    assert len(ids) == len(set(ids)), "rule ids must be unique"
    for rule in rules:
        rid = rule["id"]
        assert rid.startswith(doc["language"] + "."), (
            f"{rid}: id must be prefixed with the language"
        )
        assert rule["category"] in CATEGORIES, rid
        weight = rule["weight"]
        assert isinstance(weight, (int, float)) and 0 <= weight <= 1, rid
        assert rule.get("any") or rule.get("all"), f"{rid}: needs any or all"
        for key in ("any", "all", "none"):
            for term in rule.get(key) or []:
                assert term in terms, f"{rid}: {key} refers to undefined term {term!r}"
        for key in ("within", "none_within"):
            if key in rule:
                assert isinstance(rule[key], int) and rule[key] >= 0, f"{rid}: {key}"
        if "none_within" in rule:
            assert rule.get("none"), f"{rid}: none_within without none"
        assert set(rule) <= {
            "id",
            "category",
            "weight",
            "any",
            "all",
            "within",
            "none",
            "none_within",
        }, rid


def test_ids_unique_across_packs():
    seen: dict[str, str] = {}
    for path in PACK_FILES:
        for rule in _load(path)["rules"]:
            assert rule["id"] not in seen, f"{rule['id']} in {path.name} and {seen.get(rule['id'])}"
            seen[rule["id"]] = path.name


def test_every_term_is_used():
    for path in PACK_FILES:
        doc = _load(path)
        used = {t for r in doc["rules"] for k in ("any", "all", "none") for t in r.get(k) or []}
        unused = set(doc["terms"]) - used
        assert not unused, f"{path.name}: terms never used by a rule: {sorted(unused)}"


def test_engine_loads_every_pack():
    from transforms.rules import RuleEngine

    engine = RuleEngine.load()
    assert set(engine.languages) >= {p.stem for p in PACK_FILES}
