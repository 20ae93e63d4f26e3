"""Armenian pack: inflected positives and near-miss negatives."""

from __future__ import annotations

import pytest
from packcheck import check_negative, check_other_investigation, check_positive

LANG = "hy"


# (text, category, a matched span that must slice the original text)
POSITIVES = [
    (
        "Մարդու իրավունքների պաշտպանը հայտարարել է, որ տեսանյութում երևում են ռազմական հանցագործություններ։",
        "war_crime_allegation",
        "ռազմական հանցագործություններ",
    ),
    (
        "Ադրբեջանական զինծառայողները գնդակահարել են հայ ռազմագերիներին։",
        "war_crime_allegation",
        "ռազմագերիներին",
    ),
    (
        "Միջազգային քրեական դատարանը քննում է Արցախի բնակչության բռնի տեղահանության հարցը։",
        "investigation",
        "Միջազգային քրեական դատարանը",
    ),
    (
        "Հրետակոծության հետևանքով զոհվել են երեք խաղաղ բնակիչներ, այդ թվում՝ մեկ երեխա։",
        "war_crime_allegation",
        "Հրետակոծության",
    ),
    (
        "Ապրիլի 24-ին հազարավոր մարդիկ հարգանքի տուրք մատուցեցին Հայոց ցեղասպանության զոհերի հիշատակին։",
        "war_crime_allegation",
        "ցեղասպանության",
    ),
    (
        "Զինվորական դատախազությունը քրեական վարույթ է նախաձեռնել գերիների նկատմամբ խոշտանգումների փաստով։",
        "investigation",
        "Զինվորական դատախազությունը",
    ),
    (
        "Հայտնաբերվել է զանգվածային գերեզման, որտեղ թաղված են տասնյակ զինծառայողներ։",
        "war_crime_allegation",
        "զանգվածային գերեզման",
    ),
]

NEGATIVES = [
    "Հայաստանի հավաքականը ջախջախեց մրցակցին 5:0 հաշվով և իսկական կոտորած կազմակերպեց դաշտում։",
    "Հայաստանի և Ադրբեջանի արտգործնախարարները Վաշինգտոնում քննարկեցին խաղաղության պայմանագրի նախագիծը։",
    "Սահմանին տեղի է ունեցել փոխհրաձգություն, կողմերը կորուստներ չունեն։",
]

CORPORATE_PROBE = "Մրցակցության պաշտպանության հանձնաժողովը հետաքննություն է սկսել խոշոր ընկերության նկատմամբ՝ կաշառքի կասկածով։"


@pytest.mark.parametrize("text,category,span", POSITIVES)
def test_positive(engine, text, category, span):
    check_positive(engine, LANG, text, category, span)


@pytest.mark.parametrize("text", NEGATIVES)
def test_negative(engine, text):
    check_negative(engine, LANG, text)


def test_corporate_probe_is_other_investigation(engine):
    check_other_investigation(engine, LANG, CORPORATE_PROBE)
