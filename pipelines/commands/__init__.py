"""One launcher module per ``newswatch`` command; :mod:`pipelines.cli` only dispatches.

Each module defines ``NAME``, ``HELP``, ``add_arguments(parser)`` and
``run(args, extra) -> int``, where ``extra`` holds the arguments argparse did
not recognise (Beam's pipeline options, for the commands that run a
pipeline). A module imports what it needs inside ``run`` so that
``newswatch --help`` and argument errors answer at once. Commands with
sub-commands (``sources check``, ``labels export``) add their own subparsers.
"""

from __future__ import annotations

__all__ = ["COMMANDS"]

# Module names under pipelines.commands, in the order --help lists them.
COMMANDS = ("replay", "eval", "poll", "sources", "stream", "consume", "labels", "review", "rescore")
