"""Arabic pack: inflected positives and near-miss negatives."""

from __future__ import annotations

import pytest

from transforms.rules import RuleEngine

LANG = "ar"


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
        "قالت الأمم المتحدة إن الهجمات قد ترقى إلى جرائم حرب.",
        "war_crime_allegation",
        "جرائم حرب",
    ),
    (
        "اتهمت منظمة العفو الدولية القوات بارتكاب جرائم ضد الإنسانية بحق المدنيين.",
        "war_crime_allegation",
        "جرائم ضد الإنسانية",
    ),
    (
        "أصدرت المحكمة الجنائية الدولية مذكرة اعتقال بحق الرئيس.",
        "investigation",
        "المحكمة الجنائية الدولية",
    ),
    (
        "عثر على مقبرة جماعية تضم رفات عشرات المدنيين في ريف المدينة.",
        "war_crime_allegation",
        "مقبرة جماعية",
    ),
    (
        "استشهد عشرة مدنيين بينهم أطفال في قصف على مدرسة تؤوي نازحين.",
        "war_crime_allegation",
        "قصف",
    ),
    (
        "طالبت هيومن رايتس ووتش بالتحقيق في تعذيب المعتقلين في السجون.",
        "investigation",
        "تعذيب",
    ),
    (
        "وثقت المنظمة حالات الاختفاء القسري لعشرات الناشطين.",
        "war_crime_allegation",
        "الاختفاء القسري",
    ),
    (
        "ندد الوزير بالمجزرة وطالب بمحاسبة المسؤولين عنها.",
        "war_crime_allegation",
        "بالمجزرة",
    ),
    (
        "استخدم الجيش الفوسفور الأبيض في قصف الأحياء السكنية.",
        "war_crime_allegation",
        "الفوسفور الأبيض",
    ),
]

NEGATIVES = [
    "حقق الأهلي فوزا كاسحا في مجزرة كروية بنتيجة ستة أهداف دون رد في مباراة الدوري.",
    "تقدمت القوات الروسية قرب أفدييفكا بينما اجتمع وزراء الخارجية في جنيف لبحث وقف إطلاق النار.",
    "يسعى المنتخب إلى تحقيق الفوز في البطولة المقبلة.",
]

CORPORATE_PROBE = "فتحت هيئة المنافسة تحقيقا مع الشركة بشأن ممارسات الاحتكار."


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
