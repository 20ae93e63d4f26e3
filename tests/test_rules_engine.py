"""The rule engine, on small packs written by each test (not the shipped packs)."""

from __future__ import annotations

from pathlib import Path

import apache_beam as beam
import pytest
import yaml
from apache_beam.testing.util import assert_that, equal_to

from transforms.flagging import Flagging, _FlagFn, flag_item
from transforms.normalise import html_to_text
from transforms.rules import CROSS_LANGUAGE, PackError, RuleEngine, load_pack

TERMS = {
    "war_crime": {"gloss": "war crime", "patterns": ["war crime*", "crimes of war"]},
    "massacre": {"gloss": "massacre", "patterns": ["massacr*"]},
    "killed": {"gloss": "killed", "patterns": ["killed", "shot dead"]},
    "civilians": {"gloss": "civilians", "patterns": ["civilian*"]},
    "film": {"gloss": "film (noise)", "patterns": ["film*", "movie*"]},
    "sport": {"gloss": "sport (noise)", "patterns": ["football", "match*"]},
    "probe": {"gloss": "investigation", "patterns": ["investigat*", "inquiry"]},
    "court": {"gloss": "international court", "patterns": ["international criminal court"]},
    "tax": {"gloss": "tax", "patterns": ["tax*"]},
}
RULES = [
    {"id": "wc", "category": "war_crime_allegation", "weight": 0.9, "any": ["war_crime"]},
    # Noise anywhere in the item suppresses this rule.
    {
        "id": "massacre",
        "category": "war_crime_allegation",
        "weight": 0.5,
        "any": ["massacre"],
        "none": ["sport"],
    },
    # Noise only nearby suppresses this one.
    {
        "id": "massacre-film",
        "category": "war_crime_allegation",
        "weight": 0.4,
        "any": ["massacre"],
        "none": ["film"],
        "none_within": 3,
    },
    {
        "id": "killed-civ",
        "category": "war_crime_allegation",
        "weight": 0.3,
        "all": ["killed", "civilians"],
        "within": 4,
    },
    {"id": "icc-probe", "category": "investigation", "weight": 0.6, "all": ["probe", "court"]},
    {"id": "tax-probe", "category": "other_investigation", "weight": 0.9, "all": ["probe", "tax"]},
]


def write_pack(
    directory: Path, language: str, terms: dict, rules: list, name: str | None = None
) -> Path:
    doc = {"language": language, "name": name or language, "terms": terms, "rules": rules}
    path = directory / f"{name or language}.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


@pytest.fixture
def packs_dir(tmp_path) -> Path:
    write_pack(tmp_path, "en", TERMS, RULES)
    write_pack(
        tmp_path,
        "ar",
        {"massacre": {"gloss": "massacre", "patterns": ["مجزرة", "قتل جماعي"]}},
        [
            {
                "id": "ar-massacre",
                "category": "war_crime_allegation",
                "weight": 0.8,
                "any": ["massacre"],
            }
        ],
    )
    write_pack(
        tmp_path,
        "fr",
        {"execution": {"gloss": "summary execution", "patterns": ["exécution* sommaire*"]}},
        [
            {
                "id": "fr-exec",
                "category": "war_crime_allegation",
                "weight": 0.8,
                "any": ["execution"],
            }
        ],
    )
    write_pack(
        tmp_path,
        CROSS_LANGUAGE,
        {"icc": {"gloss": "International Criminal Court", "patterns": ["ICC", "CPI", "МУС"]}},
        [{"id": "xx-icc", "category": "investigation", "weight": 0.7, "any": ["icc"]}],
    )
    return tmp_path


@pytest.fixture
def rules(packs_dir) -> RuleEngine:
    return RuleEngine.load(packs_dir)


def evaluate(engine, title, text="", language="en"):
    return engine.evaluate({"title": title, "text": text}, language)


def categories(result):
    return [f.category for f in result.flags]


