"""Pulse check-ins as chat users and the scheduler meet them: open a round, send its
invitations at the outbox's pace, open, answer, skip or opt out of one."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import Engine

from bot.config import BreatherConfig
from bot.home.actions import HomeActions
from bot.messenger import Delivered, Form
from bot.roster import Roster, RosterAgent
from bot.surveys.service import RoundCounts, RoundOutcome, Submission, SurveyService
from storage.db import read_scope, session_scope

log = logging.getLogger(__name__)

MAX_DISPATCH_BATCHES = 100  # 20,000 invitations a minute; anything beyond waits for the next run


class SurveyActions:
    def __init__(
        self,
        *,
        engine: Engine,
        config: BreatherConfig,
        service: SurveyService,
        home: HomeActions,
        roster: Callable[[], Roster],
        clock: Callable[[], datetime],
    ) -> None:
        self.engine = engine
        self.config = config
        self.service = service
        self.home = home
        self.roster = roster
        self.clock = clock

    def start_round(self, team_id: str) -> RoundOutcome:
        """Open this period's round for a team now (idempotent), then invite whoever may be asked now."""
        team = self.config.team(team_id)
        agents = [agent for agent in self.roster().agents() if agent.team.id == team.id]
        with session_scope(self.engine) as session:
            outcome = self.service.start_round(session, team=team, agents=agents, now=self.clock())
        self.dispatch()
        return outcome

    def round_counts(self, round_id: str) -> RoundCounts:
        with read_scope(self.engine) as session:
            return self.service.counts(session, round_id)

    def scheduled_round(self, team_id: str) -> None:
        if self.service.due_now(self.config.team(team_id), self.clock()):
            outcome = self.start_round(team_id)
            log.info("pulse round for team %s: %s", team_id, "opened" if outcome.created else "already open")

    def dispatch(self) -> int:
        """Queue every invitation and reminder due now, a batch per transaction: a round for
        thousands of agents goes out at the outbox's pace, never holding the database for long."""
        queued = 0
        for _ in range(MAX_DISPATCH_BATCHES):
            with session_scope(self.engine) as session:
                batch = self.service.dispatch(session, roster=self.roster(), now=self.clock())
            self.service.look_up(batch.to_look_up)  # committed: no lock held during the reads
            queued += batch.queued
            if not batch.more:
                break
        return queued

    def open(self, agent: RosterAgent, invitation_id: str, where: Delivered) -> Form | None:
        with session_scope(self.engine) as session:
            return self.service.form_for(
                session, agent=agent, invitation_id=invitation_id, where=where, now=self.clock()
            )

    def submit(self, agent: RosterAgent, context: str, values: dict[str, str]) -> Submission:
        with session_scope(self.engine) as session:
            submission = self.service.submit(
                session, agent=agent, context=context, values=values, now=self.clock()
            )
            if not submission.errors:
                self.home.refresh(session, agent, reason=f"answered:{context}")
            return submission

    def skip(self, agent: RosterAgent, invitation_id: str, where: Delivered) -> None:
        with session_scope(self.engine) as session:
            self.service.skip(
                session, agent=agent, invitation_id=invitation_id, where=where, now=self.clock()
            )

    def opt_out(self, agent: RosterAgent, invitation_id: str, where: Delivered) -> None:
        with session_scope(self.engine) as session:
            self.service.opt_out(
                session, agent=agent, invitation_id=invitation_id, where=where, now=self.clock()
            )
            self.home.refresh(session, agent, reason=f"opt-out:{invitation_id}")
