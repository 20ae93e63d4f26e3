"""Russian pack: inflected positives and near-miss negatives."""

from __future__ import annotations

import pytest
from packcheck import check_negative, check_other_investigation, check_positive

LANG = "ru"


# (text, category, a matched span that must slice the original text)
POSITIVES = [
    (
        "Генпрокуратура заявила, что видео с расстрелом пленных является доказательством военных преступлений.",
        "war_crime_allegation",
        "военных преступлений",
    ),
    (
        "Международный уголовный суд выдал ордер на арест в связи с незаконной депортацией детей.",
        "investigation",
        "Международный уголовный суд",
    ),
    (
        "В Изюме обнаружено массовое захоронение, в котором находились тела более 400 мирных жителей.",
        "war_crime_allegation",
        "массовое захоронение",
    ),
    (
        "Правозащитники сообщили о пытках задержанных в изоляторе временного содержания.",
        "war_crime_allegation",
        "пытках",
    ),
    (
        "В результате обстрела жилого квартала погибли пять мирных жителей, в том числе ребенок.",
        "war_crime_allegation",
        "обстрела жилого квартала",
    ),
    (
        "Военная прокуратура возбудила уголовное дело по факту жестокого обращения с военнопленными.",
        "investigation",
        "Военная прокуратура",
    ),
    (
        "ООН призвала привлечь к ответственности виновных в преступлениях против человечности.",
        "war_crime_allegation",
        "преступлениях против человечности",
    ),
    (
        "По данным местных властей, армия применила кассетные боеприпасы по городу.",
        "war_crime_allegation",
        "кассетные боеприпасы",
    ),
    (
        "Родственники добиваются расследования насильственных исчезновений активистов.",
        "war_crime_allegation",
        "насильственных исчезновений",
    ),
]

NEGATIVES = [
    "«Спартак» устроил настоящую бойню и разгромил «Зенит» со счетом 5:0 в матче чемпионата.",
    "Российские войска продвинулись под Авдеевкой, сообщили в Минобороны; переговоры в Женеве продолжатся в среду.",
    "Следователи возбудили уголовное дело о мошенничестве в крупном банке.",
    "Министр обороны провел совещание о поставках боеприпасов и ремонте техники.",
]

CORPORATE_PROBE = "ФАС возбудила дело и начала расследование в отношении Яндекса из-за нарушения антимонопольного законодательства."


@pytest.mark.parametrize("text,category,span", POSITIVES)
def test_positive(engine, text, category, span):
    check_positive(engine, LANG, text, category, span)


@pytest.mark.parametrize("text", NEGATIVES)
def test_negative(engine, text):
    check_negative(engine, LANG, text)


def test_corporate_probe_is_other_investigation(engine):
    check_other_investigation(engine, LANG, CORPORATE_PROBE)
