"""Parsed rule packs are cached on disk by content; any cache problem falls back to parsing."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from transforms import rulepack
from transforms.rulepack import PackError, cache_dir, load_pack, read_yaml
from transforms.rules import PACKS_DIR, RuleEngine

SHIPPED = sorted(Path(PACKS_DIR).rglob("*.yaml"))


@pytest.fixture
def cache(tmp_path, monkeypatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv("NEWSWATCH_CACHE", str(folder))
    return folder


@pytest.fixture
def parses(monkeypatch) -> list[str]:
    """Names of the files the YAML parser really parsed."""
    seen: list[str] = []
    real = yaml.load

    def counting(text, Loader):
        seen.append(text[:40])
        return real(text, Loader=Loader)

    monkeypatch.setattr(rulepack.yaml, "load", counting)
    return seen


def _fresh(path: Path):
    # The pure-Python loader, directly: not the (counted) yaml.load.
    loader = yaml.SafeLoader(path.read_text(encoding="utf-8"))
    try:
        return loader.get_single_data()
    finally:
        loader.dispose()


def test_cached_documents_equal_a_fresh_parse_of_every_shipped_file(cache, parses):
    assert len(SHIPPED) > 10
    first = [read_yaml(p, "pack") for p in SHIPPED]
    assert len(parses) == len(SHIPPED)
    second = [read_yaml(p, "pack") for p in SHIPPED]
    assert len(parses) == len(SHIPPED)  # no file parsed again
    assert first == second == [_fresh(p) for p in SHIPPED]
    assert len(list(cache.glob("yaml-*"))) == len(SHIPPED)


def test_engine_from_cached_packs_flags_the_same(cache):
    text = {"title": "Mass grave found", "text": "Prosecutors opened a war crimes investigation."}
    cold = RuleEngine.load(PACKS_DIR).evaluate(text, "en")
    warm = RuleEngine.load(PACKS_DIR).evaluate(text, "en")
    assert cold.flags and cold == warm


def test_an_edited_file_is_parsed_again(cache, parses, tmp_path):
    pack = tmp_path / "xx.yaml"
    pack.write_text("language: xx\nterms: {}\nrules: []\n", encoding="utf-8")
    assert read_yaml(pack, "pack")["language"] == "xx"
    pack.write_text("language: yy\nterms: {}\nrules: []\n", encoding="utf-8")
    assert read_yaml(pack, "pack")["language"] == "yy"
    assert len(parses) == 2


def test_a_damaged_entry_is_parsed_again_and_replaced(cache, parses):
    path = SHIPPED[0]
    expected = read_yaml(path, "pack")
    (entry,) = cache.glob("yaml-*")
    entry.write_bytes(b"\x00not marshal data")
    assert read_yaml(path, "pack") == expected
    assert len(parses) == 2
    assert read_yaml(path, "pack") == expected  # the entry was written anew
    assert len(parses) == 2


def test_an_unwritable_cache_only_costs_parsing(tmp_path, monkeypatch, parses):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("NEWSWATCH_CACHE", str(blocker / "cache"))
    assert read_yaml(SHIPPED[0], "pack") == _fresh(SHIPPED[0])
    assert read_yaml(SHIPPED[0], "pack") == _fresh(SHIPPED[0])
    assert len(parses) == 2


def test_cache_can_be_turned_off(monkeypatch, parses):
    monkeypatch.setenv("NEWSWATCH_CACHE", "off")
    assert cache_dir() is None
    read_yaml(SHIPPED[0], "pack")
    read_yaml(SHIPPED[0], "pack")
    assert len(parses) == 2


def test_default_cache_follows_xdg(monkeypatch, tmp_path):
    monkeypatch.delenv("NEWSWATCH_CACHE", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert cache_dir() == tmp_path / "newswatch"


def test_a_document_marshal_cannot_keep_is_still_read(cache, tmp_path):
    pack = tmp_path / "dated.yaml"
    pack.write_text("when: 2026-03-10\n", encoding="utf-8")
    first = read_yaml(pack, "pack")
    assert str(first["when"]) == "2026-03-10" and read_yaml(pack, "pack") == first
    assert not list(cache.glob("yaml-*"))  # dates are not plain data: not cached


@pytest.mark.parametrize(
    ("content", "message"),
    [(b"language: [unclosed\n", "cannot read pack"), (b"language: \xff\xfe\n", "cannot read pack")],
)
def test_unreadable_files_are_pack_errors_naming_the_file(cache, tmp_path, content, message):
    pack = tmp_path / "broken.yaml"
    pack.write_bytes(content)
    with pytest.raises(PackError, match=f"broken.yaml: {message}"):
        load_pack(pack)
