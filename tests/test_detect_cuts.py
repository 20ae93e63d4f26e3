"""The language-cut benchmark: its table, its checks, and the cut it leaves behind."""

from __future__ import annotations

from pathlib import Path

import pytest

import transforms.language as language
from benchmarks import detect_cuts
from benchmarks.dedup_data import load_items

SAMPLES = Path(__file__).resolve().parents[1] / "samples" / "feeds"


def test_texts_are_cut_as_asked_and_the_pipeline_cut_stays(make_item):
    item = make_item(title="Headline", text="word " * 400)
    before = language.DETECT_CHARS
    (short,) = detect_cuts._texts([item], 50)
    assert short == ("Headline\n" + item.text)[:50]
    assert language.DETECT_CHARS == before


def test_the_table_compares_each_cut_with_the_first(corpora, capsys):
    assert detect_cuts.main(
        [str(SAMPLES), "--corpora", str(corpora), "--cuts", "1000", "100", "--repeat", "1"]
    ) == 0
    lines = capsys.readouterr().out.splitlines()
    items = len(load_items(SAMPLES))
    assert lines[0].startswith(f"{items} items from {SAMPLES}")
    rows = {line.split()[0]: line.split() for line in lines[2:4]}
    # The reference changes nothing against itself.
    assert rows["1000"][2:5] == ["1.00×", "0", "0"]
    # A 100-character cut reads less of the samples' long texts: some confidences move.
    assert int(rows["100"][4]) > 0
    # "right / labelled": the same labelled items for every cut.
    total = rows["1000"][-1]
    assert int(total) > 2000 and rows["100"][-1] == total
    for row in rows.values():
        assert 0 < int(row[-3]) <= int(total)


@pytest.mark.parametrize("argv", [["--cuts", "0"], ["--repeat", "0"]])
def test_bad_options_are_usage_errors(argv, tmp_path):
    with pytest.raises(SystemExit) as stop:
        detect_cuts.main([str(tmp_path), *argv])
    assert stop.value.code == 2


def test_an_empty_input_is_a_usage_error(corpora, tmp_path):
    with pytest.raises(SystemExit) as stop:
        detect_cuts.main([str(tmp_path), "--corpora", str(corpora)])
    assert stop.value.code == 2
