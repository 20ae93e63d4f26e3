"""Near-duplicate decisions as pure functions: tokens, signatures, the decision, URL keys, state."""

from __future__ import annotations

import hashlib
import os
import random
import subprocess
import sys
from pathlib import Path

import mmh3
import pytest

from transforms import neardup, neardup_hashes
from transforms.dedup import assign_leaders
from transforms.dedup_state import DedupState, dedup_keys
from transforms.item import Duplicate, Item, Source
from transforms.neardup import (
    NUM_PERM,
    Fingerprint,
    NearConfig,
    candidate_keys,
    containment,
    figures,
    figures_differ,
    fingerprint,
    jaccard,
    near_similarity,
    shingle_hashes,
    signature,
    tokens,
)
from transforms.normalise import canonical_url, normalise_item, url_key

REPO = Path(__file__).resolve().parents[1]

STORY_TITLE = "Prosecutors open war crimes case over detention camp near Kherson"
STORY = (
    "Regional prosecutors opened a criminal case on Thursday into the torture of detainees at a "
    "makeshift detention camp in a village near Kherson, where former prisoners described beatings, "
    "electric shocks and mock executions during months of occupation. Investigators said they had "
    "identified several suspects and were collecting testimony from residents and medical records "
    "from the district hospital."
)
OTHER_TITLE = "Talks on prisoner exchange resume in Istanbul as mediators push for a deal"
OTHER = (
    "Negotiators met in Istanbul on Friday for a new round of talks on exchanging prisoners of war, "
    "with Turkish and Gulf mediators pressing both delegations to agree on lists of detainees before "
    "the end of the month. Officials declined to say how many people could be released."
)


def fp(title: str, text: str) -> Fingerprint:
    return fingerprint(title, text)


# ---------------------------------------------------------------- tokens


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Обстріл Херсона: 3 загиблих", ["обстріл", "херсона", "3", "загиблих"]),  # Cyrillic
        (
            "Ուկրաինայի ԶՈւ-ն հայտարարել է",
            ["ուկրաինայի", "զու", "ն", "հայտարարել", "է"],
        ),  # Armenian
        ("قَصْف مدينة حلب", ["قصف", "مدینة", "حلب"]),  # harakat gone, Arabic yeh read as Farsi yeh
        (
            "بمباران ۲۰۲۴ و ٢٠٢٤",
            ["بمباران", "2024", "و", "2024"],
        ),  # Persian and Arabic-Indic digits
        ("東京で会議", ["東京", "京て", "て会", "会議"]),  # no spaces: character bigrams
        ("서울에서 회의가 열렸다", ["서울에서", "회의가", "열렸다"]),  # Hangul syllables kept whole
        (
            "atro\u00adcity zero\u200bwidth Café ＡＢＣ１２",
            ["atrocity", "zerowidth", "cafe", "abc12"],
        ),
    ],
)
def test_tokens_across_scripts(text, expected):
    assert tokens(text) == expected


def test_unicode_forms_do_not_change_tokens():
    import unicodedata

    nfd = unicodedata.normalize("NFD", "Émeutes à Erevan\u00a0: “témoins”")
    assert (
        tokens(nfd)
        == tokens('Emeutes a Erevan: "temoins"')
        == ["emeutes", "a", "erevan", "temoins"]
    )


# ---------------------------------------------------------------- signatures


