"""Tables and goals for ``newswatch eval`` (the figures come from :mod:`pipelines.evaluate`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pipelines.evaluate import CHECK, REST

__all__ = ["GOALS", "Goal", "check_goals", "format_errors", "format_file_table", "format_goals"]


@dataclass(frozen=True, slots=True)
class Goal:
    """A quality goal: ``metric`` of ``language`` (None: all) in ``file``, on ``split``."""

    file: str
    metric: str
    minimum: float
    language: str | None = None
    split: str | None = None

    @property
    def name(self) -> str:
        where = f"language {self.language}" if self.language else "all"
        part = f" [{self.split}]" if self.split else ""
        return f"{self.file} {where}{part} {self.metric} >= {self.minimum:.2f}"


# Goals hold on the rest of a split file: its check split is too small per
# language to steer by, and is reported beside the rest for reading.
GOALS = (
    Goal("dev.jsonl", "precision", 0.85, "en"),
    Goal("dev.jsonl", "recall", 0.90, "en"),
    Goal("dev-multilingual.jsonl", "f1", 0.85, None, REST),
    *(Goal("dev-multilingual.jsonl", "f1", 0.80, lang, REST) for lang in ("ru", "uk", "hy", "ar")),
)


def _counts(result: Mapping[str, Any], language: str | None, split: str | None):
    scope = result["splits"][split] if split else result
    if language is None:
        return scope["overall"]
    return scope["by_language"].get(language)


def check_goals(results: Mapping[str, Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Each goal whose file was evaluated, with its value and whether it is met."""
    out = []
    for goal in GOALS:
        result = results.get(goal.file)
        if result is None or (goal.split and "splits" not in result):
            continue
        counts = _counts(result, goal.language, goal.split)
        value = counts[goal.metric] if counts else None
        out.append(
            {
                "goal": goal.name,
                "value": value,
                "met": value is not None and value >= goal.minimum,
                "items": counts["items"] if counts else 0,
                "positives": counts["positives"] if counts else 0,
            }
        )
    return out


def _fmt(value: float | None) -> str:
    return "    -" if value is None else f"{value:.3f}"


_HEADER = (
    f"{'group':<44} {'items':>5} {'pos':>4} {'tp':>4} {'fp':>4} {'fn':>4} "
    f"{'prec':>6} {'recall':>6} {'f1':>6}"
)


def _row(name: str, c: Mapping[str, Any]) -> str:
    return (
        f"{name:<44} {c['items']:>5} {c['positives']:>4} {c['tp']:>4} {c['fp']:>4} {c['fn']:>4} "
        f"{_fmt(c['precision']):>6} {_fmt(c['recall']):>6} {_fmt(c['f1']):>6}"
    )


def format_file_table(result: Mapping[str, Any]) -> str:
    """One file's figures: overall, [rest and check,] per language, per source."""
    lines = [_HEADER, _row("all", result["overall"])]
    splits = result.get("splits")
    if splits:
        lines.append(_row(f"all [{REST}]", splits[REST]["overall"]))
        lines.append(_row(f"all [{CHECK}]", splits[CHECK]["overall"]))
    for language, counts in result["by_language"].items():
        lines.append(_row(f"language {language}", counts))
        if splits:
            for part in (REST, CHECK):
                c = splits[part]["by_language"].get(language)
                if c:
                    lines.append(_row(f"language {language} [{part}]", c))
    for source, counts in result["by_source"].items():
        lines.append(_row(f"source {source}", counts))
    return "\n".join(lines)


def _why(error: Mapping[str, Any]) -> str:
    if error["evidence"]:
        return "fired: " + "; ".join(
            f"{e['category']} {e['score']} {e['rules']} {e['terms'][:4]}" for e in error["evidence"]
        )
    if error.get("below_threshold"):
        return "below threshold: " + "; ".join(
            f"{e['category']} {e['score']} {e['rules']} {e['terms'][:4]}"
            for e in error["below_threshold"]
        )
    near = error.get("nearest")
    if near:
        matched = ", ".join(f"{t}={texts[0]!r}" for t, texts in near["matched"].items())
        counts = f"{near['met']}/{near['conditions']}"
        return f"nearest {near['rule']} ({counts}: {matched}; {near['why']})"
    return "no flag rule had any term"


def format_errors(errors: Sequence[Mapping[str, Any]], text_chars: int = 100) -> str:
    """Every miss and false alarm, one per line: what fired, or the nearest rule."""
    lines = []
    for e in errors:
        kind = "miss" if e["kind"] == "false_negative" else "false alarm"
        part = f" [{e['split']}]" if e.get("split") else ""
        lines.append(
            f"{kind:<11} {e['id']:<18} {e['language']}{part} {e['text'][:text_chars]!r}\n"
            f"{'':<12}<- {_why(e)}"
        )
    return "\n".join(lines)


def format_goals(goals: Sequence[Mapping[str, Any]]) -> str:
    lines = []
    for g in goals:
        state = "met" if g["met"] else "NOT met"
        lines.append(
            f"  {g['goal']:<58} {_fmt(g['value'])}  {state:<7} "
            f"({g['items']} items, {g['positives']} positive)"
        )
    return "\n".join(lines)
