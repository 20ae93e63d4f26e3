"""I/O connectors (Beam's word for sources and sinks): feeds in, JSONL files out."""

from connectors.feeds import DEFAULT_MAX_BYTES, FeedOutcome, parse_feed
from connectors.files import ReadFeedFiles, WriteJsonl, expand_inputs
from connectors.jsonfeed import JsonFeed, parse_json_feed

__all__ = [
    "DEFAULT_MAX_BYTES",
    "FeedOutcome",
    "JsonFeed",
    "ReadFeedFiles",
    "WriteJsonl",
    "expand_inputs",
    "parse_feed",
    "parse_json_feed",
]
