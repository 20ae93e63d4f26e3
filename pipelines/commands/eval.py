"""``newswatch eval``: flag precision/recall on labelled sets, language-ID accuracy."""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Sequence
from pathlib import Path

from pipelines.commands.common import CliError, add_stage_options, check_backend, corpora_dir

__all__ = ["HELP", "NAME", "add_arguments", "run"]

NAME = "eval"
HELP = "measure flag precision/recall and language-ID accuracy on labelled corpora"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        "Measure the flag on a labelled set and language identification on the langid corpus."
    )
    default = corpora_dir()
    parser.add_argument(
        "--corpora",
        default=str(default),
        metavar="DIR",
        help=f"the shared corpora folder (default: $NEWSWATCH_CORPORA or {default})",
    )
    parser.add_argument(
        "--dev",
        default=None,
        metavar="JSONL",
        help="labelled set (default: CORPORA/labeled/dev.jsonl)",
    )
    parser.add_argument(
        "--output",
        default="out/eval.json",
        metavar="FILE",
        help="where to write the JSON results (default: out/eval.json)",
    )
    add_stage_options(parser)
    parser.add_argument(
        "--skip_langid", action="store_true", help="skip the language-ID accuracy table"
    )


def run(args: argparse.Namespace, extra: Sequence[str]) -> int:
    from pipelines.evaluate import flag_quality, format_errors, format_flag_table, load_labelled
    from pipelines.options import parse_thresholds
    from transforms.rules import PACKS_DIR, PackError, RuleEngine

    if extra:
        raise CliError(f"unknown arguments: {' '.join(extra)}")
    corpora = Path(args.corpora)
    dev = Path(args.dev) if args.dev else corpora / "labeled" / "dev.jsonl"
    try:
        if not dev.is_file():
            raise ValueError(f"labelled set not found: {dev}")
        check_backend(args.language_backend)
        engine = RuleEngine.load(args.packs_dir or PACKS_DIR, parse_thresholds(args.thresholds))
        rows = load_labelled(dev)
    except (ValueError, PackError) as exc:
        raise CliError(str(exc)) from None
    started = time.monotonic()
    quality = flag_quality(rows, engine, args.language_backend)
    print(f"flag quality on {dev} ({len(rows)} items, {time.monotonic() - started:.1f} s)")
    print(format_flag_table(quality))
    print()
    print(format_errors(quality["errors"]))
    results = {"dev": str(dev), "flag": quality}
    langid_dir = corpora / "langid"
    if not args.skip_langid and langid_dir.is_dir():
        from transforms.language_eval import format_language_table, language_accuracy

        accuracy = language_accuracy(langid_dir)
        print()
        print(format_language_table(accuracy))
        results["language_id"] = accuracy
    output = Path(args.output)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(results, ensure_ascii=False, indent=1), encoding="utf-8")
    print(f"\nresults written to {output}")
    return 0
