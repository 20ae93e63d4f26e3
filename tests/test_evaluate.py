"""``newswatch eval``: the check split, the nearest rule, per-split figures, goals and the CLI."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from pipelines.commands import eval as eval_command
from pipelines.commands.common import CliError
from pipelines.eval_report import check_goals, format_errors, format_file_table
from pipelines.evaluate import CHECK, REST, Counts, flag_quality, in_check_split, nearest_rule
from transforms.rules import RuleEngine

PACK = """\
language: en
name: test
terms:
  shell: {gloss: shelling, patterns: ["shelled", "shelling"]}
  civ: {gloss: civilians, patterns: ["civilians"]}
  match: {gloss: match, patterns: ["match"]}
rules:
  - {id: en.shell_civ, category: war_crime_allegation, weight: 0.6, all: [shell, civ], within: 3,
     none: [match], none_within: 5}
"""


@pytest.fixture()
def small_engine(tmp_path: Path) -> RuleEngine:
    (tmp_path / "en.yaml").write_text(PACK, encoding="utf-8")
    return RuleEngine.load(tmp_path)


def test_check_split_is_a_stable_third_by_id():
    ids = [f"item-{n}" for n in range(3000)]
    chosen = [i for i in ids if in_check_split(i)]
    assert 0.30 < len(chosen) / len(ids) < 0.37
    assert chosen == [i for i in ids if in_check_split(i)]
    # The split depends on the id only, not on order or labels.
    assert {i for i in reversed(ids) if in_check_split(i)} == set(chosen)


def test_nearest_rule_says_what_is_missing(small_engine):
    near = nearest_rule(small_engine, {"text": "The town was shelled overnight."}, "en")
    assert near["rule"] == "en.shell_civ"
    assert (near["met"], near["conditions"]) == (1, 2)
    assert near["why"] == "missing civ"
    assert near["matched"] == {"shell": ["shelled"]}


def test_nearest_rule_with_all_terms_too_far_apart(small_engine):
    text = "Civilians fled the old quarter of the city before it was shelled."
    near = nearest_rule(small_engine, {"text": text}, "en")
    assert (near["met"], near["why"]) == (2, "terms not within 3 words")


def test_nearest_rule_blocked_by_exclusion_and_none_without_terms(small_engine):
    near = nearest_rule(small_engine, {"text": "Match report: civilians shelled"}, "en")
    assert near["why"] == "excluded by match"
    assert nearest_rule(small_engine, {"text": "Nothing relevant here."}, "en") is None


def test_counts_f1_and_empty_groups():
    c = Counts()
    for predicted, actual in [(True, True), (True, False), (False, True), (False, False)]:
        c.add(predicted, actual)
    assert (c.items, c.positives, c.precision, c.recall, c.f1) == (4, 2, 0.5, 0.5, 0.5)
    assert Counts(fn=2).f1 is None  # no prediction: precision undefined
    assert Counts(fp=1, fn=1).f1 == 0.0


def _rows() -> list[dict]:
    texts = [
        ("Artillery shelled civilians in the market.", True),
        ("The town was shelled overnight.", True),
        ("Civilians shelled in a match report, said the coach.", False),
        ("A quiet day in the city.", False),
    ]
    return [
        {"id": f"t-{n}", "text": text, "flag": flag, "lang": "en", "source": "test:a"}
        for n, (text, flag) in enumerate(texts * 3)
    ]


def test_flag_quality_splits_and_explains_errors(small_engine):
    rows = _rows()
    result = flag_quality(rows, small_engine, "cld2", split=True)
    rest, check = result["splits"][REST]["overall"], result["splits"][CHECK]["overall"]
    assert rest["items"] + check["items"] == result["overall"]["items"] == len(rows)
    assert check["items"] == sum(in_check_split(r["id"]) for r in rows)
    assert result["overall"]["tp"] == 3 and result["overall"]["fn"] == 3
    misses = [e for e in result["errors"] if e["kind"] == "false_negative"]
    assert len(misses) == 3
    assert all(e["nearest"]["why"] == "missing civ" for e in misses)
    assert {e["split"] for e in misses} <= {REST, CHECK}
    table = format_file_table(result)
    assert "all [rest]" in table and "all [check]" in table and "language en [rest]" in table
    assert "nearest en.shell_civ (1/2" in format_errors(result["errors"])


def test_goals_are_checked_on_the_rest_of_a_split_file(small_engine):
    result = flag_quality(_rows(), small_engine, "cld2", split=True)
    goals = check_goals({"dev-multilingual.jsonl": result})
    names = [g["goal"] for g in goals]
    assert "dev-multilingual.jsonl all [rest] f1 >= 0.85" in names
    overall = next(g for g in goals if g["goal"].endswith("all [rest] f1 >= 0.85"))
    assert overall["value"] == result["splits"][REST]["overall"]["f1"]
    assert overall["met"] is False  # half the positives are missed
    # Languages without labelled items in the file have no value and are not met.
    assert all(not g["met"] for g in goals if "language ru" in g["goal"])


def _args(tmp_path: Path, *extra: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    eval_command.add_arguments(parser)
    return parser.parse_args(
        ["--corpora", str(tmp_path), "--skip_langid", "--language_backend", "cld2", *extra]
    )


def _write_set(path: Path, rows: list[dict]) -> None:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")


def test_label_files_default_dev_and_extra(tmp_path):
    (tmp_path / "labeled").mkdir()
    a, b = (tmp_path / "labeled" / n for n in ("a.jsonl", "b.jsonl"))
    extra = tmp_path / "c.jsonl"
    for path in (a, b):
        _write_set(path, _rows()[:1])
    _write_set(extra, _rows()[:1])
    assert eval_command.label_files(tmp_path, None, []) == [a.resolve(), b.resolve()]
    chosen = eval_command.label_files(tmp_path, str(b), [str(extra)])
    assert chosen == [b.resolve(), extra.resolve()]
    with pytest.raises(ValueError, match="labelled set not found: .*missing.jsonl"):
        eval_command.label_files(tmp_path, None, [str(tmp_path / "missing.jsonl")])


def test_eval_command_reports_every_file_and_writes_json(tmp_path, small_engine, capsys):
    (tmp_path / "labeled").mkdir()
    _write_set(tmp_path / "labeled" / "dev-multilingual.jsonl", _rows())
    extra = tmp_path / "more.jsonl"
    _write_set(extra, _rows()[:2])
    packs = tmp_path / "packs"
    packs.mkdir()
    (packs / "en.yaml").write_text(PACK, encoding="utf-8")
    output = tmp_path / "eval.json"
    args = _args(
        tmp_path, "--labels", str(extra), "--packs_dir", str(packs), "--output", str(output)
    )
    assert eval_command.run(args, []) == 0
    printed = capsys.readouterr().out
    assert "dev-multilingual.jsonl (12 items, 6 positive" in printed
    assert "more.jsonl (2 items, 2 positive" in printed
    assert "all [check]" in printed and "goals:" in printed
    saved = json.loads(output.read_text(encoding="utf-8"))
    assert len(saved["files"]) == 2 and saved["goals"]


def test_eval_command_rejects_a_missing_set(tmp_path):
    with pytest.raises(CliError, match="labelled set not found"):
        eval_command.run(_args(tmp_path, "--dev", str(tmp_path / "nope.jsonl")), [])
