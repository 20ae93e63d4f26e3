"""Azerbaijani pack cases: inflected positives and near-miss negatives."""

# (text, category, a matched span that must slice the original text)
POSITIVES = [
    (
        "Xarici İşlər Nazirliyi erməni silahlı qüvvələrinin törətdiyi hərbi cinayətləri pisləyib.",
        "war_crime_allegation",
        "hərbi cinayətləri",
    ),
    (
        "Hərbi Prokurorluq hərbi əsirlərə qarşı işgəncə faktı üzrə cinayət işi başladıb.",
        "investigation",
        "Hərbi Prokurorluq",
    ),
    (
        "Gəncə şəhərinin yaşayış məntəqələri atəşə tutulub, nəticədə dörd dinc sakin həlak olub.",
        "war_crime_allegation",
        "yaşayış məntəqələri atəşə tutulub",
    ),
    (
        "Xocalı soyqırımının 33-cü ildönümü ilə bağlı anım tədbirləri keçirilib.",
        "war_crime_allegation",
        "soyqırımının",
    ),
    (
        "Beynəlxalq Cinayət Məhkəməsi müharibə cinayətləri ilə bağlı həbs orderi verib.",
        "investigation",
        "Beynəlxalq Cinayət Məhkəməsi",
    ),
    (
        "Azad edilmiş ərazidə kütləvi məzarlıq aşkarlanıb.",
        "war_crime_allegation",
        "kütləvi məzarlıq",
    ),
    (
        "Ombudsman əsirlikdə saxlanılan şəxslərə işgəncə verilməsini pisləyib.",
        "war_crime_allegation",
        "işgəncə",
    ),
]

NEGATIVES = [
    "Qarabağ FK rəqibini 5:0 hesabla darmadağın edərək meydanda əsl qırğın törədib.",
    "Prezident Brüsseldə Avropa İttifaqı rəsmiləri ilə sülh gündəliyini müzakirə edib.",
    "Müdafiə Nazirliyi cəbhə xəttində vəziyyətin sabit olduğunu bildirib.",
]

CORPORATE_PROBE = "Prokurorluq bankda mənimsəmə faktı üzrə cinayət işi başlayıb."

# Civilian casualties, attacks on homes and hospitals, forces charged with abuse of
# civilians or captives, and their near misses (accidents, soldiers' burials, venues).
POSITIVES += [
    ("Ermənistan silahlı qüvvələri yaşayış məntəqələrini atəşə tutub, iki dinc sakin həlak olub.", "war_crime_allegation", "dinc sakin"),
]

NEGATIVES += [
    "Yol qəzası nəticəsində iki uşaq həlak olub.",
]
