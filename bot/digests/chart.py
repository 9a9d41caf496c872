"""The trend chart: a small PNG, readable at chat size, colour-blind safe, gaps where suppressed.

Pure: the figures and the words go in (`ChartText`, translated by the caller from the
catalogue), the picture comes out. Persian is drawn right to left with its letters joined by
matplotlib's own text layout (libraqm, matplotlib 3.11+), which honours the isolates the
catalogue puts around a Latin team name; its bundled DejaVu Sans has the Persian glyphs, so a
fresh machine needs no system font.
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from matplotlib.figure import Figure

# Okabe-Ito colours: distinguishable with the common forms of colour blindness.
BLUE, ORANGE = "#0072B2", "#D55E00"


def _series(periods: list[dict[str, Any]], pick: Any, top: float = 100.0) -> list[float]:
    return [value for value, _, _ in _ranges(periods, pick, top)]


def _ranges(periods: list[dict[str, Any]], pick: Any, top: float = 100.0) -> list[tuple[float, float, float]]:
    """(point, low, high) per period. A band at an end of the scale ({"at_least": 80}) is drawn
    as a bar over the whole band with its point in the middle, never as a value it may not be."""
    values = []
    for period in periods:
        try:
            value = pick(period)
        except (KeyError, TypeError):
            value = None
        if value is None:
            values.append((math.nan, math.nan, math.nan))  # NaN draws as a gap, never as 0
        elif isinstance(value, dict):
            low, high = (
                (0.0, float(value["at_most"])) if "at_most" in value else (float(value["at_least"]), top)
            )
            values.append(((low + high) / 2, low, high))
        else:
            values.append((float(value), float(value), float(value)))
    return values


@dataclass(frozen=True)
class ChartText:
    """Every word on the chart (`digest.chart.*` in the catalogue)."""

    title: str
    who5: str  # the wellbeing line's legend
    who5_axis: str
    hard: str  # the hard-calls line's legend
    hard_axis: str
    weeks: str  # under the weeks, saying what a gap means
    # A week's first day ("2026-11-23") as the language writes it: "23 nov.", "۲ آذر".
    day: Callable[[str], str] = lambda iso: iso[5:]


def trend_figure(digest: dict[str, Any], text: ChartText) -> Figure:
    import matplotlib

    matplotlib.use("Agg")  # no display on a server
    from matplotlib import pyplot as plt

    periods = [*digest.get("trend", []), digest]
    labels = [text.day(p["period"]["start"]) for p in periods]
    who5_ranges = _ranges(periods, lambda p: None if p.get("suppressed") else p["metrics"].get("who5_mean"))
    who5 = [point for point, _, _ in who5_ranges]
    hard = _series(
        periods, lambda p: None if p["calls"].get("suppressed") else p["calls"]["hard_share"] * 100
    )

    figure, (top, bottom) = plt.subplots(2, 1, figsize=(8, 5), dpi=100, sharex=True)
    figure.suptitle(text.title, fontsize=13)
    top.plot(labels, who5, color=BLUE, marker="o", linewidth=2, label=text.who5)
    banded = [
        (label, low, high) for label, (_, low, high) in zip(labels, who5_ranges, strict=True) if low < high
    ]
    if banded:
        top.vlines(
            [b[0] for b in banded],
            [b[1] for b in banded],
            [b[2] for b in banded],
            color=BLUE,
            linewidth=6,
            alpha=0.35,
        )
    top.axhline(50, color=BLUE, linestyle=":", linewidth=1)
    top.set_ylim(0, 100)
    top.set_ylabel(text.who5_axis, fontsize=11)
    top.legend(loc="lower left", fontsize=10, frameon=False)
    bottom.plot(labels, hard, color=ORANGE, marker="s", linestyle="--", linewidth=2, label=text.hard)
    finite = [h for h in hard if not math.isnan(h)]
    bottom.set_ylim(0, max(finite + [10.0]) * 1.25)
    bottom.set_ylabel(text.hard_axis, fontsize=11)
    bottom.legend(loc="upper left", fontsize=10, frameon=False)
    bottom.set_xlabel(text.weeks, fontsize=10)
    for axis in (top, bottom):
        axis.grid(axis="y", alpha=0.3)
        axis.tick_params(labelsize=9)
    figure.tight_layout()
    return figure


def trend_png(digest: dict[str, Any], text: ChartText) -> bytes:
    from matplotlib import pyplot as plt

    figure = trend_figure(digest, text)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    plt.close(figure)
    return buffer.getvalue()
