"""Turkish pack cases: inflected positives and near-miss negatives."""

# (text, category, a matched span that must slice the original text)
POSITIVES = [
    (
        "BM, saldırıların savaş suçu teşkil edebileceğini açıkladı.",
        "war_crime_allegation",
        "savaş suçu",
    ),
    (
        "Uluslararası Ceza Mahkemesi, cumhurbaşkanı hakkında yakalama kararı çıkardı.",
        "investigation",
        "Uluslararası Ceza Mahkemesi",
    ),
    (
        "Bölgede yüzlerce sivilin cesedinin bulunduğu toplu mezar ortaya çıkarıldı.",
        "war_crime_allegation",
        "toplu mezar",
    ),
    (
        "İnsan Hakları Derneği, gözaltındaki kişilere işkence yapıldığını açıkladı.",
        "war_crime_allegation",
        "işkence",
    ),
    (
        "Yerleşim yerlerine düzenlenen hava saldırısında 12 sivil hayatını kaybetti.",
        "war_crime_allegation",
        "hava saldırısında",
    ),
    (
        "Ordu, kent merkezinde misket bombası kullandı.",
        "war_crime_allegation",
        "misket bombası",
    ),
    (
        "Cumartesi Anneleri, gözaltında kaybedilenlerin akıbetini sordu.",
        "war_crime_allegation",
        "gözaltında kaybedilenlerin",
    ),
    (
        "Savcılık, yargısız infaz iddialarıyla ilgili soruşturma başlattı.",
        "investigation",
        "yargısız infaz",
    ),
    (
        "ULUSLARARASI CEZA MAHKEMESİ SOYKIRIM DAVASINI GÖRÜŞECEK",
        "war_crime_allegation",
        "SOYKIRIM",
    ),
]

NEGATIVES = [
    "Galatasaray, Süper Lig maçında rakibini 6-0 yenerek adeta katliam yaptı.",
    "Rus birlikleri Avdiivka yakınlarında ilerlerken dışişleri bakanları Cenevre'de ateşkesi görüştü.",
    "Ekonomi bakanı yeni vergi paketini Meclis'te tanıttı.",
]

CORPORATE_PROBE = (
    "Rekabet Kurulu, şirket hakkında tekel konumunu kötüye kullanma iddiasıyla soruşturma açtı."
)

# Civilian casualties, attacks on homes and hospitals, forces charged with abuse of
# civilians or captives, and their near misses (accidents, soldiers' burials, venues).
POSITIVES += [
    ("Yerleşim yerlerine düzenlenen saldırıda üç sivil hayatını kaybetti.", "war_crime_allegation", "sivil"),
]

NEGATIVES += [
    "Trafik kazasında iki çocuk hayatını kaybetti.",
]
