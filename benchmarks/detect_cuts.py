"""How many characters should decide an item's language: answers, accuracy and speed per cut.

    python -m benchmarks.detect_cuts [INPUT_DIR] [--corpora DIR] [--cuts N [N ...]]
        [--repeat N] [--show N]

The cascade reads the first :data:`transforms.language.DETECT_CHARS`
characters of title and text (:func:`~transforms.language.detection_text`).
For each cut in ``--cuts`` (the first is the reference), over the items of
INPUT_DIR (default: the real feeds, ``CORPORA/feeds/real``), parsed and
normalised (:func:`benchmarks.dedup_data.load_items`):

* the answers that differ from the reference's: the language, or only the
  confidence; the first ``--show`` changed languages are listed with the
  item's title and the start of its text, to judge by eye;
* the labelled real items named right
  (:func:`benchmarks.cascade_modes.labelled_items`);
* items per CPU second of one cascade, the best of ``--repeat`` passes, the
  cuts alternating pass by pass so that the machine's hour weighs on each
  alike; each pass starts with no fallback answers kept, and lingua's models
  load before the first timed pass.

The langid corpus is not read: its accuracy is scored on whole texts, which no
cut shortens.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import transforms.language as language
from benchmarks.cascade_modes import labelled_items
from benchmarks.dedup_data import load_items
from pipelines.commands.common import corpora_dir
from transforms.item import Item

__all__ = ["main"]


def _texts(items: list[Item], chars: int) -> list[str]:
    saved = language.DETECT_CHARS
    language.DETECT_CHARS = chars
    try:
        return [language.detection_text(item) for item in items]
    finally:
        language.DETECT_CHARS = saved


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("input_dir", nargs="?", default=None)
    parser.add_argument("--corpora", default=str(corpora_dir()))
    parser.add_argument("--cuts", type=int, nargs="+", default=[1000, 800, 600, 500, 400])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--show", type=int, default=10)
    args = parser.parse_args(argv)
    if any(cut <= 0 for cut in args.cuts):
        parser.error(f"--cuts must be positive (got {args.cuts})")
    if args.repeat < 1:
        parser.error(f"--repeat must be at least 1 (got {args.repeat})")
    corpora = Path(args.corpora)
    input_dir = Path(args.input_dir) if args.input_dir else corpora / "feeds" / "real"
    items = load_items(input_dir)
    if not items:
        parser.error(f"no items in {input_dir}")
    labelled = labelled_items(corpora)
    detector = language.make_detector("cascade")

    texts = {cut: _texts(items, cut) for cut in args.cuts}
    answers = {cut: [detector.detect(text) for text in texts[cut]] for cut in args.cuts}
    right = {}
    for cut in args.cuts:
        names = _texts([item for item, _ in labelled], cut)
        right[cut] = sum(detector.detect(t)[0] == lang for t, (_, lang) in zip(names, labelled))
    best = dict.fromkeys(args.cuts, 0.0)
    for _ in range(args.repeat):
        for cut in args.cuts:
            detector.clear_cache()
            started = time.process_time()
            for text in texts[cut]:
                detector.detect(text)
            spent = max(time.process_time() - started, 1e-9)
            best[cut] = max(best[cut], len(items) / spent)

    reference = args.cuts[0]
    print(
        f"{len(items)} items from {input_dir}, {len(labelled)} labelled items; "
        f"best of {args.repeat} passes, cuts alternating; reference: {reference} characters"
    )
    print(
        f"{'cut':>6}{'items/CPU s':>13}{'× ref':>7}{'language changed':>18}"
        f"{'confidence only':>17}{'labelled right':>16}"
    )
    for cut in args.cuts:
        pairs = list(zip(answers[cut], answers[reference]))
        changed = sum(a[0] != b[0] for a, b in pairs)
        confidence = sum(a[0] == b[0] and a[1] != b[1] for a, b in pairs)
        print(
            f"{cut:>6}{best[cut]:>13,.0f}{best[cut] / best[reference]:>6.2f}×{changed:>18}"
            f"{confidence:>17}{right[cut]:>10} / {len(labelled)}"
        )
    for cut in args.cuts[1:]:
        shown = 0
        for item, new, old in zip(items, answers[cut], answers[reference]):
            if new[0] != old[0] and shown < args.show:
                shown += 1
                start = item.text[:100].replace("\n", " ")
                print(f"  {cut}: {old[0]} → {new[0]}  {item.title[:70]!r}  {start!r}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
