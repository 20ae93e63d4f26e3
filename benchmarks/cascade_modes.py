"""The language cascade's fallback modes side by side: what each loads, costs and gets right.

    python -m benchmarks.cascade_modes [INPUT_DIR] [--corpora DIR] [--repeat N]
        [--skip-accuracy]

INPUT_DIR (default: the real feeds, ``CORPORA/feeds/real``) is read as the
replay reads it (parse, normalise, :func:`transforms.language.detection_text`);
the texts that the cascade sends to its fallback (no unique script, CLD2 not
reliable) are kept. For each mode of :data:`transforms.language.FALLBACKS`,
a fresh interpreter runs the cascade over those texts twice: the first pass
pays lingua's model loading (as every worker process does), the second shows
the per-call cost. Figures: CPU seconds of each pass, the peak RSS of the
process over its RSS before the first pass, how many texts asked lingua's
high-accuracy mode. Each figure is the best of ``--repeat`` runs, the modes
alternating.

Accuracy (unless ``--skip-accuracy``): every line of the langid corpus
(``CORPORA/langid``, all of its languages), the mean per-language share named
right for the 18 target languages and for the others, and the share named
wrongly (``und`` is neither right nor wrong), sentences and word pairs; and
the labelled real items (``CORPORA/labeled/*.jsonl``, their ``lang``), as
``newswatch eval`` reads them.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from pipelines.commands.common import DEFAULT_CORPORA
from transforms.item import Item
from transforms.language import FALLBACKS, UNDETERMINED, CascadeDetector, detection_text
from transforms.language_eval import TARGET_LANGUAGES, read_texts

__all__ = ["fallback_texts", "first_pass_cost", "labelled_items", "main"]

_PROBE = """
import json, sys, time
from pathlib import Path

def status(key):
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(key):
            return int(line.split()[1]) / 1024
    return 0.0

from transforms.language import CascadeDetector
texts = json.loads(Path(sys.argv[2]).read_text(encoding="utf-8"))
cascade = CascadeDetector(fallback=sys.argv[1])
before = status("VmRSS:")
passes = []
for _ in range(2):
    cascade.clear_cache()
    started = time.process_time()
    for text in texts:
        cascade.detect(text)
    passes.append(time.process_time() - started)
