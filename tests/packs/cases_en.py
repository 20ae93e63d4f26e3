"""English pack cases: inflected positives and near-miss negatives."""

# (text, category, a matched span that must slice the original text)
POSITIVES = [
    # (text, category, a matched span that must slice the original text)
    (
        "Prosecutors say the footage shows soldiers executing unarmed prisoners of war near Bakhmut, "
        "which would be a war crime.",
        "war_crime_allegation",
        "war crime",
    ),
    (
        "The UN commission said the strikes on the camp may amount to Crimes Against Humanity.",
        "war_crime_allegation",
        "Crimes Against Humanity",
    ),
    (
        "Forensic teams exhumed bodies from mass graves in the forest outside Izium.",
        "war_crime_allegation",
        "mass graves",
    ),
    (
        "The International Criminal Court issued arrest warrants over the unlawful deportation of children.",
        "investigation",
        "International Criminal Court",
    ),
    (
        "Relatives accused the security services of the enforced disappearances of dozens of activists.",
        "war_crime_allegation",
        "enforced disappearances",
    ),
    (
        "Human Rights Watch called for an independent investigation into the torture of detainees at the base.",
        "investigation",
        "torture",
    ),
    (
        "Cluster munitions were fired into a residential district of Kharkiv, the governor said.",
        "war_crime_allegation",
        "Cluster munitions",
    ),
    (
        "Those responsible for the massacres of villagers must be brought to justice, the minister said.",
        "war_crime_allegation",
        "massacres",
    ),
    (
        "A fact-finding mission will examine allegations of summary executions in the region.",
        "investigation",
        "fact-finding mission",
    ),
    (
        "The military prosecutor's office opened a criminal case into the killing of civilians in the village.",
        "investigation",
        "criminal case",
    ),
    (
        "Witnesses said white phosphorus was dropped on the town, and a detainee died in custody days later.",
        "war_crime_allegation",
        "white phosphorus",
    ),
    (
        "Shelling of a crowded market killed 17 civilians in Kostiantynivka on Wednesday.",
        "war_crime_allegation",
        "Shelling",
    ),
]


NEGATIVES = [
    "Liverpool's 7-0 massacre of Manchester United left the visiting fans in shock at Anfield.",
    "Russian forces advanced near Avdiivka on Tuesday as foreign ministers met in Geneva to discuss a ceasefire.",
    "The ICC confirmed the T20 World Cup final will be played in Ahmedabad after the semifinal washout.",
    "The chief executive said the restructuring plan had been executed flawlessly.",
    "The new horror movie is a two-hour torture for the audience, critics said.",
]

CORPORATE_PROBE = (
    "The European Commission opened an antitrust investigation into Google's advertising business."
)

# Civilian casualties, attacks on homes and hospitals, forces charged with abuse of
# civilians or captives, and their near misses (accidents, soldiers' burials, venues).
POSITIVES += [
    ("Two soldiers were charged with the murder of an unarmed farmer, military prosecutors said.", "investigation", "soldiers were charged"),
    ("Prosecutors plan to charge a settler in the killing of a shepherd.", "investigation", "charge a settler"),
]

NEGATIVES += [
    "Police charged a 34-year-old man with murder after a stabbing in Leeds.",
    "Local officers charged with organising the festival met on Monday.",
]
