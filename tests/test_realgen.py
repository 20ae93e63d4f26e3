"""Generated benchmark items keep their entry's language and are different stories."""

from __future__ import annotations

import re

import pytest

from benchmarks.realgen import Template, load_templates, variant
from benchmarks.realgen import main as realgen_main

_WORD = re.compile(r"\w{2,}")
TEXT = (
    "<p>Власти области сообщили об обстреле рынка в центре города утром в субботу. "
    "По данным прокуратуры, погибли мирные жители, возбуждено дело о военном преступлении. "
    "Следователи осматривают место удара и опрашивают свидетелей.</p>"
)


def _shingles(text: str) -> set[tuple[str, ...]]:
    words = _WORD.findall(re.sub(r"<[^>]*>", " ", text))
    return set(zip(words, words[1:], words[2:]))


def test_variants_draw_their_words_from_their_own_entry():
    title = "Обстрел рынка в центре города"
    template = Template("Вестник", title, TEXT, "https://x.example/a", "g1", None)
    own = set(_WORD.findall(template.title)) | set(_WORD.findall(TEXT))
    own -= {"p"}
    variants = [variant(template, k) for k in range(4)]
    for v in variants:
        assert set(_WORD.findall(v["title"] + " " + v["text"])) - {"p"} <= own
        assert v["text"] != TEXT and v["text"].startswith("<p>") and v["text"].endswith("</p>")
    # Every fourth word changed at another offset per variant: few shingles in common.
    for a in range(4):
        for b in range(a + 1, 4):
            sa, sb = _shingles(variants[a]["text"]), _shingles(variants[b]["text"])
            assert len(sa & sb) <= 0.2 * min(len(sa), len(sb))


def test_a_corpora_folder_without_real_feeds_is_a_clear_error(tmp_path, capsys):
    with pytest.raises(ValueError, match="no real feed entries"):
        load_templates(tmp_path)
    with pytest.raises(SystemExit) as stopped:
        realgen_main([str(tmp_path / "out"), "--items", "10", "--corpora", str(tmp_path)])
    assert stopped.value.code == 2
    assert "is --corpora right?" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()
