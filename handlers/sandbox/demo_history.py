"""Twelve weeks of made-up history for the demo team, so the team lead's digest has something to
show the moment the demo starts. Only `breather demo` calls this, on its throwaway database; the
digest that reads it is the production code."""

from __future__ import annotations

import random
import uuid
from datetime import datetime, timedelta

from sqlmodel import Session

from bot.container import Services
from bot.roster import RosterAgent
from bot.surveys.instruments import BURNOUT_SINGLE, WHO5
from bot.surveys.periods import period_start
from storage.db import session_scope
from storage.models import Call, Checkin, InvitationState, SurveyAnswer, SurveyInvitation, SurveyRound

WEEKS = 12
CALLS_PER_AGENT_WEEK = 35


def seed_demo_history(services: Services, *, now: datetime, seed: int = 7) -> int:
    """Calls, check-ins and fortnightly survey answers for the last 12 weeks; returns calls added."""
    rng = random.Random(seed)
    added = 0
    with session_scope(services.engine) as session:
        for team in services.roster.teams:
            agents = [a for a in services.roster.agents() if a.team.id == team.id]
            every = team.pulse.every_weeks if team.pulse else 1
            current = period_start(now.astimezone(team.zone).date(), every)
            for week in range(WEEKS, 0, -1):
                start = now - timedelta(weeks=week)
                strain = 0.05 + 0.05 * (week % 4 == 1)  # a harder week now and then, for the trend
                for agent in agents:
                    for n in range(CALLS_PER_AGENT_WEEK):
                        ended = start + timedelta(days=n % 5, hours=9 + n % 8, minutes=rng.randint(0, 59))
                        hard = rng.random() < strain
                        call = Call(
                            provider="demo",
                            call_id=uuid.uuid4().hex,
                            team_id=team.id,
                            pseudonym=agent.pseudonym,
                            kid=agent.kid,
                            ended_at=ended,
                            duration_s=rng.lognormvariate(5.5, 0.4),
                            hard=hard,
                            signals=["abuse"]
                            if hard and rng.random() < 0.4
                            else (["hangup", "sentiment"] if hard else []),
                            queue="billing",
                        )
                        session.add(call)
                        added += 1
                        if hard:
                            session.flush()
                            session.add(
                                Checkin(
                                    id=uuid.uuid4().hex,
                                    call_id=call.id or 0,
                                    team_id=team.id,
                                    pseudonym=agent.pseudonym,
                                    kid=agent.kid,
                                    reasons=call.signals,
                                    created_at=ended,
                                    answer=rng.choice(["ok", "ok", "break", "talk", None]),
                                )
                            )
                if team.pulse is not None and week % 2 == 0:
                    opened = start + timedelta(days=1)
                    # Past rounds only: this period's round is the one "Survey round" starts.
                    if period_start(opened.astimezone(team.zone).date(), team.pulse.every_weeks) != current:
                        _round(session, team.id, agents, closes=start + timedelta(days=4), rng=rng, week=week)
    return added


def _round(
    session: Session,
    team_id: str,
    agents: list[RosterAgent],
    *,
    closes: datetime,
    rng: random.Random,
    week: int,
) -> None:
    round_id = uuid.uuid4().hex
    session.add(
        SurveyRound(
            id=round_id,
            team_id=team_id,
            period_start=(closes - timedelta(days=3)).date(),
            instruments=["who5", "burnout_single"],
            opened_at=closes - timedelta(days=3),
            closes_at=closes,
            invited=len(agents),
            responded=0,
        )
    )
    session.flush()
    responded = 0
    for agent in agents:
        answered = rng.random() < 0.9
        session.add(
            SurveyInvitation(
                id=uuid.uuid4().hex,
                round_id=round_id,
                pseudonym=agent.pseudonym,
                kid=agent.kid,
                state=InvitationState.ANSWERED if answered else InvitationState.SENT,
                send_after=closes - timedelta(days=3),
                sent_at=closes - timedelta(days=3),
            )
        )
        if not answered:
            continue
        responded += 1
        base = 3 if week % 4 else 2  # the harder weeks feel harder
        who5 = {f"who5_{n}": max(0, min(5, base + rng.choice([-1, 0, 0, 1]))) for n in range(1, 6)}
        burnout = {"burnout_single_1": max(1, min(5, 2 + rng.choice([-1, 0, 0, 1]) + (week % 4 == 0)))}
        for instrument, answers in ((WHO5, who5), (BURNOUT_SINGLE, burnout)):
            score = instrument.score(answers)
            assert score is not None
            session.add(
                SurveyAnswer(
                    round_id=round_id,
                    team_id=team_id,
                    pseudonym=agent.pseudonym,
                    kid=agent.kid,
                    instrument=instrument.id.value,
                    instrument_version=instrument.version,
                    answers=answers,
                    score=score.value,
                    flagged=score.flag,
                    submitted_at=closes - timedelta(days=1),
                )
            )
    round_row = session.get(SurveyRound, round_id)
    assert round_row is not None
    round_row.responded = responded


DEMO_BUDDIES = ("mihai@example.com", "darya@example.com", "sam@example.com")


def seed_demo_together(services: Services) -> int:
    """Three demo agents offer to be buddies and everyone joins the coffee pairs, then this
    week's pairs are made, so the console shows both at once; returns how many were paired."""
    paired = 0
    for agent in services.roster.agents():
        if agent.email in DEMO_BUDDIES:
            services.home.set_buddy(agent, True)
        if agent.team.pairing is not None:
            services.home.set_pairing(agent, True)
    for team in services.roster.teams:
        if team.pairing is not None:
            paired += services.home.pair_team(team.id)
    return paired
