"""Turkish pack: inflected positives and near-miss negatives."""

from __future__ import annotations

import pytest

from transforms.rules import RuleEngine

LANG = "tr"


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
        "BM, saldırıların savaş suçu teşkil edebileceğini açıkladı.",
        "war_crime_allegation",
        "savaş suçu",
    ),
    (
        "Uluslararası Ceza Mahkemesi, cumhurbaşkanı hakkında yakalama kararı çıkardı.",
        "investigation",
        "Uluslararası Ceza Mahkemesi",
    ),
    (
        "Bölgede yüzlerce sivilin cesedinin bulunduğu toplu mezar ortaya çıkarıldı.",
        "war_crime_allegation",
        "toplu mezar",
    ),
    (
        "İnsan Hakları Derneği, gözaltındaki kişilere işkence yapıldığını açıkladı.",
        "war_crime_allegation",
        "işkence",
    ),
    (
        "Yerleşim yerlerine düzenlenen hava saldırısında 12 sivil hayatını kaybetti.",
        "war_crime_allegation",
        "hava saldırısında",
    ),
    (
        "Ordu, kent merkezinde misket bombası kullandı.",
        "war_crime_allegation",
        "misket bombası",
    ),
    (
        "Cumartesi Anneleri, gözaltında kaybedilenlerin akıbetini sordu.",
        "war_crime_allegation",
        "gözaltında kaybedilenlerin",
    ),
    (
        "Savcılık, yargısız infaz iddialarıyla ilgili soruşturma başlattı.",
        "investigation",
        "yargısız infaz",
    ),
    (
        "ULUSLARARASI CEZA MAHKEMESİ SOYKIRIM DAVASINI GÖRÜŞECEK",
        "war_crime_allegation",
        "SOYKIRIM",
    ),
]

NEGATIVES = [
    "Galatasaray, Süper Lig maçında rakibini 6-0 yenerek adeta katliam yaptı.",
    "Rus birlikleri Avdiivka yakınlarında ilerlerken dışişleri bakanları Cenevre'de ateşkesi görüştü.",
    "Ekonomi bakanı yeni vergi paketini Meclis'te tanıttı.",
]

CORPORATE_PROBE = "Rekabet Kurulu, şirket hakkında tekel konumunu kötüye kullanma iddiasıyla soruşturma açtı."


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
