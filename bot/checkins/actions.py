"""A click on a check-in: record the answer; "Talk to someone" also opens the choice of person."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import Engine

from bot.checkins.messages import ClickNotice, click_notice
from bot.checkins.service import AnswerOutcome, CheckinService
from bot.i18n import catalogue
from bot.ids import ActionId, CheckinAnswer
from bot.languages import catalogue_for
from bot.messenger import Delivered, Messenger
from bot.recovery.service import RecoveryService
from bot.roster import RosterAgent
from storage.db import session_scope

_CLICK_NOTICES = {
    AnswerOutcome.ALREADY: "checkin.already_answered",
    AnswerOutcome.NOT_YOURS: "checkin.not_yours",
    AnswerOutcome.UNKNOWN: "checkin.expired",  # deleted by retention, or never ours
}


class CheckinActions:
    def __init__(
        self,
        *,
        engine: Engine,
        checkins: CheckinService,
        recovery: RecoveryService,
        messenger: Messenger,
        breaks_wake: threading.Event,
        clock: Callable[[], datetime],
    ) -> None:
        self.engine = engine
        self.checkins = checkins
        self.recovery = recovery
        self.messenger = messenger
        self.breaks_wake = breaks_wake
        self.clock = clock

    def answer(
        self,
        agent: RosterAgent | None,
        checkin_id: str,
        action: ActionId,
        where: Delivered,
        trigger: str | None = None,
    ) -> ClickNotice | None:
        """Record the answer; "Talk to someone" also opens the choice of person on `trigger`.

        A click that records nothing (answered already, someone else's check-in, one that no
        longer exists; `agent` None is someone not on the roster) returns what to tell only the
        person who clicked, since the check-in message itself does not change.
        """
        if agent is None:
            return click_notice(catalogue("en"), "checkin.not_yours")
        form = None
        with session_scope(self.engine) as session:
            outcome = self.checkins.answer(
                session, agent=agent, checkin_id=checkin_id, action=action, where=where, now=self.clock()
            )
            if trigger and CheckinAnswer.from_action(action) is CheckinAnswer.TALK:
                form = self.recovery.talk.form(session, agent=agent, checkin_id=checkin_id)
        # Now that a requested break is committed, the break worker can see it.
        self.breaks_wake.set()
        if form is not None and trigger:
            self.messenger.open_form(trigger, form)
            return None  # "Talk to someone" again on an answered check-in reopens the choice
        if outcome is AnswerOutcome.RECORDED:
            return None
        return click_notice(catalogue_for(self.engine, agent), _CLICK_NOTICES[outcome])
