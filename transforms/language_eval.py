"""Language-ID accuracy and speed per backend on the langid corpus.

The corpus (``../shared/corpora/langid/{sentences,word-pairs,...}/xx.txt``)
holds one text per line, in a file named by its ISO 639-1 code. A text is
right when a backend names exactly that code: ``und`` counts as wrong. The
headline figure is the mean of the per-language accuracies, so that every
language weighs the same whatever its line count.

Used by ``newswatch eval``::

    result = language_accuracy(corpora / "langid")
    print(format_language_table(result))
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from transforms.language import BACKENDS, UNDETERMINED, make_detector

__all__ = [
    "DEFAULT_LIMITS",
    "KINDS",
    "TARGET_LANGUAGES",
    "format_language_table",
    "language_accuracy",
    "read_texts",
]

# The languages the project's sources write in (the list).
TARGET_LANGUAGES: tuple[str, ...] = (
    "en", "ru", "uk", "be", "hy", "az", "ka", "kk", "ar",
    "fa", "he", "ur", "tr", "fr", "de", "es", "it", "pl",
)  # fmt: skip
KINDS: tuple[str, ...] = ("sentences", "word-pairs")
# langdetect does about 100 texts/s: 50 lines per language keeps a full
# ``newswatch eval`` under a minute.
DEFAULT_LIMITS: Mapping[str, int] = {"langdetect": 50}


def read_texts(langid_dir: Path, kind: str, language: str, limit: int | None = None) -> list[str]:
    """The non-empty lines of ``langid_dir/kind/language.txt``, the first ``limit`` of them.

    Raises:
        FileNotFoundError: the corpus has no such file.
    """
    path = Path(langid_dir) / kind / f"{language}.txt"
    if not path.is_file():
        raise FileNotFoundError(
            f"no langid corpus file for {language!r} {kind} (looked for {path})"
        )
    lines = [line.strip() for line in path.read_text(encoding="utf-8").splitlines()]
    texts = [line for line in lines if line]
    return texts[:limit] if limit is not None else texts


def _score(detector: Any, texts_by_language: Mapping[str, list[str]]) -> dict[str, Any]:
    calls = getattr(detector, "calls", None)
    fallbacks = getattr(detector, "fallbacks", None)
    per_language: dict[str, float] = {}
    counts: dict[str, int] = {}
    undetermined = 0
    seconds = 0.0
    for language, texts in texts_by_language.items():
        started = time.perf_counter()
        codes = [detector.detect(text)[0] for text in texts]
        seconds += time.perf_counter() - started
        right = sum(code == language for code in codes)
        undetermined += sum(code == UNDETERMINED for code in codes)
        per_language[language] = right / len(codes) if codes else 0.0
        counts[language] = len(codes)
    total = sum(counts.values())
    scored = {
        "mean": sum(per_language.values()) / len(per_language) if per_language else 0.0,
        "per_language": per_language,
        "texts": total,
        "texts_per_language": counts,
        "undetermined_rate": undetermined / total if total else 0.0,
        "seconds": seconds,
        "texts_per_second": total / seconds if seconds > 0 else 0.0,
    }
    if calls is not None and fallbacks is not None:
        made = detector.calls - calls
        scored["fallback_rate"] = (detector.fallbacks - fallbacks) / made if made else 0.0
    return scored


def language_accuracy(
    langid_dir: Path,
    backends: Sequence[str] = tuple(BACKENDS),
    languages: Sequence[str] = TARGET_LANGUAGES,
    kinds: Sequence[str] = KINDS,
    limits: Mapping[str, int] | None = None,
) -> dict[str, Any]:
    """Accuracy per backend, kind of text and language, with texts/s.

    Args:
        langid_dir: the corpus folder (holding ``sentences/``, ``word-pairs/``...).
        backends: names from :data:`transforms.language.BACKENDS`.
        languages: ISO 639-1 codes to score; the detectors still consider
            every language they know.
        kinds: sub-folders of ``langid_dir`` to score.
        limits: at most this many lines per language for a backend (default
            :data:`DEFAULT_LIMITS`: langdetect is slow); others use every line.

    Returns:
        A JSON-ready dict: ``{"languages", "kinds", "backends": {name:
        {"load_seconds", kind: {"mean", "per_language", "texts",
        "texts_per_language", "undetermined_rate", "seconds",
        "texts_per_second"[, "fallback_rate"]}}}}``. ``fallback_rate`` is there
        for a backend that counts its fallbacks (the cascade).

    Raises:
        ValueError: an unknown backend, or no languages.
        FileNotFoundError: a corpus file is missing.
    """
    if not languages:
        raise ValueError("language_accuracy needs at least one language (got none)")
    unknown = [name for name in backends if name not in BACKENDS]
    if unknown:
        raise ValueError(f"language backend must be one of {sorted(BACKENDS)} (got {unknown!r})")
    limits = DEFAULT_LIMITS if limits is None else limits
    result: dict[str, Any] = {"languages": list(languages), "kinds": list(kinds), "backends": {}}
    for name in backends:
        limit = limits.get(name)
        texts = {
            kind: {lang: read_texts(langid_dir, kind, lang, limit) for lang in languages}
            for kind in kinds
        }
        started = time.perf_counter()
        detector = make_detector(name)
        entry: dict[str, Any] = {"load_seconds": time.perf_counter() - started, "limit": limit}
        for kind in kinds:
            entry[kind] = _score(detector, texts[kind])
        result["backends"][name] = entry
    return result


def _texts_label(scored: Mapping[str, Any]) -> str:
    counts = set(scored["texts_per_language"].values())
    return str(counts.pop()) if len(counts) == 1 else f"{min(counts)}-{max(counts)}"


def format_language_table(result: Mapping[str, Any]) -> str:
    """A side-by-side table of :func:`language_accuracy`'s result, one block per kind."""
    names = list(result["backends"])
    languages = result["languages"]
    width = max(10, *(len(name) + 2 for name in names))
    head = "".join(f"{name:>{width}}" for name in names)
    lines = [
        "language-ID accuracy on the langid corpus (share named right; und counts as wrong)",
    ]
    for kind in result["kinds"]:
        blocks = [result["backends"][name][kind] for name in names]
        lines += ["", f"{kind:<12}{head}"]
        for lang in languages:
            lines.append(
                f"{lang:<12}" + "".join(f"{b['per_language'][lang]:>{width}.3f}" for b in blocks)
            )
        lines.append(
            f"{'mean (' + str(len(languages)) + ')':<12}"
            + "".join(f"{b['mean']:>{width}.4f}" for b in blocks)
        )
        rows = [
            ("texts/lang", lambda b: _texts_label(b)),
            ("und rate", lambda b: f"{b['undetermined_rate']:.3f}"),
            ("texts/s", lambda b: f"{b['texts_per_second']:,.0f}"),
            ("fallback", lambda b: f"{b['fallback_rate']:.3f}" if "fallback_rate" in b else "-"),
        ]
        for label, cell in rows:
            lines.append(f"{label:<12}" + "".join(f"{cell(b):>{width}}" for b in blocks))
    loads = ", ".join(f"{name} {result['backends'][name]['load_seconds']:.1f} s" for name in names)
    lines += [
        "",
        f"load time: {loads} (lingua's models load once per process and are shared)",
        "fallback: share of texts the cascade sent past CLD2 to lingua",
    ]
    return "\n".join(lines)
