"""A chosen person to talk to, and a buddy's answer to an ask: the recovery flow's clicks."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import Engine

from bot.checkins.messages import ClickNotice, click_notice
from bot.i18n import catalogue
from bot.languages import catalogue_for
from bot.messenger import Delivered
from bot.recovery.buddies import BuddyAnswer
from bot.recovery.service import RecoveryService
from bot.recovery.talk import TalkOutcome
from bot.roster import RosterAgent
from storage.db import session_scope


class RecoveryActions:
    def __init__(self, *, engine: Engine, recovery: RecoveryService, clock: Callable[[], datetime]) -> None:
        self.engine = engine
        self.recovery = recovery
        self.clock = clock

    def submit_talk(self, agent: RosterAgent, checkin_id: str, choice: str) -> str | None:
        """The agent sent their choice of person; returns why it was refused, or None."""
        with session_scope(self.engine) as session:
            outcome = self.recovery.talk.submit(
                session, agent=agent, checkin_id=checkin_id, choice=choice, now=self.clock()
            )
        if outcome in (TalkOutcome.SENT, TalkOutcome.NOTHING_OFFERED):
            return None
        return catalogue_for(self.engine, agent).t(f"recovery.talk.{outcome.value}")

    def answer_buddy(
        self, agent: RosterAgent | None, ask_id: str, free: bool, where: Delivered
    ) -> ClickNotice | None:
        """A buddy's "I'm free now" / "Can't right now"; a click that records nothing is told so."""
        if agent is None:
            return click_notice(catalogue("en"), "checkin.not_yours")
        with session_scope(self.engine) as session:
            outcome = self.recovery.talk.buddies.answer(
                session, buddy=agent, ask_id=ask_id, free=free, where=where, now=self.clock()
            )
        if outcome is BuddyAnswer.RECORDED:
            return None
        key = {BuddyAnswer.ALREADY: "buddy.already_answered", BuddyAnswer.NOT_YOURS: "checkin.not_yours"}
        return click_notice(catalogue_for(self.engine, agent), key.get(outcome, "checkin.expired"))
