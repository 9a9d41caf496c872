"""The trend chart: a small PNG, readable at chat size and on a phone, colour-blind safe; a week
with too few people is marked as such, never drawn as a value.

Pure: the figures and the words go in (`ChartText`, translated by the caller from the
catalogue), the picture comes out. Persian is drawn right to left with its letters joined by
matplotlib's own text layout (libraqm, matplotlib 3.11+), which honours the isolates the
catalogue puts around a Latin team name; its bundled DejaVu Sans has the Persian glyphs, so a
fresh machine needs no system font.
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from bot.digests.model import Band, Calls, Digest, Figure, Period, Reason, Wellbeing
from bot.i18n.bidi import direction

if TYPE_CHECKING:
    from matplotlib.figure import Figure as MatplotlibFigure

# Okabe-Ito colours: distinguishable with the common forms of colour blindness.
BLUE, ORANGE = "#0072B2", "#D55E00"


def _ranges(values: list[Figure | None], top: float = 100.0) -> list[tuple[float, float, float]]:
    """(point, low, high) per period. A band at an end of the scale ("at least 80") is drawn as a
    bar over the whole band with its point in the middle, never as a value it may not be."""
    ranges = []
    for figure in values:
        if figure is None:
            ranges.append((math.nan, math.nan, math.nan))  # NaN draws as a gap, never as 0
        elif figure.band is Band.AT_MOST:
            ranges.append((figure.value / 2, 0.0, figure.value))
        elif figure.band is Band.AT_LEAST:
            ranges.append(((figure.value + top) / 2, figure.value, top))
        else:
            ranges.append((figure.value, figure.value, figure.value))
    return ranges


def _who5(period: Period) -> Figure | None:
    return period.wellbeing.who5_mean if isinstance(period.wellbeing, Wellbeing) else None


def _hard_percent(period: Period) -> float:
    return period.calls.hard_share * 100 if isinstance(period.calls, Calls) else math.nan


@dataclass(frozen=True)
class ChartText:
    """Every word on the chart (`digest.chart.*` in the catalogue). The chart has no title of its
    own: the chat shows the upload's title above it (`digest.chart_title`)."""

    who5: str  # the wellbeing line's legend
    who5_axis: str
    hard: str  # the hard-calls line's legend
    hard_axis: str
    weeks: str  # under the weeks
    reference: str  # beside the line at 50
    survey_weeks: str  # what the wellbeing dots are: the weeks a survey closed
    hidden: str  # the mark for a week with too few people to show
    empty: str  # the whole picture while no week has anything to show
    # A week's first day as the language writes it: "23 noiembrie", "۲ آذر".
    day: Callable[[date], str] = lambda day: day.isoformat()[5:]


# Sized for a chat picture that is also read on a phone: 800 px wide, shown at about 360 px
# there, so 13-point text stays about 10 px tall; at most 7 week labels along the bottom.
WIDTH_IN, HEIGHT_IN, DPI = 6.4, 6.0, 125
FONT = 13
MAX_WEEK_LABELS = 7


class WeekMark(StrEnum):
    """What a week's wellbeing point is on the chart."""

    SHOWN = "shown"
    NO_SURVEY = "no_survey"  # none closed that week: neither a value nor hidden
    HIDDEN = "hidden"  # too few people: marked as such


def _kinds(periods: Sequence[Period]) -> list[WeekMark]:
    kinds = []
    for period in periods:
        wellbeing = period.wellbeing
        if isinstance(wellbeing, Wellbeing):
            kinds.append(WeekMark.SHOWN if wellbeing.who5_mean is not None else WeekMark.NO_SURVEY)
        elif wellbeing.reason is Reason.NO_SURVEY:
            kinds.append(WeekMark.NO_SURVEY)
        else:
            kinds.append(WeekMark.HIDDEN)
    return kinds


def _segments(xs: list[int], values: list[float], breaks: set[int]) -> list[tuple[list[int], list[float]]]:
    """Runs of points to join with a line, cut at the weeks in `breaks` (hidden ones): a line drawn
    across a hidden week would suggest a value there."""
    runs: list[tuple[list[int], list[float]]] = [([], [])]
    for x in range(max(xs, default=-1) + 1):
        if x in breaks and runs[-1][0]:
            runs.append(([], []))
        if x in xs:
            index = xs.index(x)
            runs[-1][0].append(x)
            runs[-1][1].append(values[index])
    return [run for run in runs if run[0]]


