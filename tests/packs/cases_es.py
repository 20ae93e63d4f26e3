"""Spanish pack cases: inflected positives and near-miss negatives."""

# (text, category, a matched span that must slice the original text)
POSITIVES = [
    (
        "La ONU denunció que los bombardeos podrían constituir crímenes de guerra.",
        "war_crime_allegation",
        "crímenes de guerra",
    ),
    (
        "La Fiscalía imputó a doce militares por los llamados falsos positivos, ejecuciones extrajudiciales de civiles.",
        "war_crime_allegation",
        "ejecuciones extrajudiciales",
    ),
    (
        "La Corte Penal Internacional abrió una investigación por crímenes de lesa humanidad en Venezuela.",
        "investigation",
        "Corte Penal Internacional",
    ),
    (
        "Las autoridades hallaron una fosa clandestina con restos de al menos 30 personas en Jalisco.",
        "war_crime_allegation",
        "fosa clandestina",
    ),
    (
        "Familiares de víctimas de desaparición forzada marcharon para exigir justicia.",
        "war_crime_allegation",
        "desaparición forzada",
    ),
    (
        "Un bombardeo contra un mercado mató a 25 civiles, entre ellos varios niños.",
        "war_crime_allegation",
        "bombardeo",
    ),
    (
        "Human Rights Watch documentó torturas a detenidos en centros de detención clandestinos.",
        "investigation",
        "torturas",
    ),
    (
        "Los responsables de la masacre deben ser llevados ante la justicia, exigió la CIDH.",
        "war_crime_allegation",
        "masacre",
    ),
]

NEGATIVES = [
    "El Real Madrid firmó una auténtica masacre con una goleada de 7-0 en el estadio.",
    "Las tropas rusas avanzaron cerca de Avdíivka mientras los cancilleres se reunían en Ginebra.",
    "El partido oficialista ejecutó su estrategia electoral con disciplina.",
]

CORPORATE_PROBE = "La CNMC abrió una investigación contra la empresa por prácticas contrarias a la libre competencia."

# Civilian casualties, attacks on homes and hospitals, forces charged with abuse of
# civilians or captives, and their near misses (accidents, soldiers' burials, venues).
POSITIVES += [
    ("El bombardeo de un hospital en Jartum dejó doce civiles muertos.", "war_crime_allegation", "hospital"),
]

NEGATIVES += [
    "Tres niños murieron en un accidente de tráfico en Sevilla.",
]
