"""Azerbaijani pack: inflected positives and near-miss negatives."""

from __future__ import annotations

import pytest

from transforms.rules import RuleEngine

LANG = "az"


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
        "Xarici İşlər Nazirliyi erməni silahlı qüvvələrinin törətdiyi hərbi cinayətləri pisləyib.",
        "war_crime_allegation",
        "hərbi cinayətləri",
    ),
    (
        "Hərbi Prokurorluq hərbi əsirlərə qarşı işgəncə faktı üzrə cinayət işi başladıb.",
        "investigation",
        "Hərbi Prokurorluq",
    ),
    (
        "Gəncə şəhərinin yaşayış məntəqələri atəşə tutulub, nəticədə dörd dinc sakin həlak olub.",
        "war_crime_allegation",
        "yaşayış məntəqələri atəşə tutulub",
    ),
    (
        "Xocalı soyqırımının 33-cü ildönümü ilə bağlı anım tədbirləri keçirilib.",
        "war_crime_allegation",
        "soyqırımının",
    ),
    (
        "Beynəlxalq Cinayət Məhkəməsi müharibə cinayətləri ilə bağlı həbs orderi verib.",
        "investigation",
        "Beynəlxalq Cinayət Məhkəməsi",
    ),
    (
        "Azad edilmiş ərazidə kütləvi məzarlıq aşkarlanıb.",
        "war_crime_allegation",
        "kütləvi məzarlıq",
    ),
    (
        "Ombudsman əsirlikdə saxlanılan şəxslərə işgəncə verilməsini pisləyib.",
        "war_crime_allegation",
        "işgəncə",
    ),
]

NEGATIVES = [
    "Qarabağ FK rəqibini 5:0 hesabla darmadağın edərək meydanda əsl qırğın törədib.",
    "Prezident Brüsseldə Avropa İttifaqı rəsmiləri ilə sülh gündəliyini müzakirə edib.",
    "Müdafiə Nazirliyi cəbhə xəttində vəziyyətin sabit olduğunu bildirib.",
]

CORPORATE_PROBE = "Prokurorluq bankda mənimsəmə faktı üzrə cinayət işi başlayıb."


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
