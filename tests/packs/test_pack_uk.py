"""Ukrainian pack: inflected positives and near-miss negatives."""

from __future__ import annotations

import pytest

from transforms.rules import RuleEngine

LANG = "uk"


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
        "Прокурори задокументували понад 120 тисяч воєнних злочинів, скоєних російськими військовими.",
        "war_crime_allegation",
        "воєнних злочинів",
    ),
    (
        "Офіс генпрокурора повідомив про підозру командиру, причетному до катування цивільних на Харківщині.",
        "investigation",
        "Офіс генпрокурора",
    ),
    (
        "Міжнародний кримінальний суд видав ордер на арешт через незаконну депортацію українських дітей.",
        "investigation",
        "Міжнародний кримінальний суд",
    ),
    (
        "Унаслідок обстрілу житлового будинку загинули четверо мирних жителів, серед них дитина.",
        "war_crime_allegation",
        "обстрілу житлового",
    ),
    (
        "У звільненому селі виявили масове поховання з тілами закатованих людей.",
        "war_crime_allegation",
        "масове поховання",
    ),
    (
        "Омбудсман повідомив про розстріл українських військовополонених на Запорізькому напрямку.",
        "war_crime_allegation",
        "військовополонених",
    ),
    (
        "Окупанти застосували касетні боєприпаси по центру міста.",
        "war_crime_allegation",
        "касетні боєприпаси",
    ),
    (
        "Правозахисники вимагають притягнути до відповідальності винних у катуваннях.",
        "investigation",
        "притягнути до відповідальності",
    ),
]

NEGATIVES = [
    "«Динамо» влаштувало справжню бійню і розгромило суперника з рахунком 5:0 у матчі чемпіонату.",
    "Сили оборони відбили атаки поблизу Покровська, повідомили у Генштабі.",
    "Астронавти на МКС провели вихід у відкритий космос.",
    "Міністр закордонних справ обговорив із колегами підготовку саміту миру.",
]

CORPORATE_PROBE = "НАБУ повідомило про підозру голові правління банку у справі про розкрадання коштів."


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
