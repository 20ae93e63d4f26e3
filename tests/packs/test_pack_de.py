"""German pack: inflected positives and near-miss negatives."""

from __future__ import annotations

import pytest

from transforms.rules import RuleEngine

LANG = "de"


@pytest.fixture(scope="module")
def rules_engine() -> RuleEngine:
    return RuleEngine.load()


def _evaluate(engine, text, title=""):
    fields = {"title": title, "text": text}
    result = engine.evaluate(fields, language=LANG)
    assert result.rules_language == LANG
    for flag in result.candidates:
        for term in flag.terms:
            assert fields[term.field][term.start : term.end] == term.text
    return result


# (text, category, a matched span that must slice the original text)
POSITIVES = [
    (
        "Die Bundesanwaltschaft ermittelt wegen mutmaßlicher Kriegsverbrechen russischer Soldaten in Butscha.",
        "war_crime_allegation",
        "Kriegsverbrechen",
    ),
    (
        "Der Internationale Strafgerichtshof hat einen Haftbefehl gegen den Präsidenten erlassen.",
        "investigation",
        "Internationale Strafgerichtshof",
    ),
    (
        "In der Nähe von Isjum wurde ein Massengrab mit mehr als 400 Leichen entdeckt.",
        "war_crime_allegation",
        "Massengrab",
    ),
    (
        "Menschenrechtler berichten von Folter an Gefangenen in russischen Gefängnissen.",
        "war_crime_allegation",
        "Folter",
    ),
    (
        "Beim Beschuss eines Wohnhauses wurden sieben Zivilisten getötet.",
        "war_crime_allegation",
        "Beschuss",
    ),
    (
        "Die Armee soll Streumunition in dicht besiedelten Wohngebieten eingesetzt haben.",
        "war_crime_allegation",
        "Streumunition",
    ),
    (
        "Die Verantwortlichen für die Verbrechen gegen die Menschlichkeit müssen zur Rechenschaft gezogen werden.",
        "war_crime_allegation",
        "Verbrechen gegen die Menschlichkeit",
    ),
    (
        "UN-Ermittler werfen den Sicherheitskräften außergerichtliche Hinrichtungen vor.",
        "war_crime_allegation",
        "außergerichtliche Hinrichtungen",
    ),
]

NEGATIVES = [
    "Der FC Bayern feierte beim 8:0 gegen Bochum ein wahres Massaker, die Fans jubelten über jedes Tor.",
    "Russische Truppen rückten bei Awdijiwka vor, während die Außenminister in Genf über eine Waffenruhe berieten.",
    "Die Polizei ermittelt nach einem Einbruch in ein Juweliergeschäft in der Innenstadt.",
]

CORPORATE_PROBE = "Das Bundeskartellamt hat ein Verfahren gegen den Konzern eingeleitet und ermittelt wegen Missbrauchs von Marktmacht."


@pytest.mark.parametrize("text,category,span", POSITIVES)
def test_positive(rules_engine, text, category, span):
    result = _evaluate(rules_engine, text)
    flagged = {f.category for f in result.flags}
    assert category in flagged, [(f.category, f.score, f.rules) for f in result.candidates]
    spans = [t.text for f in result.flags for t in f.terms]
    assert span in spans, spans


@pytest.mark.parametrize("text", NEGATIVES)
def test_negative(rules_engine, text):
    result = _evaluate(rules_engine, text)
    assert result.flags == (), [(f.category, f.rules) for f in result.flags]


def test_corporate_probe_is_other_investigation(rules_engine):
    result = _evaluate(rules_engine, CORPORATE_PROBE)
    assert result.flags == ()
    assert "other_investigation" in {c.category for c in result.candidates}
