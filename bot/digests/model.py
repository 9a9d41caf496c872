"""The digest as types: what the aggregation and the anonymity gate produce and every renderer
reads (the chat message, the Home tab, the chart, the CLI's text and JSON, the surge alert).

A part of a week is either its figures or `Suppressed` with a `Reason`; renderers branch on
those types, never on words. The JSON form is the external contract (docs/ARCHITECTURE.md,
"Digest JSON") and lives here only: `to_json` writes it key for key in the documented order, and
`from_json` reads it back, as the release log stores each part's figures in that form (a frozen
figure is read from there on every later digest)."""

from __future__ import annotations

import re
from dataclasses import dataclass, fields
from datetime import date
from enum import StrEnum
from typing import Any

Json = dict[str, Any]


class Band(StrEnum):
    """The end of its scale a figure is held to (the rule in docs/privacy/figures.md)."""

    AT_MOST = "at_most"
    AT_LEAST = "at_least"


@dataclass(frozen=True)
class Figure:
    """A share or a mean as it may be shown: exact, or "at most x" / "at least x" near an end."""

    value: float
    band: Band | None = None  # None: the value itself

    def to_json(self) -> float | dict[str, float]:
        return self.value if self.band is None else {self.band.value: self.value}

    @classmethod
    def from_json(cls, raw: float | dict[str, float]) -> Figure:
        if isinstance(raw, dict):
            ((band, value),) = raw.items()
            return cls(value, Band(band))
        return cls(raw)


@dataclass(frozen=True)
class Headcount:
    """How many people, as it may be shown: never the count itself, "N or more" below it."""

    at_least: int

    def to_json(self) -> dict[str, int]:
        return {"at_least": self.at_least}


class Reason(StrEnum):
    """Why a part of a week is not shown."""

    NO_SURVEY = "no_survey"  # no round closed that week: a fact about the calendar, not people
    FEW_RESPONDENTS = "few_respondents"  # fewer than k answered
    FEW_AGENTS = "few_agents"  # fewer than k people behind the figure

    def text(self, k: int) -> str:
        """The contract's wording (English, for the JSON; people read the catalogue's)."""
        if self is Reason.NO_SURVEY:
            return "no survey round closed in this period"
        return f"fewer than {k} {'respondents' if self is Reason.FEW_RESPONDENTS else 'agents'}"


_FEWER = re.compile(r"fewer than (\d+) (respondents|agents)")


@dataclass(frozen=True)
class Suppressed:
    reason: Reason
    k: int

    def to_json(self) -> Json:
        return {"suppressed": True, "reason": self.reason.text(self.k)}

    @classmethod
    def from_json(cls, raw: Json, k: int) -> Suppressed:
        text = str(raw.get("reason", ""))
        if text.startswith("no survey"):
            return cls(Reason.NO_SURVEY, k)
        found = _FEWER.fullmatch(text)
        if found is None:
            raise ValueError(f"not a digest suppression reason: {text!r}")
        who = Reason.FEW_RESPONDENTS if found[2] == "respondents" else Reason.FEW_AGENTS
        return cls(who, int(found[1]))


def _suppressed(raw: Any) -> bool:
    return isinstance(raw, dict) and raw.get("suppressed") is True


@dataclass(frozen=True)
class Wellbeing:
    """A week's survey figures. Each instrument's are judged on the people who answered it, so
    any of them may be missing while the others are shown."""

    respondents: Headcount
    who5_mean: Figure | None = None
    who5_low_share: Figure | None = None
    burnout_share: Figure | None = None
    cbi_client_mean: Figure | None = None
    response_rate: Figure | None = None

    def metrics(self) -> dict[str, Figure]:
        """The figures shown, by their contract name, in the contract's order."""
        return {f.name: value for f in fields(self) if isinstance(value := getattr(self, f.name), Figure)}

    def to_json(self) -> Json:
        return {
            "respondents": self.respondents.to_json(),
            "metrics": {name: figure.to_json() for name, figure in self.metrics().items()},
        }

    @classmethod
    def from_json(cls, raw: Json) -> Wellbeing:
        metrics = {name: Figure.from_json(value) for name, value in raw.get("metrics", {}).items()}
        return cls(respondents=Headcount(raw["respondents"]["at_least"]), **metrics)


@dataclass(frozen=True)
class Calls:
    calls: int
    hard_share: float  # a share of calls, not of people: exact
    abusive: int
    calls_per_agent_hour: float

    def to_json(self) -> Json:
        return {
            "calls": self.calls,
            "hard_share": self.hard_share,
            "abusive": self.abusive,
            "calls_per_agent_hour": self.calls_per_agent_hour,
        }

    @classmethod
    def from_json(cls, raw: Json) -> Calls:
        return cls(raw["calls"], raw["hard_share"], raw["abusive"], raw["calls_per_agent_hour"])


