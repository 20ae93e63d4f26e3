"""Sources files: YAML and OPML to SourceConfig; every mistake names its line and field."""

from __future__ import annotations

import pytest

from connectors.sources import SourcesError, load_sources, parse_sources

GOOD = b"""\
# Two outlets and a channel
- name: BBC World
  kind: feed
  url: https://feeds.bbci.co.uk/news/world/rss.xml
  country: gb
  language: en
  affiliation: public broadcaster

- name: Ukrainska Pravda
  kind: feed
  url: https://www.pravda.com.ua/rss/
  country: UA
  language: uk
"""


def test_yaml_sources_keep_their_lines_and_optional_fields():
    sources = parse_sources(GOOD, "sources.yaml")
    assert [s.name for s in sources] == ["BBC World", "Ukrainska Pravda"]
    bbc, up = sources
    assert (bbc.kind, bbc.url, bbc.country, bbc.language) == (
        "feed",
        "https://feeds.bbci.co.uk/news/world/rss.xml",
        "GB",
        "en",
    )
    assert bbc.affiliation == "public broadcaster"
    assert (bbc.line, up.line) == (2, 9)
    assert up.affiliation is None
    # copied onto every item of the source
    assert bbc.source().country == "GB" and bbc.source().affiliation == "public broadcaster"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            b"- name: a\n  kind: feed\n  url: https://a.example/rss\n- name: b\n  kind: rss\n",
            "sources.yaml:5: kind must be one of ['feed', 'mastodon', 'bluesky', 'telegram', "
            "'reddit', 'youtube'] (got 'rss')",
        ),
        (b"- kind: feed\n  url: https://a.example/\n", "sources.yaml:1: name is required"),
        (b"- name: a\n  url: https://a.example/\n", "sources.yaml:1: kind is required"),
        (
            b"- name: a\n  kind: feed\n  url: ftp://a.example/x\n",
            "sources.yaml:3: url must be an http(s) URL (got 'ftp://a.example/x')",
        ),
        (
            b"- name: a\n  kind: feed\n  url: https://a.example/\n  country: Ukraine\n",
            "sources.yaml:4: country must be an ISO 3166-1 alpha-2 code (got 'Ukraine')",
        ),
        (
            b"- name: a\n  kind: feed\n  url: https://a.example/\n  language: 'english!'\n",
            "sources.yaml:4: language must be a language code like en or pt-BR (got 'english!')",
        ),
        (
            b"- name: a\n  kind: feed\n  url: https://a.example/\n"
            b"- name: a\n  kind: feed\n  url: https://b.example/\n",
            "sources.yaml:4: name 'a' is already used on line 1; names must be unique",
        ),
        (b"- name: [a, b]\n  kind: feed\n", "sources.yaml:1: name must be text (got ['a', 'b'])"),
        (b"name: a\nkind: feed\n", "sources.yaml:1: the file must be a YAML list of sources"),
        (b"- just a string\n", "sources.yaml:1: each source must be a mapping"),
        (b"- name: a\n  kind: feed\n  name: b\n", "sources.yaml:3: name is given twice"),
        (b"- name: a\n  kind: [feed\n", "sources.yaml:3: not valid YAML"),
        (b"# nothing yet\n", "sources.yaml: no sources in the file"),
    ],
)
def test_each_mistake_names_line_and_field(text, message):
    with pytest.raises(SourcesError) as caught:
        parse_sources(text, "sources.yaml")
    assert str(caught.value).startswith(message)


def test_the_kinds_own_keys_are_checked_by_its_connector():
    # A feed needs a URL; the feed connector says so, and the line is the source's.
    with pytest.raises(SourcesError, match=r"^s\.yaml:4: .*url"):
        text = b"- name: a\n  kind: feed\n  url: https://a.example/\n- name: b\n  kind: feed\n"
        parse_sources(text, "s.yaml")


def test_a_missing_file_is_one_line(tmp_path):
    with pytest.raises(SourcesError, match="cannot read sources file"):
        load_sources(tmp_path / "nope.yaml")


OPML = b"""<?xml version="1.0" encoding="UTF-8"?>
<opml version="2.0">
  <head><title>Conflict desk</title></head>
  <body>
    <outline text="Wires">
      <outline text="DW" title="DW News" type="rss" xmlUrl="https://rss.dw.com/rdf/rss-en-all"/>
      <outline text="Reuters-ish" type="rss" xmlUrl="https://wire.example/rss?a=1&amp;b=2"/>
    </outline>
    <outline text="A folder without feeds"/>
    <outline text="DW" type="rss" xmlUrl="https://rss.dw.com/rdf/rss-de-all"/>
  </body>
</opml>
"""


def test_opml_outlines_with_xml_url_are_feed_sources(tmp_path):
    path = tmp_path / "desk.opml"
    path.write_bytes(OPML)
    sources = load_sources(path)
    assert [s.kind for s in sources] == ["feed"] * 3
    assert [s.url for s in sources] == [
        "https://rss.dw.com/rdf/rss-en-all",
        "https://wire.example/rss?a=1&b=2",
        "https://rss.dw.com/rdf/rss-de-all",
    ]
    assert [s.line for s in sources] == [6, 7, 10]
    # a repeated title stays unique by its URL
    assert len({s.name for s in sources}) == 3
    assert [s.name for s in sources][::2] == ["DW", "DW (https://rss.dw.com/rdf/rss-de-all)"]


def test_opml_with_a_bad_xml_url_names_its_line():
    bad = OPML.replace(b"https://wire.example/rss?a=1&amp;b=2", b"javascript:alert(1)")
    with pytest.raises(SourcesError, match=r"^desk\.opml:7: xmlUrl must be an http\(s\) URL"):
        parse_sources(bad, "desk.opml")


def test_a_kind_key_mistake_names_the_line_of_that_key():
    text = (
        b"- name: desk\n  kind: mastodon\n  url: https://mastodon.social\n"
        b"  country: UA\n  hashtag: 'war crimes'\n"
    )
    with pytest.raises(SourcesError, match=r"^s\.yaml:5: hashtag "):
        parse_sources(text, "s.yaml")
    ok = parse_sources(text.replace(b"'war crimes'", b"warcrimes"), "s.yaml")
    assert ok[0].options == {"hashtag": "warcrimes"} and ok[0].country == "UA"


def test_shared_defaults_merge_and_explicit_keys_win():
    text = b"""\
- name: a
  kind: feed
  url: https://a.example/
  <<: &ukraine
    country: UA
    language: uk
- name: b
  kind: feed
  url: https://b.example/
  language: ru
  <<: *ukraine
"""
    a, b = parse_sources(text, "s.yaml")
    assert (a.country, a.language) == ("UA", "uk")
    assert (b.country, b.language) == ("UA", "ru")
    with pytest.raises(SourcesError, match=r"^s\.yaml:2: <<: must name a mapping"):
        parse_sources(b"- name: a\n  <<: 5\n", "s.yaml")


def test_yaml_tags_that_would_build_objects_are_refused():
    with pytest.raises(SourcesError, match=r"^s\.yaml:1: name: could not determine a constructor"):
        parse_sources(b"- name: !!python/object/apply:os.system [true]\n  kind: feed\n", "s.yaml")
