"""Azerbaijani pack: inflected positives and near-miss negatives."""

from __future__ import annotations

import pytest
from packcheck import check_negative, check_other_investigation, check_positive

LANG = "az"


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
def test_positive(engine, text, category, span):
    check_positive(engine, LANG, text, category, span)


@pytest.mark.parametrize("text", NEGATIVES)
def test_negative(engine, text):
    check_negative(engine, LANG, text)


def test_corporate_probe_is_other_investigation(engine):
    check_other_investigation(engine, LANG, CORPORATE_PROBE)
