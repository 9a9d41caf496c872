"""A chosen person to talk to, and a buddy's answer to an ask: the recovery flow's clicks."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TypeVar

from sqlalchemy import Engine

from bot.away import LookUpFirst
from bot.checkins.messages import ClickNotice, click_notice
from bot.i18n import catalogue
from bot.languages import catalogue_for
from bot.messenger import Delivered
from bot.recovery.buddies import BuddyAnswer
from bot.recovery.service import RecoveryService
from bot.recovery.talk import TalkOutcome
from bot.roster import RosterAgent
from storage.db import session_scope

T = TypeVar("T")


class RecoveryActions:
    def __init__(self, *, engine: Engine, recovery: RecoveryService, clock: Callable[[], datetime]) -> None:
        self.engine = engine
        self.recovery = recovery
        self.clock = clock

    def submit_talk(self, agent: RosterAgent, checkin_id: str, choice: str) -> str | None:
        """The agent sent their choice of person; returns why it was refused, or None."""

        def submit() -> TalkOutcome:
            with session_scope(self.engine) as session:
                return self.recovery.talk.submit(
                    session, agent=agent, checkin_id=checkin_id, choice=choice, now=self.clock()
                )

        outcome = self._reading_statuses_outside(submit)
        if outcome in (TalkOutcome.SENT, TalkOutcome.NOTHING_OFFERED):
            return None
        return catalogue_for(self.engine, agent).t(f"recovery.talk.{outcome.value}")

    def answer_buddy(
        self, agent: RosterAgent | None, ask_id: str, free: bool, where: Delivered
    ) -> ClickNotice | None:
        """A buddy's "I'm free now" / "Can't right now"; a click that records nothing is told so."""
        if agent is None:
            return click_notice(catalogue("en"), "checkin.not_yours")

        def answer() -> BuddyAnswer:
            with session_scope(self.engine) as session:
                return self.recovery.talk.buddies.answer(
                    session, buddy=agent, ask_id=ask_id, free=free, where=where, now=self.clock()
                )

        outcome = self._reading_statuses_outside(answer)
        if outcome is BuddyAnswer.RECORDED:
            return None
        key = {BuddyAnswer.ALREADY: "buddy.already_answered", BuddyAnswer.NOT_YOURS: "checkin.not_yours"}
        return click_notice(catalogue_for(self.engine, agent), key.get(outcome, "checkin.expired"))

    def _reading_statuses_outside(self, work: Callable[[], T]) -> T:
        """Run a transaction that may choose a buddy: when it needs an out-of-office status not
        known yet, it rolls back, the status is read with no transaction open, and it runs again
        (then known: the second run decides; a third is there only for a cache that expired)."""
        for attempt in range(3):
            try:
                return work()
            except LookUpFirst as wanted:
                away = self.recovery.talk.buddies.away
                if attempt == 2 or away is None:
                    raise
                away.look_up_in_order(wanted.people, self.clock())
        raise AssertionError("unreachable")
