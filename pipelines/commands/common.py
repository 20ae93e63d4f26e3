"""What several commands share: the usage error, stage options and corpus location."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

__all__ = [
    "DEFAULT_CORPORA",
    "CliError",
    "add_stage_options",
    "check_backend",
    "corpora_dir",
]

# The checkout sits beside ../shared/corpora on the team's machines and in CI.
DEFAULT_CORPORA = Path(__file__).resolve().parents[3] / "shared" / "corpora"


class CliError(Exception):
    """A problem with the command line: printed as one line, exit status 2."""


def corpora_dir() -> Path:
    """``NEWSWATCH_CORPORA`` if set, else the shared corpora beside the checkout."""
    return Path(os.environ.get("NEWSWATCH_CORPORA") or DEFAULT_CORPORA)


def check_backend(name: str) -> None:
    """Raises ValueError unless ``name`` is a language backend."""
    from transforms.language import BACKENDS

    if name not in BACKENDS:
        raise ValueError(f"--language_backend must be one of {sorted(BACKENDS)} (got {name!r})")


def add_stage_options(parser: argparse.ArgumentParser) -> None:
    """Options of the detection stages, shared by replay, stream and eval."""
    parser.add_argument(
        "--language_backend",
        default="cascade",
        help=(
            "cascade (default: script, then CLD2, then lingua), cascade-accurate, cascade-quick,"
            " cld2, lingua, langid or langdetect"
        ),
    )
    parser.add_argument(
        "--packs_dir",
        default=None,
        metavar="DIR",
        help="rule packs directory (default: bundled packs)",
    )
    parser.add_argument(
        "--thresholds",
        default="",
        metavar="SPEC",
        help="per-category score thresholds, e.g. war_crime_allegation=0.6,investigation=0.5",
    )
