"""Each social kind resolves to its connector, importable without Beam."""

from __future__ import annotations

import subprocess
import sys

import pytest

import connectors
from connectors.base import SourceConfig, connector_class

KINDS = {
    "mastodon": ("MastodonConnector", {"hashtag": "news"}),
    "bluesky": ("BlueskyConnector", {"actor": "example.bsky.social"}),
    "telegram": ("TelegramConnector", {"channel": "example_channel"}),
    "reddit": ("RedditConnector", {"subreddit": "worldnews"}),
    "youtube": ("YoutubeConnector", {"channel_id": "UCa1b2c3d4e5f6g7h8i9j0kL"}),
}


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_kind_resolves_to_its_connector(kind):
    name, options = KINDS[kind]
    cls = connector_class(kind)
    assert cls is getattr(connectors, name) and cls.kind == kind
    cls.check(SourceConfig(name="x", kind=kind, options=options))
    # The constructor validates too: a bad source never gets as far as a poll.
    with pytest.raises(ValueError, match="must (be set|match)|set exactly one"):
        cls(SourceConfig(name="x", kind=kind, options={}), fetcher=None)


def test_social_connectors_import_without_beam():
    modules = ", ".join(f"connectors.{kind}" for kind in KINDS)
    code = f"import sys, {modules}; print('apache_beam' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_a_bad_key_in_the_sources_file_names_its_line():
    from connectors.sources import SourcesError, parse_sources

    data = b"""- name: Telegram channel
  kind: telegram
  country: RU
  channel: "two words"
"""
    with pytest.raises(SourcesError, match=r"sources.yaml:4: channel must match .*'two words'"):
        parse_sources(data, "sources.yaml")