def test_fingerprint_is_compact_and_deterministic_across_processes():
    once = fp(STORY_TITLE, STORY)
    packed = once.pack()
    assert len(once.signature) == NUM_PERM and packed == fp(STORY_TITLE, STORY).pack()
    code = (
        "from transforms.neardup import fingerprint; import sys; "
        "sys.stdout.write(fingerprint(sys.argv[1], sys.argv[2]).pack().hex())"
    )
    # Python's own str hash differs per process: nothing may depend on it.
    for hash_seed in ("0", "12345"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        other = subprocess.run(
            [sys.executable, "-c", code, STORY_TITLE, STORY],
            capture_output=True,
            text=True,
            cwd=REPO,
            env=env,
            check=True,
        ).stdout
        assert other == packed.hex()


# The fingerprint of one fixed item, byte for byte (version "newswatch-minhash-2").
PINNED_PACK = (
    "44000a0002d732e46330798c7ccc7f00ba9abea4dc06dfafeab12facf71a23da6a13865e2d0fc1e9de85856fb3862d"
    "f37462fec820cf516d26725aebf436c671faeea0ebba371a8063e78fa57677b9b3ae07eba68b74518268d106d4d7ee"
    "8c0e25c111cc1798a3365e2bdb8bacfcfbadac7b12ced363d5690979c0c8b05a92702bf99504b7cd820a6da3ecda09"
    "3858357fbd7b3cab3af0956c16c330db"
)


def test_fingerprint_bits_of_a_fixed_item_are_pinned():
    # Fingerprints outlive a run in the streaming dedup state, and ones of
    # another version cannot be compared: a change to these bytes must come
    # with a new ``_SEED`` name and a note on what happens to stored state.
    assert neardup._SEED == "newswatch-minhash-2"
    assert fp(STORY_TITLE, STORY + " 17 bodies, 2026").pack().hex() == PINNED_PACK


def test_token_hash_is_murmur3_low_64_bits_little_endian():
    # The digest's bytes are read as little-endian: they must be the low 64
    # bits of MurmurHash3 x64-128 as mmh3's integer API gives it, on any platform.
    words = ["war", "crimes", "Херсона", "東京", ""]
    got = neardup._token_hashes(w.encode() for w in words).tolist()
    seed = neardup._TOKEN_SEED
    assert got == [mmh3.hash128(w.encode(), seed, signed=False) & (2**64 - 1) for w in words]


def test_shingle_hashes_keep_order_and_count_distinct_shingles():
    words = tokens(STORY_TITLE) + tokens(STORY)
    strings = {" ".join(words[i : i + 3]) for i in range(len(words) - 2)}
    assert len(shingle_hashes(words)) == len(strings)  # no two shingles share a hash
    assert shingle_hashes(["a", "b", "c"]) != shingle_hashes(["c", "b", "a"])
    assert len(shingle_hashes("a b c a b c".split())) == 3  # abc, bca, cab
    assert len(shingle_hashes(["a", "b"])) == 1 and shingle_hashes([]) == []
    assert shingle_hashes(["a", "b"]) != shingle_hashes(["a", "b", "c"])
    with pytest.raises(ValueError, match="got 4"):
        shingle_hashes(words, k=4)


def test_title_sample_in_the_fingerprint_is_the_title_hashes():
    title = "Shelling of Kharkiv: 3 killed, 12 wounded, 2026 report on Kharkiv shelling"
    f = fp(title, STORY)
    assert f.title == neardup._title_hashes(tokens(title))
    assert len(f.title) == len(set(tokens(title))) == 10  # "kharkiv" and "shelling" once each
    assert len(f.figures) == 3 and f.figures == figures(tokens(title))


def test_long_texts_signature_in_chunks_is_the_same(monkeypatch):
    hashes = shingle_hashes([f"w{i}" for i in range(1300)])
    chunked = signature(hashes)
    monkeypatch.setattr(neardup_hashes, "_CHUNK", 10**6)
    assert signature(hashes) == chunked
    assert signature(hashes[:600]) != chunked


def _pinned_inputs() -> list[tuple[str, str]]:
    # Titles and texts from pieces of every script and trap the tokens handle
    # (digits of other scripts, superscripts, soft hyphens, harakat, bigram
    # scripts, apostrophes), from no words to more than MAX_TOKENS.
    rnd = random.Random(20261201)
    pieces = (
        "war crimes", "Kherson", "обстріл", "Херсона", "военные", "قَصْف", "مدينة", "حلب",
        "بمباران", "۲۰۲۴", "٢٠٢٤", "東京で会議", "서울에서", "ՀՀ", "საქართველო", "ประเทศไทย",
        "12", "007", "2024年", "¹²", "⓿", "①", "atro\u00adcity", "zero\u200bwidth", "Café",
        "ＡＢＣ１２", "l'humanité", "в’язниця", "İstanbul", "SOYKIRIM", "e\u0301", "-", ",", ".",
        "\n", "\u00a0", "\u2029", "\u0640",
    )  # fmt: skip
    out = []
    for n in (0, 1, 2, 3, 5, 12, 40, 200, 1500):
        for _ in range(4):
            title = " ".join(rnd.choice(pieces) for _ in range(rnd.randint(0, 12)))
            text = " ".join(rnd.choice(pieces) for _ in range(n))
            out.append((title, text))
    return out


def test_fingerprints_and_keys_are_pinned():
    # Stored fingerprints and keys (streaming state, spilled members) must
    # keep meaning the same after any change to how they are computed: these
    # bytes are those of version "newswatch-minhash-2" (MurmurHash3 token
    # hashes); any change to them needs a new ``_SEED`` name.
    digest = hashlib.sha256()
    config = NearConfig()
    for title, text in _pinned_inputs():
        fingerprint_ = fingerprint(title, text)
        digest.update(fingerprint_.pack())
        digest.update("|".join(candidate_keys(fingerprint_, config)).encode())
    assert digest.hexdigest() == "8f8d18f614856ef9fab33ff87a7229bb74dda5fcd553b03ff2af190c45750989"


def test_similarity_estimate_tracks_exact_jaccard():
    words = [f"w{i}" for i in range(600)]
    base = set(shingle_hashes(words))
    for keep in (1.0, 0.8, 0.5, 0.2):
        changed = words[: int(len(words) * keep)] + [
            f"x{i}" for i in range(int(len(words) * (1 - keep)))
        ]
        other = set(shingle_hashes(changed))
        exact = len(base & other) / len(base | other)
        assert abs(jaccard(signature(list(base)), signature(list(other))) - exact) < 0.12


def test_containment_of_a_prefix_is_near_one():
    words = STORY.split()
    full, half = fp(STORY_TITLE, STORY), fp(STORY_TITLE, " ".join(words[: len(words) // 2]))
    j = jaccard(full.signature, half.signature)
    assert j < 0.8
    assert containment(j, full.size, half.size) > 0.8


def test_fingerprint_packs_small_and_round_trips():
    f = fp(STORY_TITLE, STORY + " 17 bodies, 2026")
    packed = f.pack()
    assert len(packed) <= 200
    assert Fingerprint.unpack(packed) == f


# ---------------------------------------------------------------- the decision


def test_copies_are_one_story():
    original = fp(STORY_TITLE, STORY)
    words = STORY.split()
    assert near_similarity(original, fp("UPDATE: " + STORY_TITLE, STORY)) >= 0.8
    assert (
        near_similarity(original, fp(STORY_TITLE, " ".join(words[: len(words) // 2]) + " …"))
        is not None
    )
    footer = STORY + "\n\nThe post appeared first on Kherson Today. Subscribe to our newsletter."
    assert near_similarity(original, fp(STORY_TITLE, footer)) is not None


def test_decision_is_symmetric():
    a = fp(STORY_TITLE, STORY)
    b = fp(STORY_TITLE, " ".join(STORY.split()[:30]))
    assert near_similarity(a, b) == near_similarity(b, a) is not None


def test_another_story_about_the_same_war_is_not_a_copy():
    assert near_similarity(fp(STORY_TITLE, STORY), fp(OTHER_TITLE, OTHER)) is None


def test_shelling_reports_with_different_casualty_figures_stay_apart():
    report = (
        "Russian shelling hit a residential district of Kharkiv overnight, killing {} people and "
        "wounding {} others, the regional governor said. Rescuers were still searching the rubble of "
        "a five-storey building on Saturday morning, and power was cut to several streets."
    )
    title = "Shelling of Kharkiv residential district kills civilians"
    first, second = fp(title, report.format(3, 12)), fp(title, report.format(5, 20))
    assert jaccard(first.signature, second.signature) > 0.7
    assert near_similarity(first, second) is None
    assert (
        near_similarity(
            fp(title + " 3", report.format(3, 12)), fp(title + " 5", report.format(3, 12))
        )
        is None
    )
    # A truncated copy loses figures but gains none: still the same story.
    assert (
        near_similarity(first, fp(title, report.format(3, 12).split(", the regional")[0]))
        is not None
    )


def test_a_changed_headline_needs_nearly_the_same_text():
    # Two posts of one blog: one boilerplate text, headlines that differ in what matters.
    boilerplate = "Notes, resources and blog post ideas from the EpicReact lesson"
    first = ("This month I learned: forms and validation in React", boilerplate)
    second = ("This month I learned: styling components in React", boilerplate)
    exact = _exact_jaccard(*first, *second)
    assert exact < 0.6  # the estimate's spread is about 0.04: far from `strong` (0.8)
    assert near_similarity(fp(*first), fp(*second)) is None


def _exact_jaccard(title_a: str, text_a: str, title_b: str, text_b: str) -> float:
    a = set(shingle_hashes(tokens(title_a) + tokens(text_a)))
    b = set(shingle_hashes(tokens(title_b) + tokens(text_b)))
    return len(a & b) / len(a | b)


def test_too_little_text_is_never_a_near_copy():
    assert (
        near_similarity(fp("Ceasefire", "Talks resume."), fp("Ceasefire", "Talks resume.")) is None
    )
    assert candidate_keys(fp("Ceasefire", "Talks resume."), NearConfig()) == []


def test_figure_samples_compare_exactly_below_a_common_limit():
    many = [str(n) for n in range(100)]
    assert not figures_differ(figures(many), figures(many[:60]), both_ways=True)  # a truncated copy
    assert figures_differ(figures(many), figures([*many[:60], "9999"]), both_ways=False)


def test_copies_share_a_candidate_key():
    config = NearConfig()
    a = set(candidate_keys(fp(STORY_TITLE, STORY), config))
    assert a & set(candidate_keys(fp("UPDATE: " + STORY_TITLE, STORY), config))
    assert a & set(
        candidate_keys(fp(STORY_TITLE, " ".join(STORY.split()[:25])), config)
    )  # the title key
    assert not a & set(candidate_keys(fp(OTHER_TITLE, OTHER), config))


@pytest.mark.parametrize(
    ("name", "value"),
    [("threshold", 0), ("strong", 1.5), ("bands", 0), ("rows", 200), ("min_shingles", 0)],
)
def test_config_rejects_bad_values(name, value):
    with pytest.raises(ValueError, match=name if name not in ("bands", "rows") else "bands\\*rows"):
        NearConfig(**{name: value})


# ---------------------------------------------------------------- URL keys


@pytest.mark.parametrize(
    "variant",
    [
        "https://www.news.example/world/izium-grave",
        "http://news.example/world/izium-grave/",
        "https://news.example/world/izium-grave/amp",
        "https://news.example/world/izium-grave/amp/",
        "https://news.example/world/izium-grave?amp=1",
        "https://news.example/world/izium-grave?amp",
        "https://news.example/world/izium-grave?outputType=amp",
        "https://amp.news.example/world/izium-grave",
        "https://www.google.com/amp/s/news.example/world/izium-grave",
        "https://news-example.cdn.ampproject.org/c/s/news.example/world/izium-grave",
        "https://news.example/world/izium-grave?utm_source=telegram&fbclid=abc",
    ],
)
def test_url_key_joins_scheme_www_tracking_and_amp_variants(variant):
    assert url_key(canonical_url(variant)) == "news.example/world/izium-grave"


def test_url_key_amp_html_and_other_paths():
    assert (
        url_key(canonical_url("https://news.example/a/story.amp.html"))
        == "news.example/a/story.html"
    )
    assert url_key(canonical_url("https://news.example/amplifier")) == "news.example/amplifier"
    assert (
        url_key(canonical_url("https://news.example/x?ampersand=1&id=3"))
        == "news.example/x?ampersand=1&id=3"
    )
    assert url_key(canonical_url("https://news.example/")) == "news.example/"


# ---------------------------------------------------------------- leaders and state


def test_leaders_do_not_chain_copies():
    r = lambda n: (f"2026-03-1{n}", "", str(n))
    # b is a copy of a; c is like b but not like a: c is a story of its own, never a copy of b.
    edges = [(r(1), "a", r(2), "b", 0.7), (r(2), "b", r(3), "c", 0.7)]
    assert assign_leaders(edges) == {"b": ("a", 0.7)}
    # The most similar earlier story wins.
    edges = [(r(1), "a", r(3), "c", 0.5), (r(2), "b", r(3), "c", 0.9)]
    assert assign_leaders(edges) == {"c": ("b", 0.9)}


def test_an_exact_copy_stands_in_for_its_story():
    r = lambda n: (f"2026-03-1{n}", "", str(n))
    # x is a url copy of a; c matches x only: c is a copy of a.
    assert assign_leaders([(r(2), "x", r(3), "c", 0.8)], links=[("x", "a")]) == {"c": ("a", 0.8)}


SOURCE = Source(kind="feed", name="Wire", url="https://wire.example/rss")


def item(guid: str, url: str, title: str, text: str) -> Item:
    return normalise_item(Item(source=SOURCE, guid=guid, url=url, title=title, text=text))


def test_state_decides_each_pass_and_forgets_after_the_ttl():
    state = DedupState(ttl_seconds=100)
    second = 1_000_000
    original = item("a", "https://wire.example/a", STORY_TITLE, STORY)
    verdict, record = state.observe(dedup_keys(original), 0)
    assert verdict.duplicate is None and len(record) <= 256
    again, _ = state.observe(dedup_keys(original), 10 * second)
    assert again.duplicate == Duplicate(of=original.id, kind="id") and again.credit is None
    amp = item("b", "https://wire.example/a/amp", "x", "y")
    assert state.observe(dedup_keys(amp), 20 * second)[0].duplicate == Duplicate(
        of=original.id, kind="url"
    )
    copy = item("c", "https://other.example/c", STORY_TITLE.upper(), STORY.replace(".", "!"))
    assert state.observe(dedup_keys(copy), 30 * second)[0].duplicate == Duplicate(
        of=original.id, kind="content"
    )
    edited = item("d", "https://other.example/d", "UPDATE: " + STORY_TITLE, STORY)
    near, _ = state.observe(dedup_keys(edited), 40 * second)
    assert (near.duplicate.kind, near.duplicate.of, near.credit) == (
        "near",
        original.id,
        original.id,
    )
    assert len(state) == 4
    late = item("e", "https://other.example/e", "UPDATE: " + STORY_TITLE, STORY + " More.")
    # The content copy (seen at 30 s) still stands for the story after the original's TTL...
    assert state.observe(dedup_keys(late), 101 * second)[0].duplicate.of == original.id
    # ...and after its own TTL the story is new again, even before the state is cleaned up.
    later = item("f", "https://other.example/f", "UPDATE: " + STORY_TITLE, STORY + " Even more.")
    assert state.observe(dedup_keys(later), 131 * second)[0].duplicate is None
    assert state.expire(130 * second) == 3 and len(state) == 3
    assert state.expire(300 * second) == 3 and len(state) == 0


def test_state_rebuilt_from_records_decides_the_same():
    state = DedupState()
    original = item("a", "https://wire.example/a", STORY_TITLE, STORY)
    records = [state.observe(dedup_keys(original), 0)[1]]
    rebuilt = DedupState().load(records)
    edited = dedup_keys(item("d", "https://other.example/d", "UPDATE: " + STORY_TITLE, STORY))
    assert rebuilt.observe(edited, 1)[0] == state.observe(edited, 1)[0]
