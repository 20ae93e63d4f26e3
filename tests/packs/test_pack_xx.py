"""Cross-language pack (xx): used for items in languages without a pack of their own."""

from __future__ import annotations

import pytest
from packcheck import check_negative, check_positive

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
    (
        "it",
        "La Corte ha riconosciuto il genocidio di Srebrenica.",
        "war_crime_allegation",
        "genocidio",
    ),
    (
        "pl",
        "Amnesty International oskarża wojsko o masakry cywilów na wschodzie kraju.",
        "investigation",
        "Amnesty International",
    ),
    ("nl", "Het ICC in Den Haag heeft een arrestatiebevel uitgevaardigd.", "investigation", "ICC"),
    (
        "pt",
        'Especialistas falam em "war crimes" após o ataque ao hospital.',
        "war_crime_allegation",
        "war crimes",
    ),
]


@pytest.mark.parametrize("language,text,category,span", POSITIVES)
def test_positive(engine, language, text, category, span):
    check_positive(engine, language, text, category, span, pack="xx")


NEGATIVES = [
    ("pt", "O Flamengo fez um massacre: goleada de 6 a 0 no futebol carioca."),
    ("pt", "O ICC anunciou o calendário do Mundial de críquete T20."),
    ("ro", "La amnesty fiscal y la Amnesty del gobierno fueron aprobadas ayer."),
    ("it", "Il presidente ha visitato l'Aia per un vertice della NATO."),
    ("pt", "A autoridade de concorrência abriu uma investigação sobre o cartel dos bancos."),
    ("ur", "پاکستان کرکٹ ٹیم نے میچ جیت لیا"),
]


@pytest.mark.parametrize("language,text", NEGATIVES)
def test_negative(engine, language, text):
    check_negative(engine, language, text, pack="xx")


def test_no_language_uses_cross_language_pack(engine):
    result = engine.evaluate(
        {"title": "", "text": "Human Rights Watch documented the genocide."}, language=None
    )
    assert result.rules_language == "xx"
    assert result.flags
