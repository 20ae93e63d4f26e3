"""German pack cases: inflected positives and near-miss negatives."""

# (text, category, a matched span that must slice the original text)
POSITIVES = [
    (
        "Die Bundesanwaltschaft ermittelt wegen mutmaßlicher Kriegsverbrechen russischer Soldaten in Butscha.",
        "war_crime_allegation",
        "Kriegsverbrechen",
    ),
    (
        "Der Internationale Strafgerichtshof hat einen Haftbefehl gegen den Präsidenten erlassen.",
        "investigation",
        "Internationale Strafgerichtshof",
    ),
    (
        "In der Nähe von Isjum wurde ein Massengrab mit mehr als 400 Leichen entdeckt.",
        "war_crime_allegation",
        "Massengrab",
    ),
    (
        "Menschenrechtler berichten von Folter an Gefangenen in russischen Gefängnissen.",
        "war_crime_allegation",
        "Folter",
    ),
    (
        "Beim Beschuss eines Wohnhauses wurden sieben Zivilisten getötet.",
        "war_crime_allegation",
        "Beschuss",
    ),
    (
        "Die Armee soll Streumunition in dicht besiedelten Wohngebieten eingesetzt haben.",
        "war_crime_allegation",
        "Streumunition",
    ),
    (
        "Die Verantwortlichen für die Verbrechen gegen die Menschlichkeit müssen zur Rechenschaft gezogen werden.",
        "war_crime_allegation",
        "Verbrechen gegen die Menschlichkeit",
    ),
    (
        "UN-Ermittler werfen den Sicherheitskräften außergerichtliche Hinrichtungen vor.",
        "war_crime_allegation",
        "außergerichtliche Hinrichtungen",
    ),
]

NEGATIVES = [
    "Der FC Bayern feierte beim 8:0 gegen Bochum ein wahres Massaker, die Fans jubelten über jedes Tor.",
    "Russische Truppen rückten bei Awdijiwka vor, während die Außenminister in Genf über eine Waffenruhe berieten.",
    "Die Polizei ermittelt nach einem Einbruch in ein Juweliergeschäft in der Innenstadt.",
]

CORPORATE_PROBE = "Das Bundeskartellamt hat ein Verfahren gegen den Konzern eingeleitet und ermittelt wegen Missbrauchs von Marktmacht."

# Civilian casualties, attacks on homes and hospitals, forces charged with abuse of
# civilians or captives, and their near misses (accidents, soldiers' burials, venues).
POSITIVES += [
    ("Bei dem Angriff auf ein Wohnhaus in Charkiw wurden drei Zivilisten getötet.", "war_crime_allegation", "Wohnhaus"),
]

NEGATIVES += [
    "Bei einem Verkehrsunfall auf der A7 starben zwei Kinder.",
]
