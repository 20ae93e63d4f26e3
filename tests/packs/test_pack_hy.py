"""Armenian pack: inflected positives and near-miss negatives."""

from __future__ import annotations

import pytest

from transforms.rules import RuleEngine

LANG = "hy"


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
