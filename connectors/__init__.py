"""I/O connectors (Beam's word for sources and sinks): everything that touches the outside world.

Names load on first use (PEP 562): the poller imports the HTTP layer and the
feed reader without loading Beam; the Beam sources and sinks load Beam when
they are first used.

Exceptions (``connectors.errors``)::

    ConnectorError
     ├── TransientError(retry_after)   try again later: 429, 5xx, timeouts, refused connections
     └── PermanentError                 will not work as configured: 404, a refused address, bad payload
"""

from __future__ import annotations

import importlib
from typing import Any

# public name -> module that defines it
_EXPORTS = {
    "ConnectorError": "connectors.errors",
    "TransientError": "connectors.errors",
    "PermanentError": "connectors.errors",
    "DEFAULT_MAX_BYTES": "connectors.feeds",
    "FeedOutcome": "connectors.feeds",
    "parse_feed": "connectors.feeds",
    "JsonFeed": "connectors.jsonfeed",
    "parse_json_feed": "connectors.jsonfeed",
    "ReadFeedFiles": "connectors.files",
    "WriteJsonl": "connectors.sinks",
    "expand_inputs": "connectors.files",
    "MastodonConnector": "connectors.mastodon",
    "BlueskyConnector": "connectors.bluesky",
    "TelegramConnector": "connectors.telegram",
    "RedditConnector": "connectors.reddit",
    "YoutubeConnector": "connectors.youtube",
    "WarcArchive": "connectors.warc",
    "read_warc": "connectors.warc",
    "replay_warc": "connectors.warcreplay",
    "Robots": "connectors.articles",
    "enrich_all": "connectors.articles",
    "RawItemPublisher": "connectors.pubsub_publisher",
    "ReviewStore": "connectors.store",
    "Poller": "connectors.poller",
    "PollerConfig": "connectors.rounds",
    "RoundReport": "connectors.rounds",
    "SourcesError": "connectors.sources",
    "load_sources": "connectors.sources",
    "SourceHealth": "connectors.state",
    "State": "connectors.state",
    "JsonlOutput": "connectors.rawsinks",
    "RawOutputs": "connectors.rawsinks",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'connectors' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))
