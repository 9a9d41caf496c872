"""The validated instruments, as data, scored exactly as published (sources in docs/instruments.md).

Item wording lives in `wording/<language>.yml` (see `wording.py`); here are only the ids, the
answer scales and the scoring keys, the same for every language version. Each stored answer
records the instrument version.
No licensed instrument is included (no Maslach items, no UWES).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum


class InstrumentId(StrEnum):
    WHO5 = "who5"
    BURNOUT_SINGLE = "burnout_single"
    CBI_CLIENT = "cbi_client"


@dataclass(frozen=True)
class Scale:
    """Answer options, top of the scale first: (stored value, wording key of the label)."""

    id: str
    options: tuple[tuple[int, str], ...]

    def values(self) -> set[int]:
        return {value for value, _ in self.options}


@dataclass(frozen=True)
class Item:
    id: str  # e.g. "who5_1"; also the form field id
    scale: Scale


@dataclass(frozen=True)
class Score:
    """One respondent's result on one instrument. `flag` is the published cut-off (True = flagged)."""

    instrument: InstrumentId
    value: float
    flag: bool
    severe: bool = False  # WHO-5 <= 28: shown to the agent only, with support resources


@dataclass(frozen=True)
class Instrument:
    id: InstrumentId
    version: str
    items: tuple[Item, ...]

    def score(self, answers: Mapping[str, int]) -> Score | None:
        return SCORERS[self.id](self, answers)


# WHO-5: 5 = all of the time ... 0 = at no time (Topp et al. 2015).
FREQUENCY_6 = Scale("who5_frequency", tuple((v, f"scale.{v}") for v in (5, 4, 3, 2, 1, 0)))
# Single-item burnout: options 1-5, the statement numbers (Dolan et al. 2015).
BURNOUT_5 = Scale("burnout_statements", tuple((v, f"option.{v}") for v in (1, 2, 3, 4, 5)))
# CBI: 100/75/50/25/0 from the top answer down (Kristensen et al. 2005).
CBI_DEGREE = Scale("cbi_degree", tuple((v, f"degree.{v}") for v in (100, 75, 50, 25, 0)))
CBI_FREQUENCY = Scale("cbi_frequency", tuple((v, f"frequency.{v}") for v in (100, 75, 50, 25, 0)))

WHO5 = Instrument(InstrumentId.WHO5, "1", tuple(Item(f"who5_{n}", FREQUENCY_6) for n in range(1, 6)))
BURNOUT_SINGLE = Instrument(InstrumentId.BURNOUT_SINGLE, "1", (Item("burnout_single_1", BURNOUT_5),))
CBI_CLIENT = Instrument(
    InstrumentId.CBI_CLIENT,
    "1",
    tuple(Item(f"cbi_client_{n}", CBI_DEGREE if n <= 4 else CBI_FREQUENCY) for n in range(1, 7)),
)

INSTRUMENTS: dict[InstrumentId, Instrument] = {i.id: i for i in (WHO5, BURNOUT_SINGLE, CBI_CLIENT)}

WHO5_LOW = 50  # index <= 50: poor wellbeing
WHO5_SEVERE = 28  # index <= 28: likely depression band (agent's own view only)
BURNOUT_SYMPTOMS = 3  # option >= 3
CBI_HIGH = 50  # >= 50: high (a later convention; the mean is reported first)
CBI_MIN_ANSWERED = 3  # fewer answered items: a non-responder on the scale


def _answered(instrument: Instrument, answers: Mapping[str, int]) -> dict[str, int]:
    found = {}
    for item in instrument.items:
        if item.id in answers:
            value = answers[item.id]
            if value not in item.scale.values():
                raise ValueError(f"{item.id}: {value} is not on the scale")
            found[item.id] = value
    return found


def _who5(instrument: Instrument, answers: Mapping[str, int]) -> Score | None:
    given = _answered(instrument, answers)
    if len(given) < len(instrument.items):
        return None  # no published rule for prorating missing items: score complete sets only
    index = sum(given.values()) * 4
    return Score(InstrumentId.WHO5, float(index), flag=index <= WHO5_LOW, severe=index <= WHO5_SEVERE)


def _burnout(instrument: Instrument, answers: Mapping[str, int]) -> Score | None:
    given = _answered(instrument, answers)
    if not given:
        return None
    option = next(iter(given.values()))
    return Score(InstrumentId.BURNOUT_SINGLE, float(option), flag=option >= BURNOUT_SYMPTOMS)


def _cbi(instrument: Instrument, answers: Mapping[str, int]) -> Score | None:
    given = _answered(instrument, answers)
    if len(given) < CBI_MIN_ANSWERED:
        return None
    mean = sum(given.values()) / len(given)
    return Score(InstrumentId.CBI_CLIENT, round(mean, 2), flag=mean >= CBI_HIGH)


SCORERS = {InstrumentId.WHO5: _who5, InstrumentId.BURNOUT_SINGLE: _burnout, InstrumentId.CBI_CLIENT: _cbi}
