"""``newswatch eval``: flag precision/recall on labelled sets, language-ID accuracy."""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Sequence
from pathlib import Path

from pipelines.commands.common import CliError, add_stage_options, check_backend, corpora_dir

__all__ = ["HELP", "NAME", "add_arguments", "label_files", "run"]

NAME = "eval"
HELP = "measure flag precision/recall and language-ID accuracy on labelled corpora"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        "Measure the flag on every labelled set (CORPORA/labeled/*.jsonl and --labels files) "
        "and language identification on the langid corpus."
    )
    default = corpora_dir()
    parser.add_argument(
        "--corpora",
        default=str(default),
        metavar="DIR",
        help=f"the shared corpora folder (default: $NEWSWATCH_CORPORA or {default})",
    )
    parser.add_argument(
        "--labels",
        action="append",
        default=[],
        metavar="JSONL",
        help="one more labelled set to measure (repeatable)",
    )
    parser.add_argument(
        "--dev",
        default=None,
        metavar="JSONL",
        help="measure only this labelled set (instead of CORPORA/labeled/*.jsonl)",
    )
    parser.add_argument(
        "--output",
        default="out/eval.json",
        metavar="FILE",
        help="where to write the JSON results (default: out/eval.json)",
    )
    parser.add_argument(
        "--hide_check",
        action="store_true",
        help="count the held-out check split's errors but do not print their text "
        "(for whoever is writing rules)",
    )
    add_stage_options(parser)
    parser.add_argument(
        "--skip_langid", action="store_true", help="skip the language-ID accuracy table"
    )


def label_files(corpora: Path, dev: str | None, labels: Sequence[str]) -> list[Path]:
    """The labelled files to measure, in order, each once.

    Raises:
        ValueError: a named file does not exist, or there is nothing to measure.
    """
    if dev:
        files = [Path(dev)]
    else:
        files = sorted((corpora / "labeled").glob("*.jsonl"))
    files += [Path(p) for p in labels]
    for path in files:
        if not path.is_file():
            raise ValueError(f"labelled set not found: {path}")
    unique = list(dict.fromkeys(p.resolve() for p in files))
    if not unique:
        raise ValueError(f"no labelled sets (*.jsonl) in {corpora / 'labeled'}")
    return unique


def run(args: argparse.Namespace, extra: Sequence[str]) -> int:
    from pipelines.eval_report import check_goals, format_errors, format_file_table, format_goals
    from pipelines.evaluate import CHECK, CHECK_SPLIT_FILES, flag_quality, load_labelled
    from pipelines.options import parse_thresholds
    from transforms.rules import PACKS_DIR, PackError, RuleEngine

    if extra:
        raise CliError(f"unknown arguments: {' '.join(extra)}")
    corpora = Path(args.corpora)
    try:
        files = label_files(corpora, args.dev, args.labels)
        check_backend(args.language_backend)
        engine = RuleEngine.load(args.packs_dir or PACKS_DIR, parse_thresholds(args.thresholds))
        sets = {path: load_labelled(path) for path in files}
    except (ValueError, PackError) as exc:
        raise CliError(str(exc)) from None
    by_file = {}
    for path, rows in sets.items():
        started = time.monotonic()
        quality = flag_quality(
            rows, engine, args.language_backend, split=path.name in CHECK_SPLIT_FILES
        )
        by_file[path.name] = quality
        positives = quality["overall"]["positives"]
        print(
            f"\n== flag quality on {path} ({len(rows)} items, {positives} positive, "
            f"{time.monotonic() - started:.1f} s) =="
        )
        print(format_file_table(quality))
        errors = quality["errors"]
        if args.hide_check:
            hidden = [e for e in errors if e["split"] == CHECK]
            errors = [e for e in errors if e["split"] != CHECK]
        print(f"\n{len(quality['errors'])} errors (misses and false alarms):")
        if errors:
            print(format_errors(errors))
        if args.hide_check and hidden:
            print(f"({len(hidden)} errors in the check split not shown)")
    goals = check_goals(by_file)
    if goals:
        print("\ngoals:")
        print(format_goals(goals))
    results: dict = {"files": {str(p): by_file[p.name] for p in sets}, "goals": goals}
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