print(json.dumps([passes[0], passes[1], status("VmHWM:") - before, cascade.escalated // 2]))
"""


def fallback_texts(input_dir: Path) -> list[str]:
    """The detection texts of INPUT_DIR's items that reach the cascade's fallback."""
    from connectors.feeds import parse_feed
    from transforms.normalise import normalise_or_reason

    probe = CascadeDetector()
    # Only the routing is wanted here: a fallback that never asks lingua.
    probe._lingua = lambda text, full=None: (UNDETERMINED, 0.0)  # type: ignore[method-assign]
    texts = []
    for path in sorted(p for p in input_dir.rglob("*") if p.is_file()):
        for raw in parse_feed(path.name, path.read_bytes()).items:
            item = normalise_or_reason(raw)
            if isinstance(item, str):
                continue
            text = detection_text(item)
            before = probe.fallbacks
            probe.detect(text)
            if probe.fallbacks != before:
                texts.append(text)
    return texts


def first_pass_cost(mode: str, texts_file: Path) -> dict[str, float]:
    """One fresh interpreter's cascade over the texts in ``texts_file`` (a JSON list)."""
    out = subprocess.run(
        [sys.executable, "-c", _PROBE, mode, str(texts_file)],
        check=True,
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parents[1],
    ).stdout
    first, second, peak, escalated = json.loads(out.strip().splitlines()[-1])
    return {"first": first, "second": second, "peak_mb": peak, "escalated": escalated}


def _accuracy(detector: Any, corpora: Path) -> dict[str, Any]:
    langid = corpora / "langid"
    languages = sorted(p.stem for p in (langid / "sentences").glob("*.txt"))
    out: dict[str, Any] = {}
    for kind in ("sentences", "word-pairs"):
        right: dict[str, float] = {}
        wrong: dict[str, float] = {}
        for lang in languages:
            codes = [detector.detect(t)[0] for t in read_texts(langid, kind, lang)]
            right[lang] = sum(c == lang for c in codes) / len(codes)
            wrong[lang] = sum(c not in (lang, UNDETERMINED) for c in codes) / len(codes)

        def mean(values: dict[str, float], target: bool) -> float:
            chosen = [v for k, v in values.items() if (k in TARGET_LANGUAGES) == target]
            return sum(chosen) / len(chosen)

        out[kind] = {
            "target": mean(right, True),
            "others": mean(right, False),
            "target_wrong": mean(wrong, True),
            "others_wrong": mean(wrong, False),
            "languages": len(languages),
        }
    labelled = labelled_items(corpora)
    hits = sum(detector.detect(detection_text(item))[0] == lang for item, lang in labelled)
    out["labelled"] = {"right": hits, "items": len(labelled)}
    return out


def labelled_items(corpora: Path) -> list[tuple[Item, str | None]]:
    """``(item, lang)`` for every labelled real item (``CORPORA/labeled/*.jsonl``), normalised.

    Read as ``newswatch eval`` reads them; ``lang`` is None on a row without one.
    """
    from pipelines.evaluate import _as_item, load_labelled
    from transforms.normalise import normalise_item

    rows = [r for f in sorted((corpora / "labeled").glob("*.jsonl")) for r in load_labelled(f)]
    return [(normalise_item(_as_item(r)), r.get("lang")) for r in rows]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("input", nargs="?", default=None)
    parser.add_argument("--corpora", default=str(DEFAULT_CORPORA))
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--skip-accuracy", action="store_true")
    args = parser.parse_args()
    corpora = Path(args.corpora)
    input_dir = Path(args.input) if args.input else corpora / "feeds" / "real"
    texts = fallback_texts(input_dir)
    short = sum(len(t) < 120 for t in texts)
    print(
        f"{input_dir}: {len(texts)} texts reach the fallback ({len(set(texts))} distinct, "
        f"{short} under 120 characters); one fresh interpreter per run, best of {args.repeat}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        texts_file = Path(tmp) / "texts.json"
        texts_file.write_text(json.dumps(texts), encoding="utf-8")
        best: dict[str, dict[str, float]] = {}
        for _ in range(args.repeat):
            for mode in FALLBACKS:
                run = first_pass_cost(mode, texts_file)
                if mode not in best or run["first"] < best[mode]["first"]:
                    best[mode] = run
    print(
        f"{'fallback':<10}{'1st pass CPU s':>16}{'2nd pass CPU s':>16}{'peak +MB':>10}"
        f"{'high-accuracy calls':>21}"
    )
    for mode, run in best.items():
        print(
            f"{mode:<10}{run['first']:>16.2f}{run['second']:>16.2f}{run['peak_mb']:>10.0f}"
            f"{run['escalated']:>14} of {len(set(texts))}"
        )
    if args.skip_accuracy:
        return
    print()
    print("accuracy (mean share per language named right; wrong = named another language)")
    for mode in FALLBACKS:
        acc = _accuracy(CascadeDetector(fallback=mode), corpora)
        cells = []
        for kind in ("sentences", "word-pairs"):
            a = acc[kind]
            cells.append(
                f"{kind} targets {a['target']:.4f} others {a['others']:.4f} "
                f"(wrong {a['target_wrong']:.3f} / {a['others_wrong']:.3f})"
            )
        lab = acc["labelled"]
        cells.append(f"labelled {lab['right']}/{lab['items']}")
        print(f"{mode:<10}" + "; ".join(cells), flush=True)
    n = acc["sentences"]["languages"]
    print(f"targets: the {len(TARGET_LANGUAGES)} target languages; others: the other {n - 18}")


if __name__ == "__main__":
    main()
