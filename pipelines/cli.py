"""The ``newswatch`` command.

    newswatch replay PATH... [--output DIR] [Beam pipeline options]

Unknown options are passed to Beam, so ``--runner``, ``--direct_num_workers``
and ``--direct_running_mode`` work as they do for any Beam pipeline.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path

__all__ = ["main", "replay"]

DEFAULT_RUNNER = "FnApiRunner"
# The checkout sits beside ../shared/corpora on the team's machines and in CI.
DEFAULT_CORPORA = Path(__file__).resolve().parents[2] / "shared" / "corpora"
_BEAM_HELP = (
    "Any other --option is passed to Apache Beam, e.g. --runner=FnApiRunner (default here), "
    "--runner=DirectRunner --direct_running_mode=multi_processing --direct_num_workers=2, or "
    "--runner=DataflowRunner --project=... --region=... --temp_location=gs://..."
)


class CliError(Exception):
    """A problem with the command line: printed as one line, exit status 2."""


def _check_backend(name: str) -> None:
    from transforms.language import BACKENDS

    if name not in BACKENDS:
        raise ValueError(f"--language_backend must be one of {sorted(BACKENDS)} (got {name!r})")


def _add_stage_options(parser: argparse.ArgumentParser) -> None:
    """Options of the detection stages, shared by replay and eval."""
    parser.add_argument(
        "--language_backend",
        default="cascade",
        help="cascade (default: script, then CLD2, then lingua), cld2, lingua, langid or langdetect",
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


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="newswatch",
        description="Flag news items that report war-crime allegations or atrocity investigations.",
        epilog=_BEAM_HELP,
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    replay = sub.add_parser(
        "replay",
        help="replay saved feeds (files or directories) through the pipeline",
        description="Replay saved RSS/Atom/JSON feeds through the pipeline, deterministically.",
        epilog=_BEAM_HELP,
    )
    replay.add_argument(
        "paths", nargs="+", metavar="PATH", help="feed files or directories (read recursively)"
    )
    replay.add_argument(
        "--output",
        default="out",
        metavar="DIR",
        help="directory for items.jsonl, flagged.jsonl, dead_letter.jsonl, summary.json (default: out)",
    )
    _add_stage_options(replay)
    replay.add_argument(
        "--max_bytes",
        default="20971520",
        metavar="N",
        help="dead-letter files larger than N bytes without parsing (default 20 MB)",
    )
    replay.add_argument("--quiet", action="store_true", help="no progress lines")

    evaluate = sub.add_parser(
        "eval",
        help="measure flag precision/recall and language-ID accuracy on labelled corpora",
        description="Measure the flag on a labelled set and language identification on the langid corpus.",
    )
    evaluate.add_argument(
        "--corpora",
        default=str(DEFAULT_CORPORA),
        metavar="DIR",
        help=f"the shared corpora folder (default: {DEFAULT_CORPORA})",
    )
    evaluate.add_argument(
        "--dev",
        default=None,
        metavar="JSONL",
        help="labelled set (default: CORPORA/labeled/dev.jsonl)",
    )
    evaluate.add_argument(
        "--output",
        default="out/eval.json",
        metavar="FILE",
        help="where to write the JSON results (default: out/eval.json)",
    )
    _add_stage_options(evaluate)
    evaluate.add_argument(
        "--skip_langid", action="store_true", help="skip the language-ID accuracy table"
    )
    return parser


def replay(args: argparse.Namespace, beam_args: Sequence[str]) -> int:
    # Imported here so that `newswatch --help` and argument errors are instant.
    import apache_beam as beam
    from apache_beam.options.pipeline_options import PipelineOptions

    from connectors.files import ReadFeedFiles, expand_inputs
    from pipelines.options import check_output_dir, parse_thresholds, positive_int
    from pipelines.pipeline import StageConfig, build, write_files
    from pipelines.summary import check_identities, render
    from transforms.rules import PackError, RuleEngine

    try:
        inputs = expand_inputs(args.paths)
        output = check_output_dir(args.output)
        thresholds = parse_thresholds(args.thresholds)
        max_bytes = positive_int(args.max_bytes)
        _check_backend(args.language_backend)
        if args.packs_dir:
            RuleEngine.load(args.packs_dir, thresholds)
    except (FileNotFoundError, ValueError, PackError) as exc:
        raise CliError(str(exc)) from None

    total = _count_local_files(inputs)
    if not any(a.startswith("--runner") for a in beam_args):
        beam_args = [f"--runner={DEFAULT_RUNNER}", *beam_args]
    options = PipelineOptions(list(beam_args))
    config = StageConfig(args.language_backend, args.packs_dir, thresholds)
    started = time.monotonic()
    print(f"newswatch: replaying {total} file(s) into {output}", file=sys.stderr)
    pipeline = beam.Pipeline(options=options)
    source = ReadFeedFiles(inputs, max_bytes=max_bytes, total_files=total)
    write_files(build(pipeline, source, config), output)
    pipeline.run().wait_until_finish()
    elapsed = time.monotonic() - started

    with open(os.path.join(output, "summary.json"), encoding="utf-8") as handle:
        counts = json.load(handle)
    print(render(counts))
    print(f"took          {elapsed:.1f} s")
    print(
        f"outputs       {', '.join(os.path.join(output, n) for n in ('flagged.jsonl', 'items.jsonl', 'dead_letter.jsonl', 'summary.json'))}"
    )
    return 1 if check_identities(counts) else 0


def evaluate(args: argparse.Namespace) -> int:
    from pipelines.evaluate import flag_quality, format_errors, format_flag_table, load_labelled
    from pipelines.options import parse_thresholds
    from transforms.rules import PACKS_DIR, PackError, RuleEngine

    corpora = Path(args.corpora)
    dev = Path(args.dev) if args.dev else corpora / "labeled" / "dev.jsonl"
    try:
        if not dev.is_file():
            raise ValueError(f"labelled set not found: {dev}")
        _check_backend(args.language_backend)
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


def _count_local_files(inputs: Sequence[tuple[str, str]]) -> int | None:
    total = 0
    for pattern, root in inputs:
        if "://" in pattern:
            return None
        if pattern.endswith("**"):
            total += sum(len(files) for _, _, files in os.walk(root))
        else:
            total += 1
    return total


def main(argv: Sequence[str] | None = None) -> int:
    args, beam_args = _parser().parse_known_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    if not getattr(args, "quiet", False):
        logging.getLogger("connectors").setLevel(logging.INFO)
    try:
        if args.command == "replay":
            return replay(args, beam_args)
        if args.command == "eval":
            if beam_args:
                raise CliError(f"unknown arguments: {' '.join(beam_args)}")
            return evaluate(args)
    except CliError as exc:
        print(f"newswatch: error: {exc}", file=sys.stderr)
        return 2
    return 2


if __name__ == "__main__":
    sys.exit(main())