def fired(result, category="war_crime_allegation"):
    return next((f.rules for f in result.candidates if f.category == category), ())


# ---------------------------------------------------------------- matching


def test_proximity_within_satisfied(rules):
    result = evaluate(rules, "Soldiers killed three unarmed civilians")
    assert fired(result) == ("killed-civ",)


def test_proximity_within_not_satisfied(rules):
    result = evaluate(
        rules, "Civilians fled the town; much later, after a long march, two soldiers were killed"
    )
    assert fired(result) == ()


def test_proximity_counts_words_across_fields(rules):
    assert fired(evaluate(rules, "Two civilians", "were killed")) == ("killed-civ",)


def test_exclusion_none_anywhere(rules):
    assert "massacre" in fired(evaluate(rules, "A massacre in the village"))
    far = evaluate(
        rules, "A massacre", "Many paragraphs later: the football season starts on Sunday."
    )
    assert "massacre" not in fired(far)


def test_exclusion_none_within_only_nearby(rules):
    near = evaluate(rules, "The massacre film opens on Friday")
    assert fired(near) == ("massacre",)
    far = evaluate(
        rules, "A massacre", "Witnesses spoke for hours. Nothing was said about the film."
    )
    assert fired(far) == ("massacre", "massacre-film")


def test_threshold_below_and_above(rules):
    below = evaluate(rules, "Soldiers killed three civilians")
    assert categories(below) == []
    assert [(c.category, c.score) for c in below.candidates] == [("war_crime_allegation", 0.3)]
    assert below.other_categories == ("war_crime_allegation",)
    above = evaluate(rules, "Soldiers accused of war crimes")
    assert categories(above) == ["war_crime_allegation"]
    assert above.other_categories == ()


def test_thresholds_are_configurable(packs_dir):
    low = RuleEngine.load(packs_dir, thresholds={"war_crime_allegation": 0.25})
    assert categories(evaluate(low, "Soldiers killed three civilians")) == ["war_crime_allegation"]
    high = RuleEngine.load(packs_dir, thresholds={"war_crime_allegation": 0.95})
    assert categories(evaluate(high, "Soldiers accused of war crimes")) == []
    assert low.thresholds["investigation"] == 0.5


@pytest.mark.parametrize(
    ("thresholds", "match"),
    [
        ({"war_crimes": 0.5}, "unknown category 'war_crimes'"),
        ({"investigation": 1.5}, r"threshold for investigation must be in \[0, 1\] \(got 1.5\)"),
        ({"investigation": -0.1}, r"must be in \[0, 1\]"),
    ],
)
def test_invalid_thresholds_are_refused(packs_dir, thresholds, match):
    with pytest.raises(ValueError, match=match):
        RuleEngine({"en": load_pack(packs_dir / "en.yaml")}, thresholds=thresholds)


def test_other_investigation_is_never_flagged(rules):
    result = evaluate(rules, "Tax authorities open an investigation into the company")
    assert categories(result) == []
    assert result.other_categories == ("other_investigation",)
    assert result.candidates[0].score == 0.9


def test_scores_combine_as_one_minus_product(rules):
    # wc 0.9, massacre 0.5, massacre-film 0.4, killed-civ 0.3
    result = evaluate(rules, "War crimes: a massacre.", "Soldiers killed civilians.")
    [flag] = result.flags
    assert set(flag.rules) == {"wc", "massacre", "massacre-film", "killed-civ"}
    assert flag.score == pytest.approx(1 - 0.1 * 0.5 * 0.6 * 0.7)
    two = evaluate(rules, "War crimes and a massacre; later a massacre film", "The football match")
    assert two.flags[0].rules == ("wc",)
    assert two.flags[0].score == pytest.approx(0.9)


@pytest.mark.parametrize("word", ["massacre", "Massacres", "MASSACRED", "massacring", "massacr"])
def test_stems_match_inflected_words(rules, word):
    result = evaluate(rules, f"Reports of a {word} yesterday")
    assert "massacre" in fired(result)
    [term] = [t for t in result.candidates[0].terms if t.term_id == "massacre"]
    assert term.text == word


