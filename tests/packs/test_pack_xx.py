"""Cross-language pack (xx): used for items in languages without a pack of their own."""

from __future__ import annotations

import pytest

from transforms.rules import RuleEngine


@pytest.fixture(scope="module")
def rules_engine() -> RuleEngine:
    return RuleEngine.load()


def _evaluate(engine, text, language, title=""):
    fields = {"title": title, "text": text}
    result = engine.evaluate(fields, language=language)
    assert result.rules_language == "xx"
    for flag in result.candidates:
        for term in flag.terms:
            assert fields[term.field][term.start : term.end] == term.text
    return result


POSITIVES = [
    # (language, text, category, matched span)
    (
        "pt",
        "O Tribunal Penal Internacional (International Criminal Court) emitiu um mandado de prisão.",
        "investigation",
        "International Criminal Court",
    ),
    (
        "pt",
        "Relatório do governo acusa militares de Mianmar de atrocidades contra muçulmanos rohingyas.",
        "war_crime_allegation",
        "atrocidades",
    ),
    ("it", "La Corte ha riconosciuto il genocidio di Srebrenica.", "war_crime_allegation", "genocidio"),
    (
        "pl",
        "Amnesty International oskarża wojsko o masakry cywilów na wschodzie kraju.",
        "investigation",
        "Amnesty International",
    ),
    ("nl", "Het ICC in Den Haag heeft een arrestatiebevel uitgevaardigd.", "investigation", "ICC"),
    ("pt", "Especialistas falam em \"war crimes\" após o ataque ao hospital.", "war_crime_allegation", "war crimes"),
]


@pytest.mark.parametrize("language,text,category,span", POSITIVES)
def test_positive(rules_engine, language, text, category, span):
    result = _evaluate(rules_engine, text, language)
    assert category in {f.category for f in result.flags}, [(f.category, f.score, f.rules) for f in result.candidates]
    assert span in [t.text for f in result.flags for t in f.terms]


NEGATIVES = [
    ("pt", "O Flamengo fez um massacre: goleada de 6 a 0 no futebol carioca."),
    ("pt", "O ICC anunciou o calendário do Mundial de críquete T20."),
    ("ro", "La amnesty fiscal y la Amnesty del gobierno fueron aprobadas ayer."),
    ("it", "Il presidente ha visitato l'Aia per un vertice della NATO."),
    ("pt", "A autoridade de concorrência abriu uma investigação sobre o cartel dos bancos."),
    ("ur", "پاکستان کرکٹ ٹیم نے میچ جیت لیا"),
]


@pytest.mark.parametrize("language,text", NEGATIVES)
def test_negative(rules_engine, language, text):
    result = _evaluate(rules_engine, text, language)
    assert result.flags == (), [(f.category, f.rules) for f in result.flags]


def test_no_language_uses_cross_language_pack(rules_engine):
    result = rules_engine.evaluate({"title": "", "text": "Human Rights Watch documented the genocide."}, language=None)
    assert result.rules_language == "xx"
    assert result.flags
