"""Stacked daily bar charts for the overview page, as geometry for an inline SVG.

The server computes every rectangle; the template prints them as SVG
elements (escaped like any other text), so the page needs no chart library
and no script to draw.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

__all__ = ["PALETTE", "Bar", "Chart", "day_window", "stacked_chart"]

# Colour-blind-safe (Okabe-Ito), then greys for the long tail.
PALETTE = (
    "#0072b2", "#e69f00", "#009e73", "#cc79a7", "#56b4e9",
    "#d55e00", "#f0e442", "#000000", "#7f7f7f", "#b3b3b3",
)  # fmt: skip
WIDTH, HEIGHT = 1000, 220
LEFT, BOTTOM, TOP = 36, 28, 10


@dataclass(frozen=True, slots=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    color: str
    label: str


@dataclass(frozen=True, slots=True)
class Chart:
    """An SVG chart: bars, axis labels and the legend ``(key, colour, total)``."""

    width: int
    height: int
    bars: tuple[Bar, ...]
    x_labels: tuple[tuple[float, str], ...]
    y_labels: tuple[tuple[float, str], ...]
    legend: tuple[tuple[str, str, int], ...]
    baseline: float
    total: int


def day_window(end: date, days: int = 30) -> list[str]:
    """The ``days`` calendar days ending with ``end``, oldest first, as ``YYYY-MM-DD``."""
    return [(end - timedelta(days=days - 1 - i)).isoformat() for i in range(days)]


def _nice_max(value: int) -> int:
    for step in (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000, 10000):
        if value <= step * 4:
            return step * 4
    return value


def stacked_chart(rows: Iterable[tuple[str, str, int]], days: list[str]) -> Chart:
    """Bars per day stacked by key (category or language), the largest keys first.

    Keys beyond the palette's length share the last colour under ``other``.
    """
    per_day: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    totals: dict[str, int] = defaultdict(int)
    window = set(days)
    for day, key, n in rows:
        if day in window:
            per_day[day][key] += n
            totals[key] += n
    keys = sorted(totals, key=lambda k: (-totals[k], k))
    if len(keys) > len(PALETTE):
        kept = keys[: len(PALETTE) - 1]
        for day_counts in per_day.values():
            day_counts["other"] = sum(n for k, n in day_counts.items() if k not in kept)
        totals["other"] = sum(n for k, n in totals.items() if k not in kept)
        keys = [*kept, "other"]
    colors = dict(zip(keys, PALETTE, strict=False))
    peak = max((sum(per_day[d].get(k, 0) for k in keys) for d in days), default=0)
    top = _nice_max(max(peak, 1))
    plot_h = HEIGHT - BOTTOM - TOP
    slot = (WIDTH - LEFT) / max(len(days), 1)
    bars = []
    for i, day in enumerate(days):
        y = HEIGHT - BOTTOM
        for key in keys:
            n = per_day.get(day, {}).get(key, 0)
            if not n:
                continue
            h = plot_h * n / top
            y -= h
            bars.append(
                Bar(
                    LEFT + i * slot + 1,
                    round(y, 2),
                    round(slot - 2, 2),
                    round(h, 2),
                    colors[key],
                    f"{day}: {key} {n}",
                )
            )
    x_labels = tuple(
        (LEFT + i * slot + slot / 2, day[5:]) for i, day in enumerate(days) if i % 5 == 0
    )
    y_labels = tuple(
        (HEIGHT - BOTTOM - plot_h * f, str(round(top * f))) for f in (0, 0.25, 0.5, 0.75, 1)
    )
    return Chart(
        width=WIDTH,
        height=HEIGHT,
        bars=tuple(bars),
        x_labels=x_labels,
        y_labels=y_labels,
        legend=tuple((k, colors[k], totals[k]) for k in keys),
        baseline=HEIGHT - BOTTOM,
        total=sum(totals[k] for k in keys),
    )