@pytest.mark.parametrize(
    "title", ["A premassacre story", "The massac of words", "They killedx him"]
)
def test_words_match_only_from_their_start_and_exact_words_only_whole(rules, title):
    assert evaluate(rules, title).candidates == ()


@pytest.mark.parametrize(
    ("title", "rules_fired"),
    [
        ("Accused of a war crime", ("wc",)),
        ("Accused of war crimes", ("wc",)),
        ("Accused of crimes of war", ("wc",)),
        ("Accused of war", ()),
        ("Accused of crimes", ()),
        ("Accused of war criminality", ()),  # "crime*" is a prefix of words, not of letters in them
    ],
)
def test_multi_word_phrases_need_every_word(rules, title, rules_fired):
    assert fired(evaluate(rules, title)) == rules_fired


@pytest.mark.parametrize(
    "title", ["war crimes", "war-crimes", "war\ncrimes", "war \n  crimes", "war\u00a0crimes"]
)
def test_phrase_survives_space_hyphen_and_newline(rules, title):
    result = evaluate(rules, f"Accused of {title} again")
    assert fired(result) == ("wc",)
    assert result.flags[0].terms[0].text == title


@pytest.mark.parametrize(
    "title", ["war, crimes", "war. Crimes", "war; crimes", "war (crimes)", "war: crimes"]
)
def test_phrase_is_broken_by_punctuation(rules, title):
    assert evaluate(rules, f"Accused of {title} again").candidates == ()


def test_phrase_does_not_run_across_fields(rules):
    # Fields are joined with a newline "so phrases never run across them"; a newline
    # inside a field is a legitimate gap, the join between title and text is not.
    result = evaluate(rules, "What they said about war", "crimes are rare here")
    assert result.candidates == ()


# ---------------------------------------------------------------- evidence


def assert_spans_exact(result, fields):
    assert result.candidates
    for flag in result.candidates:
        for term in flag.terms:
            assert fields[term.field][term.start : term.end] == term.text


def test_evidence_carries_gloss_rule_field_and_span(rules):
    fields = {"title": "UN report", "text": "The report describes war crimes. Also a massacre."}
    result = rules.evaluate(fields, "en")
    terms = {
        (t.term_id, t.gloss, t.rule, t.field, t.start, t.end, t.text) for t in result.flags[0].terms
    }
    assert terms == {
        ("war_crime", "war crime", "wc", "text", 21, 31, "war crimes"),
        ("massacre", "massacre", "massacre", "text", 40, 48, "massacre"),
    }
    assert_spans_exact(result, fields)


def test_snippet_is_the_sentence_of_the_strongest_rule(rules):
    text = "It was a quiet morning. Witnesses then described a massacre near the river. Officials denied it."
    fields = {"title": "Village report", "text": text + " Later the UN spoke of war crimes!"}
    result = rules.evaluate(fields, "en")
    assert result.flags[0].snippet == "Later the UN spoke of war crimes!"
    only_massacre = rules.evaluate({"title": "Village report", "text": text}, "en")
    assert only_massacre.flags[0].snippet == "Witnesses then described a massacre near the river."


def test_spans_slice_text_after_html_removal(rules):
    markup = "<p>First paragraph.</p><p>Reports of <b>war</b>&nbsp;<i>crimes</i> &amp; a <a href='#'>massacre</a>.</p>"
    fields = {"title": html_to_text("<h1>Village &amp; town</h1>"), "text": html_to_text(markup)}
    result = rules.evaluate(fields, "en")
    assert {t.text for t in result.flags[0].terms} == {"war crimes", "massacre"}
    assert_spans_exact(result, fields)


