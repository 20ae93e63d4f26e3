"""Persian pack: inflected positives and near-miss negatives."""

from __future__ import annotations

import pytest
from packcheck import check_negative, check_other_investigation, check_positive

LANG = "fa"


# (text, category, a matched span that must slice the original text)
POSITIVES = [
    (
        "سازمان ملل اعلام کرد این حملات ممکن است مصداق جنایت جنگی باشد.",
        "war_crime_allegation",
        "جنایت جنگی",
    ),
    (
        "عفو بین‌الملل خواستار تحقیقات مستقل درباره شکنجه بازداشت‌شدگان شد.",
        "investigation",
        "تحقیقات مستقل",
    ),
    (
        "دیوان کیفری بین‌المللی حکم بازداشت رئیس‌جمهور را صادر کرد.",
        "investigation",
        "دیوان کیفری بین‌المللی",
    ),
    (
        "در این منطقه یک گور دسته‌جمعی با بقایای ده‌ها غیرنظامی کشف شد.",
        "war_crime_allegation",
        "گور دسته‌جمعی",
    ),
    (
        "در حمله موشکی به یک منطقه مسکونی دست‌کم دوازده غیرنظامی کشته شدند.",
        "war_crime_allegation",
        "موشکی",
    ),
    (
        "گزارش‌ها از مرگ در بازداشت یک معترض جوان حکایت دارد.",
        "investigation",
        "مرگ در بازداشت",
    ),
    (
        "فعالان حقوق بشر از اعدام‌های فراقضایی و ناپدیدسازی قهری مخالفان خبر دادند.",
        "war_crime_allegation",
        "ناپدیدسازی قهری",
    ),
    (
        "او رهبران جهان را به سکوت در برابر نسل‌کشی متهم کرد.",
        "war_crime_allegation",
        "نسل‌کشی",
    ),
    (
        "او از جنایتهای جنگی سخن گفت.",
        "war_crime_allegation",
        "جنایتهای جنگی",
    ),
]

NEGATIVES = [
    "تیم ملی فوتبال در مسابقه دیشب حریف را قتل عام کرد و شش گل زد.",
    "نیروهای روسیه در نزدیکی آودییفکا پیشروی کردند و وزیران خارجه در ژنو دیدار کردند.",
    "دانشمندان در حال بررسی تاثیرات تغییرات اقلیمی هستند.",
]

CORPORATE_PROBE = "دادستانی تحقیقات درباره اختلاس در یک بانک دولتی را آغاز کرد."


@pytest.mark.parametrize("text,category,span", POSITIVES)
def test_positive(engine, text, category, span):
    check_positive(engine, LANG, text, category, span)


@pytest.mark.parametrize("text", NEGATIVES)
def test_negative(engine, text):
    check_negative(engine, LANG, text)


def test_corporate_probe_is_other_investigation(engine):
    check_other_investigation(engine, LANG, CORPORATE_PROBE)
