"""The command line every old-against-new benchmark shares: OLD_TREE NEW_TREE INPUT.

``benchmarks.stage_ab``, ``benchmarks.replay_ab`` and ``benchmarks.parse_ir``
each run the same work in two checkouts of the project (``git archive REV |
tar -x -C DIR`` gives one) on one input folder.
"""

from __future__ import annotations

import argparse
from pathlib import Path

__all__ = ["tree_parser", "tree_paths"]


def tree_parser(description: str) -> argparse.ArgumentParser:
    """A parser taking ``old``, ``new`` (the two trees) and ``input`` (a folder)."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("old", type=Path)
    parser.add_argument("new", type=Path)
    parser.add_argument("input", type=Path)
    return parser


def tree_paths(args: argparse.Namespace) -> dict[str, Path]:
    """``{"old": ..., "new": ...}``: the parsed trees as absolute paths."""
    return {"old": args.old.resolve(), "new": args.new.resolve()}