def test_spans_slice_arabic_with_harakat(rules):
    fields = {"title": "تقرير", "text": "وقعت مَجْزَرَةٌ في القرية. ثم قَتْلٌ جَمَاعِيّ هناك"}
    result = rules.evaluate(fields, "ar")
    assert result.rules_language == "ar"
    assert [t.text for t in result.flags[0].terms] == ["مَجْزَرَةٌ", "قَتْلٌ جَمَاعِيّ"]
    assert_spans_exact(result, fields)
    assert result.flags[0].snippet == "وقعت مَجْزَرَةٌ في القرية."


def test_spans_slice_decomposed_characters(rules):
    fields = {
        "title": "Des exe\u0301cutions sommaires rapporte\u0301es",
        "text": "Deux EXÉCUTIONS SOMMAIRES.",
    }
    result = rules.evaluate(fields, "fr")
    assert [t.text for t in result.flags[0].terms] == [
        "exe\u0301cutions sommaires",
        "EXÉCUTIONS SOMMAIRES",
    ]
    assert_spans_exact(result, fields)


# ---------------------------------------------------------------- packs


@pytest.mark.parametrize(
    ("change", "match"),
    [
        (lambda t, r: r[0].update(any=["nope"]), r"rule 'wc': refers to undefined term 'nope'"),
        (lambda t, r: r[0].update(none=["nope"]), "undefined term 'nope'"),
        (lambda t, r: r[0].update(category="crime"), r"rule 'wc': category must be one of"),
        (lambda t, r: r[0].update(weight=1.5), r"rule 'wc': weight must be in \[0, 1\]"),
        (lambda t, r: r[0].update(weight="high"), r"weight must be in \[0, 1\]"),
        (
            lambda t, r: t["massacre"].update(patterns=["ma*"]),
            r"term 'massacre': stem 'ma\*' is shorter than 3",
        ),
        (lambda t, r: t["massacre"].update(patterns=[]), "needs a non-empty 'patterns' list"),
        (lambda t, r: t["massacre"].pop("gloss"), "needs an English 'gloss'"),
        (lambda t, r: t["massacre"].update(patterns=["war ! crime"]), "has an empty word"),
        (lambda t, r: r[1].update(id="wc"), "needs a unique 'id'"),
        (lambda t, r: r[0].pop("any"), "needs 'any' or 'all'"),
    ],
)
def test_invalid_packs_are_refused(tmp_path, change, match):
    terms = {k: dict(v) for k, v in TERMS.items()}
    rules = [dict(r) for r in RULES]
    change(terms, rules)
    path = write_pack(tmp_path, "en", terms, rules)
    with pytest.raises(PackError, match=match) as info:
        load_pack(path)
    assert str(path) in str(info.value)


def test_pack_without_language_is_refused(tmp_path):
    path = tmp_path / "en.yaml"
    path.write_text("terms: {}\nrules: []\n", encoding="utf-8")
    with pytest.raises(PackError, match="missing 'language'"):
        load_pack(path)


def test_pack_that_is_not_yaml_is_refused(tmp_path):
    path = tmp_path / "en.yaml"
    path.write_text("language: [unclosed\n", encoding="utf-8")
    with pytest.raises(PackError, match="cannot read pack"):
        load_pack(path)


def test_pack_with_a_non_integer_window_is_refused(tmp_path):
    # Flagging loads packs at construction so that a broken pack fails there, not on
    # a worker; an unchecked `within: "3"` instead raises TypeError on every item.
    rules = [dict(RULES[3], within="3")]
    path = write_pack(tmp_path, "en", TERMS, rules)
    with pytest.raises(PackError, match="within"):
        load_pack(path)


def test_load_refuses_an_empty_directory_and_two_packs_for_one_language(tmp_path):
    with pytest.raises(PackError, match="no rule packs"):
        RuleEngine.load(tmp_path)
    write_pack(tmp_path, "en", TERMS, RULES, name="en")
    write_pack(tmp_path, "en", TERMS, RULES, name="en-2")
    with pytest.raises(PackError, match="second pack for language 'en'"):
        RuleEngine.load(tmp_path)


