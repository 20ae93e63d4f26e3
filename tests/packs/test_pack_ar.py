"""Arabic pack: inflected positives and near-miss negatives."""

from __future__ import annotations

import pytest
from packcheck import check_negative, check_other_investigation, check_positive

LANG = "ar"


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
def test_positive(engine, text, category, span):
    check_positive(engine, LANG, text, category, span)


@pytest.mark.parametrize("text", NEGATIVES)
def test_negative(engine, text):
    check_negative(engine, LANG, text)


def test_corporate_probe_is_other_investigation(engine):
    check_other_investigation(engine, LANG, CORPORATE_PROBE)
