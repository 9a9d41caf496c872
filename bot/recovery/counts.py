"""Team-level counts of breaks and talk requests, for digests. Never per agent.

Callers (the digest) still apply the anonymity threshold to whatever they show.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func
from sqlmodel import Session, col, select

from storage.models import Break, TalkRequest
from storage.models.recovery import TAKEN_STATES


@dataclass(frozen=True)
class RecoveryCounts:
    breaks_asked: int  # "Take a breather" answers that reached the break logic
    breaks_protected: int  # of those, breaks Breather set (or is setting) in the phone system
    talk_requests: int  # people the team's agents asked to talk to (any kind)


def team_counts(session: Session, *, team_id: str, start: datetime, end: datetime) -> RecoveryCounts:
    """Counts for one team, for requests made in [start, end)."""
    in_period = (
        col(Break.team_id) == team_id,
        col(Break.requested_at) >= start,
        col(Break.requested_at) < end,
    )
    asked = session.exec(select(func.count()).select_from(Break).where(*in_period)).one()
    protected = session.exec(
        select(func.count()).select_from(Break).where(*in_period, col(Break.state).in_(TAKEN_STATES))
    ).one()
    talks = session.exec(
        select(func.count())
        .select_from(TalkRequest)
        .where(
            col(TalkRequest.team_id) == team_id,
            col(TalkRequest.created_at) >= start,
            col(TalkRequest.created_at) < end,
        )
    ).one()
    return RecoveryCounts(breaks_asked=asked, breaks_protected=protected, talk_requests=talks)
