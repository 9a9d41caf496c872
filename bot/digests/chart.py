"""The trend chart: a small PNG, readable at chat size, colour-blind safe, gaps where suppressed."""

from __future__ import annotations

import io
import math
from typing import Any

# Okabe-Ito colours: distinguishable with the common forms of colour blindness.
BLUE, ORANGE = "#0072B2", "#D55E00"


def _series(periods: list[dict[str, Any]], pick: Any) -> list[float]:
    values = []
    for period in periods:
        try:
            value = pick(period)
        except (KeyError, TypeError):
            value = None
        values.append(math.nan if value is None else float(value))  # NaN draws as a gap, never as 0
    return values


def trend_png(digest: dict[str, Any], *, title: str) -> bytes:
    import matplotlib

    matplotlib.use("Agg")  # no display on a server
    from matplotlib import pyplot as plt

    periods = [*digest.get("trend", []), digest]
    labels = [p["period"]["start"][5:] for p in periods]
    who5 = _series(periods, lambda p: None if p.get("suppressed") else p["metrics"].get("who5_mean"))
    hard = _series(
        periods, lambda p: None if p["calls"].get("suppressed") else p["calls"]["hard_share"] * 100
    )

    figure, (top, bottom) = plt.subplots(2, 1, figsize=(8, 5), dpi=100, sharex=True)
    figure.suptitle(title, fontsize=13)
    top.plot(labels, who5, color=BLUE, marker="o", linewidth=2, label="Wellbeing (WHO-5, 0-100)")
    top.axhline(50, color=BLUE, linestyle=":", linewidth=1)
    top.set_ylim(0, 100)
    top.set_ylabel("WHO-5", fontsize=11)
    top.legend(loc="lower left", fontsize=10, frameon=False)
    bottom.plot(labels, hard, color=ORANGE, marker="s", linestyle="--", linewidth=2, label="Hard calls (%)")
    finite = [h for h in hard if not math.isnan(h)]
    bottom.set_ylim(0, max(finite + [10.0]) * 1.25)
    bottom.set_ylabel("% hard", fontsize=11)
    bottom.legend(loc="upper left", fontsize=10, frameon=False)
    bottom.set_xlabel("Week starting (gaps: fewer people than the anonymity threshold)", fontsize=10)
    for axis in (top, bottom):
        axis.grid(axis="y", alpha=0.3)
        axis.tick_params(labelsize=9)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    plt.close(figure)
    return buffer.getvalue()
