"""The gazetteer of named atrocities and places: evidence and a boost, never a flag alone."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from packcheck import evaluate

from transforms.rules import PACKS_DIR, PackError, RuleEngine, load_gazetteer

# (language, text with a weak harm word and a named place, the place as written)
NAMED = [
    ("en", "Bodies still lay in the streets of Bucha when the reporters arrived.", "Bucha"),
    ("en", "Families gathered to name the victims of Srebrenica.", "Srebrenica"),
    ("ru", "Хохлы сами выкладывали ролики, как в Буче раскладывали тела.", "Буче"),
    ("uk", "Слідчі показали фото тіл, знайдених в Оленівці.", "Оленівці"),
    ("az", "Xocalıda qətlə yetirilənlərin xatirəsi yad edildi.", "Xocalıda"),
    ("hy", "Սումգայիթում զոհվածների հիշատակը հարգեցին։", "Սումգայիթում"),
    ("ar", "نشرت الصحيفة صورا لجثث الضحايا في الغوطة.", "الغوطة"),
    ("de", "Die Opfer von Butscha wurden in einem Massengrab gefunden.", "Butscha"),
]


@pytest.mark.parametrize(
    "language,text,place", NAMED, ids=[f"{n[0]}-{i}" for i, n in enumerate(NAMED)]
)
def test_named_place_with_harm_is_flagged_and_shown(engine, language, text, place):
    result = evaluate(engine, language, text)
    flag = next(f for f in result.flags if f.category == "war_crime_allegation")
    assert place in [t.text for t in flag.terms]
    assert any(r.startswith("gazetteer.") for r in flag.rules)


@pytest.mark.parametrize(
    "language,text",
    [
        ("en", "Bucha hosts a jazz festival this weekend."),
        ("en", "Srebrenica's new mayor opened a bakery."),
        ("ru", "В Буче открыли новый супермаркет."),
        ("hy", "Ստեփանակերտում բացվել է նոր դպրոց։"),
        ("ar", "افتتح معرض للكتاب في الغوطة."),
    ],
)
def test_place_alone_flags_nothing(engine, language, text):
    result = evaluate(engine, language, text)
    assert result.flags == ()
    assert result.candidates == ()


def test_weak_harm_alone_is_below_threshold(engine):
    result = evaluate(engine, "en", "Bodies still lay in the streets when the reporters arrived.")
    assert result.flags == ()
    assert [c.rules for c in result.candidates] == [("en.harm_weak",)]


def test_place_counts_once_however_many_are_named(engine):
    one = evaluate(engine, "en", "Victims of Bucha were remembered.")
    many = evaluate(engine, "en", "Victims of Bucha, Irpin, Izium and Mariupol were remembered.")
    assert one.flags[0].score == many.flags[0].score
    assert {"Bucha", "Irpin", "Izium", "Mariupol"} <= {t.text for t in many.flags[0].terms}


def test_packs_without_gazetteer_load(tmp_path):
    for path in PACKS_DIR.glob("*.yaml"):
        shutil.copy(path, tmp_path / path.name)
    engine = RuleEngine.load(tmp_path)
    result = engine.evaluate({"text": "Bodies lay in the streets of Bucha."}, "en")
    assert result.flags == ()


def _write(tmp_path: Path, body: str) -> Path:
    folder = tmp_path / "gazetteer"
    folder.mkdir()
    (folder / "places.yaml").write_text(body, encoding="utf-8")
    return folder


def test_gazetteer_weight_must_stay_below_half(tmp_path):
    body = "places:\n  x:\n    gloss: X\n    weight: 0.6\n    patterns:\n      all: [xville]\n"
    folder = _write(tmp_path, body)
    with pytest.raises(PackError, match=r"place 'x'.*weight must be in \(0, 0.5\).*0.6"):
        load_gazetteer(folder)


def test_gazetteer_rejects_short_stems_and_missing_parts(tmp_path):
    folder = _write(
        tmp_path, "places:\n  x:\n    gloss: X\n    weight: 0.3\n    patterns:\n      ru: [яр*]\n"
    )
    with pytest.raises(PackError, match=r"place 'x' \[ru\]: stem 'яр\*' is shorter"):
        load_gazetteer(folder)
    (folder / "places.yaml").write_text("places: [1, 2]\n", encoding="utf-8")
    with pytest.raises(PackError, match="'places' mapping"):
        load_gazetteer(folder)


def test_shipped_gazetteer_has_the_named_atrocities():
    ids = {p.id for p in load_gazetteer(PACKS_DIR / "gazetteer").places}
    assert {"bucha", "izium", "mariupol_theatre", "olenivka", "khojaly", "sumgait"} <= ids
    assert {"stepanakert", "ghouta", "srebrenica"} <= ids