def test_cross_language_fallback(rules):
    result = evaluate(rules, "Der ICC ermittelt", language="de")
    assert result.rules_language == CROSS_LANGUAGE
    assert categories(result) == ["investigation"]
    # The English pack is not used for German text.
    assert evaluate(rules, "Accused of war crimes", language="de").candidates == ()
    assert rules.pack_for(None) == CROSS_LANGUAGE
    assert rules.pack_for("en") == "en"


def test_no_cross_language_pack_means_no_flags(tmp_path):
    write_pack(tmp_path, "en", TERMS, RULES)
    engine = RuleEngine.load(tmp_path)
    result = evaluate(engine, "Accused of war crimes", language="de")
    assert (result.rules_language, result.flags) == (CROSS_LANGUAGE, ())


def test_shipped_packs_load(engine):
    assert "en" in engine.languages
    assert all(len(lang) == 2 for lang in engine.languages)
    neutral = engine.evaluate(
        {"title": "Sunny weekend ahead", "text": "Light winds and warm afternoons."}, "en"
    )
    assert neutral.flags == ()


# ---------------------------------------------------------------- flagging stage


def test_flag_item_uses_the_hint_when_the_text_is_undetermined(rules, make_item):
    item = make_item(title="Accused of war crimes", text="", language="und", language_hint="en")
    out = flag_item(rules, item)
    assert out.rules_language == "en"
    assert [f.category for f in out.flags] == ["war_crime_allegation"]
    assert out.flagged
    detected = flag_item(rules, item.replace(language="de"))
    assert (detected.rules_language, detected.flags) == (CROSS_LANGUAGE, ())


def test_flag_fn_called_directly(packs_dir, make_item):
    fn = _FlagFn(str(packs_dir), {})
    fn.setup()
    [out] = list(fn.process(make_item(title="Tax investigation", text="", language="en")))
    assert (out.flags, out.other_categories) == ((), ("other_investigation",))


def test_flagging_refuses_a_broken_pack_dir_at_construction(tmp_path):
    with pytest.raises(PackError, match="no rule packs"):
        Flagging(str(tmp_path))


def test_flagging_composite(pipeline, packs_dir, make_item):
    items = [
        make_item(guid="wc", title="Accused of war crimes", text="", language="en"),
        make_item(
            guid="hint",
            title="Soldiers killed civilians",
            text="",
            language="und",
            language_hint="en",
        ),
        make_item(guid="xx", title="Der ICC ermittelt", text="", language="de"),
        make_item(guid="none", title="Sunny weekend", text="", language="en"),
    ]
    with pipeline as p:
        out = p | beam.Create(items) | Flagging(str(packs_dir), {"war_crime_allegation": 0.3})
        assert_that(
            out
            | beam.Map(lambda i: (i.guid, i.rules_language, tuple(f.category for f in i.flags))),
            equal_to(
                [
                    ("wc", "en", ("war_crime_allegation",)),
                    ("hint", "en", ("war_crime_allegation",)),
                    ("xx", "xx", ("investigation",)),
                    ("none", "en", ()),
                ]
            ),
        )


def test_language_with_a_region_uses_the_base_pack(engine):
    assert engine.pack_for("es-419") == "es"
    assert engine.pack_for("pt_BR") == engine.pack_for("pt")
    assert engine.pack_for(None) == "xx"


def test_packs_compile_when_their_language_first_needs_them(packs_dir):
    engine = RuleEngine.load(packs_dir)
    assert engine._compiled == {}
    assert engine.languages  # every pack was read and checked at load
    evaluate(engine, "Investigators documented summary executions", language="en")
    assert set(engine._compiled) == {engine.pack_for("en")}
    first = engine._compiled[engine.pack_for("en")]
    evaluate(engine, "Another report of shelling", language="en")
    assert engine._compiled[engine.pack_for("en")] is first
