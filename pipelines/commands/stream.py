"""``newswatch stream``: the streaming pipeline, raw-item subscription to flagged topic."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from pipelines.commands.common import CliError, add_stage_options

__all__ = ["HELP", "NAME", "add_arguments", "run"]

NAME = "stream"
HELP = "run the streaming pipeline: raw items from Pub/Sub to the flagged-item topic"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from pipelines.options import STREAM_OPTIONS

    parser.description = (
        "Read raw items (as `newswatch poll --publish` writes them) from a Pub/Sub "
        "subscription, run the replay stages on them, and publish flagged items and dedup "
        "updates to a topic. Locally on BundleBasedDirectRunner --streaming; Ctrl-C stops."
    )
    for name in (
        "subscription",
        "flagged_topic",
        "dead_letter_topic",
        "output",
        "window_seconds",
        "dedup_ttl_seconds",
        "timestamp_attribute",
        "id_label",
    ):
        default, text = STREAM_OPTIONS[name]
        parser.add_argument(f"--{name}", default=default, help=text)
    add_stage_options(parser)
    parser.add_argument(
        "--status_seconds",
        default="10",
        metavar="S",
        help="print the stage counters every S seconds (default 10)",
    )
    parser.add_argument(
        "--metrics_port",
        default=None,
        metavar="PORT",
        help="serve Prometheus metrics and a health check on 127.0.0.1:PORT",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress lines")


def run(args: argparse.Namespace, beam_args: Sequence[str]) -> int:
    from pipelines.launch import check_pubsub, run_stream, stream_config
    from pipelines.options import STREAM_OPTIONS, positive_int

    values = {name: getattr(args, name, None) for name in STREAM_OPTIONS}
    try:
        config = stream_config(values)
        status = positive_int(args.status_seconds)
        port = positive_int(args.metrics_port) if args.metrics_port else None
        dataflow = any("DataflowRunner" in a for a in beam_args)
        if config.id_label and not dataflow:
            raise ValueError(
                "--id_label works only on --runner=DataflowRunner"
                f" (got --id_label={config.id_label})"
            )
        if not dataflow:
            check_pubsub(config)
    except ValueError as exc:
        raise CliError(str(exc)) from None
    return run_stream(
        config,
        beam_args,
        status_seconds=status,
        metrics_port=port,
        out=sys.stderr,
    )