def _week_ticks(axis: Any, labels: list[str]) -> None:
    step = max(1, math.ceil(len(labels) / MAX_WEEK_LABELS))
    shown = list(range(len(labels) - 1, -1, -step))[::-1]  # always the latest week
    axis.set_xticks(shown, [labels[i] for i in shown])
    axis.set_xlim(-0.5, len(labels) - 0.5)


def trend_figure(digest: Digest, text: ChartText) -> MatplotlibFigure:
    import matplotlib

    matplotlib.use("Agg")  # no display on a server
    from matplotlib import pyplot as plt

    periods = digest.weeks
    labels = [text.day(p.start) for p in periods]
    who5_ranges = _ranges([_who5(p) for p in periods])
    kinds = _kinds(periods)
    hard = [_hard_percent(p) for p in periods]
    shown = [
        i for i, kind in enumerate(kinds) if kind is WeekMark.SHOWN and not math.isnan(who5_ranges[i][0])
    ]
    finite_hard = [h for h in hard if not math.isnan(h)]

    if not shown and not finite_hard:
        figure, axis = plt.subplots(figsize=(WIDTH_IN, HEIGHT_IN / 2), dpi=DPI)
        axis.axis("off")
        axis.text(0.5, 0.5, text.empty, ha="center", va="center", fontsize=FONT, wrap=True)
        figure.tight_layout()
        return figure

    figure, (top, bottom) = plt.subplots(2, 1, figsize=(WIDTH_IN, HEIGHT_IN), dpi=DPI, sharex=True)
    hidden = {i for i, kind in enumerate(kinds) if kind is WeekMark.HIDDEN}
    # Surveys close every other week or less often: the line joins the survey weeks, and the
    # weeks between them are neither zero nor a gap.
    for n, (xs, ys) in enumerate(_segments(shown, [who5_ranges[i][0] for i in shown], hidden)):
        top.plot(
            xs,
            ys,
            color=BLUE,
            marker="o",
            markersize=7,
            linewidth=2.5,
            label=text.survey_weeks if n == 0 else None,
        )
    banded = [(i, low, high) for i, (_, low, high) in enumerate(who5_ranges) if i in shown and low < high]
    if banded:
        top.vlines(
            [b[0] for b in banded],
            [b[1] for b in banded],
            [b[2] for b in banded],
            color=BLUE,
            linewidth=6,
            alpha=0.35,
        )
    # WHO-5 at 50 or below means low wellbeing: the shaded band and the line at 50, named in the
    # legend (a label on the plot would sit on the line or a point sooner or later).
    top.axhspan(0, 50, color=BLUE, alpha=0.06, linewidth=0)
    top.axhline(50, color=BLUE, linestyle=":", linewidth=1.2, label=text.reference)
    top.set_ylim(0, 100)
    top.set_ylabel(text.who5_axis, fontsize=FONT)
    side = "right" if direction(text.who5) == "rtl" else "left"  # a Persian title starts on the right
    top.set_title(text.who5, fontsize=FONT, loc=side)

    bottom.plot(range(len(hard)), hard, color=ORANGE, marker="s", markersize=6, linestyle="--", linewidth=2.5)
    bottom.set_ylim(0, max(finite_hard + [10.0]) * 1.25)
    bottom.set_ylabel(text.hard_axis, fontsize=FONT)
    bottom.set_title(text.hard, fontsize=FONT, loc=side)
    bottom.set_xlabel(text.weeks, fontsize=FONT)
    hidden_hard = [i for i, h in enumerate(hard) if math.isnan(h)]
    for axis, weeks in ((top, sorted(hidden)), (bottom, hidden_hard)):
        if weeks:
            low = axis.get_ylim()[1] * 0.06
            axis.plot(
                weeks,
                [low] * len(weeks),
                linestyle="none",
                marker="x",
                markersize=8,
                color="#555555",
                label=text.hidden,
            )
    for axis in (top, bottom):
        axis.grid(axis="y", alpha=0.3)
        axis.tick_params(labelsize=FONT)
        if axis.get_legend_handles_labels()[0]:
            axis.legend(loc="best", fontsize=FONT, frameon=False)
    _week_ticks(bottom, labels)
    figure.tight_layout()
    return figure


def preload() -> None:
    """Import matplotlib now (0.6 s on an idle machine, several seconds on a busy one), so that
    the first `/breather digest`, which draws its chart inside Slack's 3 s ack, does not pay it.
    A server calls this in the background at start; the CLI never loads it unless it draws."""
    from matplotlib import pyplot  # noqa: F401


def trend_png(digest: Digest, text: ChartText) -> bytes:
    from matplotlib import pyplot as plt

    figure = trend_figure(digest, text)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    plt.close(figure)
    return buffer.getvalue()
