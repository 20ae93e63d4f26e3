"""Ukrainian pack: inflected positives and near-miss negatives."""

from __future__ import annotations

import pytest
from packcheck import check_negative, check_other_investigation, check_positive

LANG = "uk"


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

CORPORATE_PROBE = (
    "НАБУ повідомило про підозру голові правління банку у справі про розкрадання коштів."
)


@pytest.mark.parametrize("text,category,span", POSITIVES)
def test_positive(engine, text, category, span):
    check_positive(engine, LANG, text, category, span)


@pytest.mark.parametrize("text", NEGATIVES)
def test_negative(engine, text):
    check_negative(engine, LANG, text)


def test_corporate_probe_is_other_investigation(engine):
    check_other_investigation(engine, LANG, CORPORATE_PROBE)
