"""The ``newswatch`` command: dispatches to one launcher module per command.

    newswatch replay PATH... [--output DIR] [Beam pipeline options]
    newswatch eval [--corpora DIR]

The launchers live in :mod:`pipelines.commands`. Arguments a command does
not know are handed to it: the pipeline commands pass them to Beam, so
``--runner``, ``--direct_num_workers`` and ``--direct_running_mode`` work as
for any Beam pipeline; the others refuse them.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys
import warnings
from collections.abc import Sequence

from pipelines.commands import COMMANDS
from pipelines.commands.common import CliError

__all__ = ["main"]

_BEAM_HELP = (
    "Any other --option is passed to Apache Beam, e.g. --runner=FnApiRunner (default here), "
    "--runner=DirectRunner --direct_running_mode=multi_processing --direct_num_workers=2, or "
    "--runner=DataflowRunner --project=... --region=... --temp_location=gs://..."
)


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("newswatch")
    except PackageNotFoundError:  # run from a checkout that was not installed
        return "unknown (not installed)"


def _parser() -> tuple[argparse.ArgumentParser, dict]:
    parser = argparse.ArgumentParser(
        prog="newswatch",
        description="Flag news items that report war-crime allegations or atrocity investigations.",
        epilog=_BEAM_HELP,
    )
    parser.add_argument("--version", action="version", version=f"newswatch {_version()}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    launchers = {}
    for name in COMMANDS:
        module = importlib.import_module(f"pipelines.commands.{name}")
        command = sub.add_parser(module.NAME, help=module.HELP, epilog=_BEAM_HELP)
        module.add_arguments(command)
        launchers[module.NAME] = module
    return parser, launchers


# The same warnings in the worker processes a runner starts (DirectRunner's
# multi_processing workers inherit the environment): by module, exactly.
_GOOGLE_WARNINGS = (
    "ignore::FutureWarning:google.auth.transport.grpc",
    "ignore::FutureWarning:google.api_core._python_version_support",
)


def _quiet_workers() -> None:
    present = os.environ.get("PYTHONWARNINGS", "")
    missing = [entry for entry in _GOOGLE_WARNINGS if entry not in present.split(",")]
    if missing:
        os.environ["PYTHONWARNINGS"] = ",".join(filter(None, [present, *missing]))


def main(argv: Sequence[str] | None = None) -> int:
    # Google's client libraries warn at import about versions the pinned Beam
    # requires (grpcio, Python): one line each on every command's stderr,
    # which is for newswatch's own messages.
    warnings.filterwarnings("ignore", category=FutureWarning, module=r"google\.")
    _quiet_workers()
    parser, launchers = _parser()
    args, extra = parser.parse_known_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    if not getattr(args, "quiet", False):
        logging.getLogger("connectors").setLevel(logging.INFO)
    try:
        return launchers[args.command].run(args, extra)
    except CliError as exc:
        print(f"newswatch: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
