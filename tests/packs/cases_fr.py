"""French pack cases: inflected positives and near-miss negatives."""

# (text, category, a matched span that must slice the original text)
POSITIVES = [
    (
        "Selon l'ONU, ces frappes pourraient constituer des crimes de guerre.",
        "war_crime_allegation",
        "crimes de guerre",
    ),
    (
        "Le procureur a dénoncé des crimes contre l’humanité commis dans la région.",
        "war_crime_allegation",
        "crimes contre",
    ),
    (
        "La Cour pénale internationale a émis un mandat d'arrêt contre le dirigeant.",
        "investigation",
        "Cour pénale internationale",
    ),
    (
        "Un charnier contenant plus de 200 corps a été découvert près de la ville.",
        "war_crime_allegation",
        "charnier",
    ),
    (
        "Amnesty International réclame une enquête indépendante sur les tortures infligées aux détenus.",
        "investigation",
        "tortures",
    ),
    (
        "Des bombardements sur un quartier résidentiel ont tué douze civils, dont quatre enfants.",
        "war_crime_allegation",
        "bombardements",
    ),
    (
        "Les enquêteurs de l'ONU ont documenté des exécutions sommaires de prisonniers de guerre.",
        "investigation",
        "exécutions sommaires",
    ),
    (
        "Les responsables de ces massacres doivent être traduits en justice, a déclaré le ministre.",
        "war_crime_allegation",
        "massacres",
    ),
]

NEGATIVES = [
    "Le PSG a réalisé un véritable massacre en écrasant Montpellier 6-0 lors de ce match de Ligue 1.",
    "Les troupes russes ont progressé près d'Avdiïvka, tandis que les ministres se réunissaient à Genève.",
    "Le plan de restructuration a été exécuté par la nouvelle direction de l'entreprise.",
]

CORPORATE_PROBE = "L'Autorité de la concurrence a ouvert une enquête sur des soupçons d'abus de position dominante."

# Civilian casualties, attacks on homes and hospitals, forces charged with abuse of
# civilians or captives, and their near misses (accidents, soldiers' burials, venues).
POSITIVES += [
    ("Une frappe sur un immeuble d'habitation a tué quatre civils à Odessa.", "war_crime_allegation", "civils"),
]

NEGATIVES += [
    "Deux enfants sont morts dans l'incendie d'un immeuble à Lyon.",
]
