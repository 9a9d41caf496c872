"""The one place every manager-facing figure passes through before anyone sees it.

Rules (docs: /breather privacy, docs/privacy.md):
- a figure is shown only when at least `k` (`anonymity_min_group`) distinct people contributed;
  otherwise it is suppressed (never shown as 0, rounded or as a range; a chart marks the week as hidden).
  `Gate.allows` is that decision, and nothing else makes it: the digest's figures and their
  parts (each instrument's mean, the response rate), the surge alert and the compliment
  roll-up's count all ask it;
- figures that are kept (the digest's, the roll-up's count) go through `Gate.release`, which
  also logs them with a fingerprint of their contributors and freezes them. Differencing: a new
  figure of the same family and week whose contributors differ from a logged one by 1 to k-1
  people is suppressed. A surge alert is about the last hour, not a week, and is not kept;
- slices (queues) get secondary suppression: if one slice is hidden, the next smallest are
  hidden too until the hidden ones together reach k, and a slice is shown only if the rest of
  its parent also reaches k (`shown_slices`);
- no figure reveals one person (`Gate.figure`, the rule in docs/privacy/figures.md): every
  share of people and every mean of their answers is shown exactly only away from the ends of
  its scale. Within scale/k of an end it is shown as that end's band, "at most 20 %" or "at
  least 80 %" (k = 5), both ends alike, so a unanimous group (0 %, 100 %, a mean at the end
  of its scale) reads the same as one in which someone answered otherwise. Because the band is
  1/k of the scale and a figure describes at least k people, whatever any single member
  answered, the figure could still have come out as shown. Counts of people are shown as
  "N or more" with N below the true count (`Gate.headcount`), so "N of N" never shows either;
- the people who read a team's figures (its leads and the admins, when they are on the roster)
  are left out of them altogether (`Roster.readers_of`): they never count towards k;
- free text needs at least `k_text` (`anonymity_min_comments`, default 10) contributors:
  `Gate.allows_text`. No manager-facing output shows free text today: the instruments have no
  open question and a digest has no comment field. The weekly compliment roll-up quotes
  compliments in the team channel, but those are not comments in this sense. The rule
  protects the people who wrote free text, whose wording can give them away; the quotes are
  customers' words about one agent, each already posted in the same channel, credited to
  that agent, because the agent chose to share it (consent, not anonymity, is what governs
  them; the roll-up adds no name and its count still needs k people).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlmodel import Session, col, select

from bot.config import ProductSettings
from bot.digests.model import Band, Figure, Headcount
from bot.pseudonyms import People
from storage.models import DigestRelease
from storage.upsert import insert_ignore, insert_ignore_many


@dataclass(frozen=True)
class Candidate:
    family: str  # figures that may be compared with one another: "calls", "wellbeing", ...
    scope: str  # which group: the team, or a slice such as "queue:billing"
    contributors: frozenset[str]  # pseudonyms
    values: dict[str, Any] = field(default_factory=dict)


def fingerprint(people: People, contributors: frozenset[str], kid: str | None = None) -> set[str] | None:
    """Keyed fingerprints of who contributed, under key `kid` (default: the current key); None
    when that key is no longer live. Keyed, so the release log cannot be matched to pseudonyms
    (or, through them, to people) without the key."""
    prints = {people.fingerprint(p, kid) for p in contributors}
    return None if None in prints else {p for p in prints if p is not None}


_EPSILON = 1e-9


def banded(value: float, *, scale: float, k: int, digits: int) -> Figure:
    """The rule against unanimous figures. A mean (or share) over n >= k people that lies
    within scale/k of an end is consistent with one member at the far end, whoever they are,
    only if the band shown reaches scale/n from that end: the band scale/k does, for every n."""
    edge = scale / k
    if value <= edge + _EPSILON:
        return Figure(round(edge, digits), Band.AT_MOST)
    if value >= scale - edge - _EPSILON:
        return Figure(round(scale - edge, digits), Band.AT_LEAST)
    return Figure(round(value, digits))


def people_at_least(count: int, k: int) -> int:
    """A lower bound for a count of people that is below the count itself whenever it can be
    (count > k), so a lead who knows the team's size cannot read "everyone did"; in steps of k."""
    return max(k, k * ((count - 1) // k))


def shown_slices(parent: frozenset[str], slices: Mapping[str, frozenset[str]], k: int) -> set[str]:
    """Which slices may be shown, after primary and secondary suppression."""
    hidden = {name for name, people in slices.items() if len(people) < k}
    if hidden:
        hidden_people: set[str] = set().union(*(slices[name] for name in hidden))
        by_size = sorted((name for name in slices if name not in hidden), key=lambda n: (len(slices[n]), n))
        while len(hidden_people) < k and by_size:
            name = by_size.pop(0)
            hidden.add(name)
            hidden_people |= slices[name]
    shown = set()
    for name in slices:
        if name in hidden:
            continue
        if len(parent - slices[name]) < k and parent != slices[name]:
            continue  # the parent total minus this slice would describe fewer than k people
        shown.add(name)
    return shown


FIGURE_KEY = ("team_id", "period_start", "metric", "scope")  # one released figure


@dataclass(frozen=True)
class Logged:
    """What the gate needs of a released figure (lighter than the ORM row)."""

    scope: str
    values: dict[str, Any]
    contributors: list[str]
    kid: str

    @classmethod
    def of(cls, release: DigestRelease) -> Logged:
        return cls(release.scope, release.values, release.contributors, release.kid)


class Gate:
    """Decides what may be shown about one team, and releases its weekly figures with freezing
    and the differencing guard."""

    def __init__(
        self,
        session: Session,
        *,
        team_id: str,
        k: int,
        now: datetime,
        people: People,
        k_text: int | None = None,
    ) -> None:
        self.session = session
        self.team_id = team_id
        self.k = k
        self.k_text = max(k_text or k, k)  # free text never needs fewer people than a number
        self.now = now
        self.people = people
        # Set by `prefetch`: the releases of those weeks, read at once, and new ones held for `flush`.
        self._weeks: frozenset[date] = frozenset()
        self._known: dict[tuple[date, str], list[Logged]] = {}
        self._pending: list[dict[str, Any]] = []

    @classmethod
    def for_team(
        cls, session: Session, settings: ProductSettings, *, team_id: str, now: datetime, people: People
    ) -> Gate:
        return cls(
            session,
            team_id=team_id,
            k=settings.anonymity_min_group,
            k_text=settings.anonymity_min_comments,
            now=now,
            people=people,
        )

    def allows(self, contributors: Collection[str]) -> bool:
        """Whether a number backed by these people (pseudonyms) may be shown at all."""
        return len({self.people.canonical(p) for p in contributors}) >= self.k

    def allows_text(self, contributors: Collection[str]) -> bool:
        """Whether free text written by these people may be shown at all."""
        return len({self.people.canonical(p) for p in contributors}) >= self.k_text

    def figure(self, value: float, *, scale: float = 1.0, digits: int = 2) -> Figure:
        """A share (scale 1) or a mean (scale: the instrument's top) as it may be shown."""
        return banded(value, scale=scale, k=self.k, digits=digits)

    def headcount(self, count: int) -> Headcount:
        """How many people, as it may be shown: "at least N", N below the true count."""
        return Headcount(people_at_least(count, self.k))

    def shown_slices(self, parent: frozenset[str], slices: Mapping[str, frozenset[str]]) -> set[str]:
        """Which slices of `parent` may be shown (primary and secondary suppression)."""
        return shown_slices(parent, slices, self.k)

    def prefetch(self, weeks: Collection[date]) -> None:
        """Read every release of these weeks in one query, and hold the new ones until `flush`
        writes them in one statement: a digest asks for some sixty figures, and a round trip
        each was most of its time."""
        self.flush()
        self._weeks = frozenset(weeks)
        self._known = {}
        for release in self.session.exec(
            select(DigestRelease).where(
                col(DigestRelease.team_id) == self.team_id, col(DigestRelease.period_start).in_(self._weeks)
            )
        ):
            self._known.setdefault((release.period_start, release.metric), []).append(Logged.of(release))

    def flush(self) -> None:
        """Write the releases held since `prefetch` (a figure released meanwhile by another
        process wins, as with one insert at a time)."""
        pending, self._pending = self._pending, []
        insert_ignore_many(self.session, DigestRelease, pending, list(FIGURE_KEY))

    def _logged(self, week: date, family: str) -> list[Logged]:
        if week in self._weeks:
            return self._known.get((week, family), [])
        return [
            Logged.of(release)
            for release in self.session.exec(
                select(DigestRelease).where(
                    col(DigestRelease.team_id) == self.team_id,
                    col(DigestRelease.period_start) == week,
                    col(DigestRelease.metric) == family,
                )
            )
        ]

    def release(self, week: date, candidate: Candidate) -> dict[str, Any] | None:
        logged = self._logged(week, candidate.family)
        for release in logged:
            if release.scope == candidate.scope:
                return release.values  # frozen: the same figure every time it is asked for
        if not self.allows(candidate.contributors):
            return None
        for release in logged:
            # Compared under the key the logged release was fingerprinted with (a key rotation
            # may not have reached it yet); one no key can compare is taken as too close.
            theirs = fingerprint(self.people, candidate.contributors, release.kid)
            if theirs is None:
                return None
            difference = len(theirs.symmetric_difference(release.contributors))
            if 0 < difference < self.k:
                return None
        mine = fingerprint(self.people, candidate.contributors)
        assert mine is not None  # the current key is always live
        row: dict[str, Any] = {
            "team_id": self.team_id,
            "period_start": week,
            "metric": candidate.family,
            "scope": candidate.scope,
            "values": candidate.values,
            "contributors": sorted(mine),
            "kid": self.people.keyring.kid,
            "released_at": self.now,
        }
        if week in self._weeks:
            # Later figures of this digest are guarded against this one before it is written.
            self._known.setdefault((week, candidate.family), []).append(
                Logged(candidate.scope, candidate.values, row["contributors"], row["kid"])
            )
            self._pending.append(row)
        else:
            insert_ignore(self.session, DigestRelease, row, list(FIGURE_KEY))
        return candidate.values
