"""The one place every manager-facing figure passes through before anyone sees it.

Rules (docs: /breather privacy, README "Privacy"):
- a figure is shown only when at least `k` distinct people contributed; otherwise it is
  suppressed (never shown as 0, rounded or as a range; a chart shows a gap);
- free text needs at least `k_text` contributors;
- slices (queues) get secondary suppression: if one slice is hidden, the next smallest are
  hidden too until the hidden ones together reach k, and a slice is shown only if the rest of
  its parent also reaches k;
- differencing: a released figure is logged with a fingerprint of its contributors and frozen;
  a new figure of the same family and week whose contributors differ from a logged one by
  1 to k-1 people is suppressed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlmodel import Session, col, select

from storage.models import DigestRelease
from storage.upsert import insert_ignore


@dataclass(frozen=True)
class Candidate:
    family: str  # figures that may be compared with one another: "calls", "wellbeing", ...
    scope: str  # which group: the team, or a slice such as "queue:billing"
    contributors: frozenset[str]  # pseudonyms
    values: dict[str, Any] = field(default_factory=dict)


def fingerprint(contributors: frozenset[str]) -> list[str]:
    return sorted(hashlib.sha256(p.encode()).hexdigest()[:16] for p in contributors)


def enough(contributors: frozenset[str] | set[str], k: int) -> bool:
    return len(contributors) >= k


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


class Gate:
    """Releases figures for one team and week, with freezing and the differencing guard."""

    def __init__(self, session: Session, *, team_id: str, k: int, now: datetime) -> None:
        self.session = session
        self.team_id = team_id
        self.k = k
        self.now = now

    def release(self, week: date, candidate: Candidate) -> dict[str, Any] | None:
        logged = self.session.exec(
            select(DigestRelease).where(
                col(DigestRelease.team_id) == self.team_id,
                col(DigestRelease.period_start) == week,
                col(DigestRelease.metric) == candidate.family,
            )
        ).all()
        for release in logged:
            if release.scope == candidate.scope:
                return release.values  # frozen: the same figure every time it is asked for
        if not enough(candidate.contributors, self.k):
            return None
        mine = set(fingerprint(candidate.contributors))
        for release in logged:
            difference = len(mine.symmetric_difference(release.contributors))
            if 0 < difference < self.k:
                return None
        insert_ignore(
            self.session,
            DigestRelease,
            {
                "team_id": self.team_id,
                "period_start": week,
                "metric": candidate.family,
                "scope": candidate.scope,
                "values": candidate.values,
                "contributors": sorted(mine),
                "released_at": self.now,
            },
            ["team_id", "period_start", "metric", "scope"],
        )
        return candidate.values
