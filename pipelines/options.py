"""Pure validators for the command line's options: each raises ValueError showing what it got.

:class:`StreamOptions` is the ``PipelineOptions`` view of the streaming job's
settings: what a Dataflow Flex Template passes as parameters, and what stays
visible with the job on remote workers.
"""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Iterable

from transforms.rules import CATEGORIES

__all__ = [
    "STREAM_OPTIONS",
    "StreamOptions",
    "SIZE_UNITS",
    "check_output_dir",
    "parse_size",
    "parse_thresholds",
    "positive_int",
    "positive_seconds",
    "suggest_option",
]

# name -> (default, help): the streaming job's own options, shared by the
# ``newswatch stream`` command line and the Flex Template (deploy/metadata.json).
STREAM_OPTIONS: dict[str, tuple[str | None, str]] = {
    "subscription": (None, "raw items, projects/<p>/subscriptions/<s> (required)"),
    "flagged_topic": (None, "flagged items and updates, projects/<p>/topics/<t> (required)"),
    "dead_letter_topic": (None, "dead letters, projects/<p>/topics/<t> (default: logged only)"),
    "output": (None, "directory (or gs:// path) for event-time windowed JSONL files"),
    "window_seconds": ("300", "event-time window of the files and of lateness (default 300)"),
    "dedup_ttl_seconds": ("604800", "how long dedup remembers an item (default 7 days)"),
    "timestamp_attribute": (
        None,
        "let the runner read event time from this attribute: 'fetched' on Dataflow",
    ),
    "id_label": (None, "attribute Pub/Sub reads are deduplicated by: 'item_id' on Dataflow only"),
    "language_backend": ("cascade", "language backend (default cascade)"),
    "packs_dir": (None, "rule packs directory (default: bundled packs)"),
    "thresholds": ("", "per-category score thresholds, e.g. investigation=0.6"),
}


def positive_int(value: str) -> int:
    """argparse type for a positive integer, with the value in the error."""
    try:
        number = int(value)
    except ValueError:
        raise ValueError(f"must be a positive integer (got {value!r})") from None
    if number <= 0:
        raise ValueError(f"must be a positive integer (got {value!r})")
    return number


# Binary multiples, whichever way they are written: the default limit of
# "20 MB" has always meant 20 x 1024 x 1024 bytes.
SIZE_UNITS = {
    "": 1,
    "b": 1,
    "k": 1024,
    "kb": 1024,
    "kib": 1024,
    "m": 1024**2,
    "mb": 1024**2,
    "mib": 1024**2,
    "g": 1024**3,
    "gb": 1024**3,
    "gib": 1024**3,
}
_SIZE = re.compile(r"^\s*([0-9]+(?:\.[0-9]+)?)\s*([A-Za-z]*)\s*$")


def parse_size(value: str) -> int:
    """A size in bytes from ``20MB``, ``1.5 GiB``, ``512k`` or ``1048576``.

    Units are binary whatever their spelling (KB = KiB = 1024 bytes).

    Raises:
        ValueError: not a number with a known unit, or not positive.
    """
    match = _SIZE.match(str(value))
    unit = match.group(2).lower() if match else ""
    if not match or unit not in SIZE_UNITS:
        raise ValueError(
            f"must be a size such as 20MB, 512KB or 1048576 (units B, KB, MB, GB; got {value!r})"
        )
    size = int(float(match.group(1)) * SIZE_UNITS[unit])
    if size <= 0:
        raise ValueError(f"must be a positive size (got {value!r})")
    return size


def positive_seconds(value: str) -> float:
    """A positive number of seconds, with the value in the error."""
    try:
        seconds = float(value)
    except ValueError:
        raise ValueError(f"must be a number of seconds (got {value!r})") from None
    if not seconds > 0 or seconds == float("inf"):
        raise ValueError(f"must be a positive number of seconds (got {value!r})")
    return seconds


def suggest_option(unknown: str, known: Iterable[str]) -> str:
    """``unknown option --ouput (did you mean --output?)``: one line for a usage error."""
    name = unknown.split("=", 1)[0]
    candidates = sorted(set(known))
    respelled = "--" + name.lstrip("-").replace("-", "_")
    close = [k for k in candidates if k == respelled]
    close = close or difflib.get_close_matches(name, candidates, n=1, cutoff=0.75)
    hint = f" (did you mean {close[0]}?)" if close else ""
    return f"unknown option {name}{hint}"


def parse_thresholds(spec: str | None) -> dict[str, float]:
    """``category=score,...`` → dict.

    Raises:
        ValueError: unknown category or a score outside [0, 1].
    """
    out: dict[str, float] = {}
    for part in (spec or "").split(","):
        if not part.strip():
            continue
        name, sep, value = part.partition("=")
        name = name.strip()
        if not sep or name not in CATEGORIES:
            raise ValueError(
                f"thresholds must look like category=score with category in {CATEGORIES} (got {part!r})"
            )
        try:
            score = float(value)
        except ValueError:
            raise ValueError(f"threshold for {name} must be a number (got {value!r})") from None
        if not 0 <= score <= 1:
            raise ValueError(f"threshold for {name} must be in [0, 1] (got {value!r})")
        out[name] = score
    return out


def check_output_dir(path: str) -> str:
    """Create the output directory if needed and check that it is writable.

    Raises:
        ValueError: the directory cannot be created or written.
    """
    if "://" in path:
        return path  # remote filesystems are checked by Beam when writing
    try:
        os.makedirs(path, exist_ok=True)
    except OSError as exc:
        raise ValueError(f"cannot create output directory {path!r}: {exc.strerror}") from None
    if not os.access(path, os.W_OK | os.X_OK):
        raise ValueError(f"output directory is not writable: {path!r}")
    return path


def _stream_options_class():
    # Beam is imported only by the commands that run a pipeline.
    from apache_beam.options.pipeline_options import PipelineOptions

    class StreamOptions(PipelineOptions):
        """The streaming job's options (see :data:`STREAM_OPTIONS`)."""

        @classmethod
        def _add_argparse_args(cls, parser) -> None:
            for name, (default, text) in STREAM_OPTIONS.items():
                parser.add_argument(f"--{name}", default=default, help=text)

    StreamOptions.__qualname__ = "StreamOptions"
    return StreamOptions


def __getattr__(name: str):
    if name == "StreamOptions":
        cls = _stream_options_class()
        globals()["StreamOptions"] = cls
        return cls
    raise AttributeError(f"module 'pipelines.options' has no attribute {name!r}")
