"""Persian pack cases: inflected positives and near-miss negatives."""

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

# Civilian casualties, attacks on homes and hospitals, forces charged with abuse of
# civilians or captives, and their near misses (accidents, soldiers' burials, venues).
POSITIVES += [
    ("نیروهای آمریکایی به یک بیمارستان کودکان در شهر حمله کردند.", "war_crime_allegation", "حمله"),
    ("شهادت یک کودک فلسطینی در کرانه باختری", "war_crime_allegation", "کودک"),
    ("سربازان به یک اسیر دست‌بسته شلیک کردند.", "war_crime_allegation", "شلیک"),
    ("گزارش تازه جنایات رژیم صهیونیستی در غزه را مستند کرد.", "war_crime_allegation", "جنایات رژیم"),
]

NEGATIVES += [
    "کشتارگاه صنعتی شهر به دلیل تخلفات بهداشتی پلمب شد.",
    "بازرسان خواستار نابودی سلاح‌های کشتار جمعی شدند.",
    "در تصادف جاده‌ای دو کودک کشته شدند.",
]

# Near misses of the new rules: the same words in sport, utilities, bribery, accidents.
NEGATIVES += [
    "جنایات سایبری در سال گذشته افزایش یافت.",
    "تیم ملی در حمله به دروازه حریف ناکام ماند.",
]
