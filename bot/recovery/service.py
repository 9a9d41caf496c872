"""What happens after an agent answers a check-in with "break" or "talk".

The check-in service records the answer; this follows it up in the same transaction: a break
is recorded for the break worker (or answered honestly at once), and a talk answer turns the
check-in into a way back to the choice of person.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from datetime import datetime

from sqlmodel import Session

from bot import outbox_keys as keys
from bot.away import AwaySignals
from bot.config import ProductSettings
from bot.delivery import Outbox
from bot.ids import CheckinAnswer
from bot.languages import ReaderLanguages, agent_catalogue
from bot.messenger import Delivered
from bot.recovery.breaks import BreakService
from bot.recovery.messages import talk_chosen
from bot.recovery.phone import PhoneSystem
from bot.recovery.talk import TalkService
from bot.roster import Roster, RosterAgent


class RecoveryService:
    def __init__(
        self,
        *,
        settings: ProductSettings,
        outbox: Outbox,
        phones: Mapping[str, PhoneSystem],
        roster: Callable[[], Roster],
        wake: threading.Event,
        readers: ReaderLanguages | None = None,
        away: AwaySignals | None = None,
    ) -> None:
        self.settings = settings
        self.outbox = outbox
        self.breaks = BreakService(settings=settings, outbox=outbox, phones=phones, roster=roster, wake=wake)
        self.talk = TalkService(settings=settings, outbox=outbox, roster=roster, readers=readers, away=away)

    def on_answer(
        self,
        session: Session,
        *,
        agent: RosterAgent,
        checkin_id: str,
        answer: CheckinAnswer,
        where: Delivered,
        now: datetime,
    ) -> bool:
        """Follow up a recorded answer; False leaves the reply to the check-in itself ("I'm OK")."""
        if answer is CheckinAnswer.BREAK:
            self.breaks.request(session, agent=agent, checkin_id=checkin_id, where=where, now=now)
            return True
        if answer is CheckinAnswer.TALK:
            message = talk_chosen(
                agent_catalogue(session, agent),
                checkin_id=checkin_id,
                break_minutes=self.settings.break_minutes,
            )
            self.outbox.update(
                session,
                key=keys.checkin_answer(checkin_id),
                where=where,
                message=message,
                now=now,
                agent_id=agent.id,
            )
            return True
        return False