@dataclass(frozen=True)
class QueueCalls:
    calls: int
    hard_share: float


@dataclass(frozen=True)
class Queue:
    """One queue's slice of the week's calls, or why it is hidden (too few people, or hidden with
    another small one: secondary suppression)."""

    name: str
    figures: QueueCalls | Suppressed

    def to_json(self) -> Json:
        if isinstance(self.figures, Suppressed):
            return {"queue": self.name, **self.figures.to_json()}
        return {"queue": self.name, "calls": self.figures.calls, "hard_share": self.figures.hard_share}

    @classmethod
    def from_json(cls, raw: Json, k: int) -> Queue:
        if _suppressed(raw):
            return cls(raw["queue"], Suppressed.from_json(raw, k))
        return cls(raw["queue"], QueueCalls(raw["calls"], raw["hard_share"]))


@dataclass(frozen=True)
class Checkins:
    sent: int
    break_share: Figure  # of the people who had a check-in
    talk_share: Figure

    def to_json(self) -> Json:
        return {
            "sent": self.sent,
            "break_share": self.break_share.to_json(),
            "talk_share": self.talk_share.to_json(),
        }

    @classmethod
    def from_json(cls, raw: Json) -> Checkins:
        return cls(raw["sent"], Figure.from_json(raw["break_share"]), Figure.from_json(raw["talk_share"]))


@dataclass(frozen=True)
class Period:
    """One week of a team's digest."""

    team: str
    start: date  # Monday, in the team's zone
    end: date  # Sunday
    min_group: int  # k
    wellbeing: Wellbeing | Suppressed
    calls: Calls | Suppressed
    checkins: Checkins | Suppressed
    compliments: int | Suppressed  # compliments received
    queues: tuple[Queue, ...] = ()  # empty with fewer than two queues (one is the team total)

    def to_json(self) -> Json:
        out: Json = {
            "team": self.team,
            "period": {"start": self.start.isoformat(), "end": self.end.isoformat()},
            "min_group": self.min_group,
        }
        if isinstance(self.wellbeing, Suppressed):
            out.update(self.wellbeing.to_json())
        else:
            out.update({"suppressed": False, **self.wellbeing.to_json()})
        out["calls"] = self.calls.to_json()
        if self.queues:
            out["calls_by_queue"] = [queue.to_json() for queue in self.queues]
        out["checkins"] = self.checkins.to_json()
        out["compliments"] = (
            self.compliments.to_json() if isinstance(self.compliments, Suppressed) else self.compliments
        )
        return out

    @classmethod
    def from_json(cls, raw: Json) -> Period:
        k = int(raw["min_group"])
        calls, checkins, compliments = raw["calls"], raw["checkins"], raw["compliments"]
        return cls(
            team=raw["team"],
            start=date.fromisoformat(raw["period"]["start"]),
            end=date.fromisoformat(raw["period"]["end"]),
            min_group=k,
            wellbeing=Suppressed.from_json(raw, k) if _suppressed(raw) else Wellbeing.from_json(raw),
            calls=Suppressed.from_json(calls, k) if _suppressed(calls) else Calls.from_json(calls),
            checkins=Suppressed.from_json(checkins, k)
            if _suppressed(checkins)
            else Checkins.from_json(checkins),
            compliments=Suppressed.from_json(compliments, k)
            if _suppressed(compliments)
            else int(compliments),
            queues=tuple(Queue.from_json(queue, k) for queue in raw.get("calls_by_queue", [])),
        )


@dataclass(frozen=True)
class Digest:
    """The latest complete week and the weeks before it (oldest first)."""

    latest: Period
    trend: tuple[Period, ...] = ()

    @property
    def weeks(self) -> tuple[Period, ...]:
        """Every week, oldest first: the trend, then the latest."""
        return (*self.trend, self.latest)

    def to_json(self) -> Json:
        return {**self.latest.to_json(), "trend": [period.to_json() for period in self.trend]}

    @classmethod
    def from_json(cls, raw: Json) -> Digest:
        return cls(Period.from_json(raw), tuple(Period.from_json(period) for period in raw.get("trend", [])))


@dataclass(frozen=True)
class Surge:
    """The last hour's hard calls, well above the team's baseline and spread over k people."""

    team: str
    calls: int
    hard_share: float
    baseline: float
    people: int
    window_minutes: float
