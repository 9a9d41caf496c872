"""Breather buddies (issue 16): team mates who offered to be asked for a chat after a hard call.

"A buddy who's on shift now" names nobody in advance. On submit one buddy is chosen: on the
asker's team, opted in, on shift, not paused, not the asker, under `buddy_asks_per_day` asks
today, and the one asked least recently, so the asks rotate. The buddy gets one discreet DM
("I'm free now" / "Can't right now"); the asker hears back in a line, and "can't" finds another
buddy once. Nothing about the call is shared; nothing here reaches a manager.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from sqlalchemy import func
from sqlmodel import Session, col, select

from bot.away import AwaySignals, LookUpFirst
from bot.checkins.policy import in_shift, local_day_start
from bot.checkins.service import find_prefs, is_paused
from bot.config import ProductSettings
from bot.delivery import Outbox
from bot.i18n import Catalogue
from bot.ids import ActionId
from bot.languages import agent_catalogue
from bot.messenger import Button, Buttons, Delivered, Message, Note, Text
from bot.outbox_keys import Topic
from bot.roster import Roster, RosterAgent
from storage.models import BuddyAsk, TalkRequest

ASK_BLOCK_ID = "buddy"
ROTATION_WINDOW = timedelta(days=7)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class BuddyAnswer(StrEnum):
    RECORDED = "recorded"
    ALREADY = "already"
    NOT_YOURS = "not_yours"
    UNKNOWN = "unknown"


def buddy_ask(cat: Catalogue, *, ask_id: str, requester: str) -> Message:
    """What the buddy reads: who would like a chat, and nothing about why."""
    text = cat.t("buddy.ask", name=requester)
    buttons = Buttons(
        block_id=ASK_BLOCK_ID,
        buttons=(
            Button(
                action=ActionId.BUDDY_FREE.value, label=cat.t("buddy.free"), value=ask_id, style="primary"
            ),
            Button(action=ActionId.BUDDY_CANT.value, label=cat.t("buddy.cant"), value=ask_id),
        ),
    )
    return Message(text=text, parts=(Text(text=text), buttons, Note(text=cat.t("buddy.ask_note"))))


def _line(text: str) -> Message:
    return Message(text=text, parts=(Text(text=text),))


class Buddies:
    def __init__(
        self,
        *,
        settings: ProductSettings,
        outbox: Outbox,
        roster: Callable[[], Roster],
        away: AwaySignals | None = None,
    ) -> None:
        self.settings = settings
        self.outbox = outbox
        self.roster = roster
        self.away = away  # the chat platform's out-of-office status: no asks on holiday

    def offered(self, session: Session, agent: RosterAgent) -> bool:
        """Whether anyone else on the agent's team has offered to be a buddy (the form's choice)."""
        return any(True for _ in self._volunteers(session, agent, ()))

    def _volunteers(
        self, session: Session, asker: RosterAgent, excluded: Iterable[str]
    ) -> Iterable[RosterAgent]:
        skip = {asker.id, *excluded}
        for mate in self.roster().agents():
            if mate.team.id != asker.team.id or mate.id in skip:
                continue
            prefs = find_prefs(session, mate)
            if prefs is not None and prefs.buddy:
                yield mate

    def choose(
        self, session: Session, asker: RosterAgent, now: datetime, excluded: Iterable[str] = ()
    ) -> RosterAgent | None:
        """The buddy to ask now, or None when nobody may be asked."""
        eligible: list[tuple[tuple[datetime, str], RosterAgent]] = []
        for mate in self._volunteers(session, asker, excluded):
            if is_paused(find_prefs(session, mate), now):
                continue
            if not in_shift(mate.shift, mate.zone, now, timedelta(0), mate.day_off):
                continue
            mine = col(BuddyAsk.pseudonym).in_(mate.pseudonyms)
            today = session.exec(
                select(func.count()).where(mine, col(BuddyAsk.created_at) >= local_day_start(mate.zone, now))
            ).one()
            if today >= self.settings.buddy_asks_per_day:
                continue
            last = session.exec(
                select(func.max(col(BuddyAsk.created_at))).where(
                    mine, col(BuddyAsk.created_at) >= now - ROTATION_WINDOW
                )
            ).one()
            eligible.append(((last or _EPOCH, mate.id), mate))  # least recently asked first
        # The platform is asked last, in that order, so usually about one person only; never
        # from inside the transaction: whoever is not known yet is read by the caller after a
        # rollback, and the transaction runs again (LookUpFirst).
        ordered = [mate for _, mate in sorted(eligible, key=lambda item: item[0])]
        for i, mate in enumerate(ordered):
            if self.away is None:
                return mate
            if not self.away.known(mate.ref()):
                raise LookUpFirst(tuple(m.ref() for m in ordered[i:]))
            if self.away.away_until(mate.ref(), now, ask=False) is None:
                return mate
        return None

    def ask(
        self,
        session: Session,
        *,
        asker: RosterAgent,
        buddy: RosterAgent,
        request_id: str,
        attempt: int,
        now: datetime,
    ) -> None:
        ask = BuddyAsk(
            id=uuid.uuid4().hex,
            request_id=request_id,
            team_id=asker.team.id,
            pseudonym=buddy.pseudonym,
            kid=buddy.kid,
            attempt=attempt,
            created_at=now,
        )
        session.add(ask)
        self.outbox.send_direct(
            session,
            key=f"buddy:{ask.id}:ask",
            to=buddy.ref(),
            message=buddy_ask(agent_catalogue(session, buddy), ask_id=ask.id, requester=asker.name),
            now=now,
            topic=Topic.BUDDY,
        )

    def answer(
        self,
        session: Session,
        *,
        buddy: RosterAgent,
        ask_id: str,
        free: bool,
        where: Delivered,
        now: datetime,
    ) -> BuddyAnswer:
        """The buddy's "I'm free now" or "Can't right now": recorded once, the asker told."""
        ask = session.get(BuddyAsk, ask_id, with_for_update=True)
        if ask is None:
            return BuddyAnswer.UNKNOWN
        if not buddy.owns(ask.pseudonym):
            return BuddyAnswer.NOT_YOURS
        if ask.state != "asked":
            return BuddyAnswer.ALREADY
        ask.state, ask.answered_at = ("free" if free else "cant"), now
        session.add(ask)
        request = session.get(TalkRequest, ask.request_id)
        asker = self.roster().by_pseudonym(request.pseudonym) if request else None
        cat = agent_catalogue(session, buddy)
        if asker is None:
            self._reply(session, ask, where, cat.t("buddy.thanks_cant"), buddy, now)
            return BuddyAnswer.RECORDED
        their = agent_catalogue(session, asker)
        if free:
            self._reply(session, ask, where, cat.t("buddy.thanks_free", name=asker.name), buddy, now)
            self._tell(session, ask, asker, their.t("buddy.found", name=buddy.name), now)
            return BuddyAnswer.RECORDED
        self._reply(session, ask, where, cat.t("buddy.thanks_cant"), buddy, now)
        if ask.attempt == 1:
            asked = session.exec(select(BuddyAsk).where(col(BuddyAsk.request_id) == ask.request_id)).all()
            excluded = [a.id for a in self.roster().agents() if any(a.owns(x.pseudonym) for x in asked)]
            another = self.choose(session, asker, now, excluded)
            if another is not None:
                self.ask(session, asker=asker, buddy=another, request_id=ask.request_id, attempt=2, now=now)
                return BuddyAnswer.RECORDED
        self._tell(session, ask, asker, their.t("buddy.none_free"), now)
        return BuddyAnswer.RECORDED

    def _reply(
        self, session: Session, ask: BuddyAsk, where: Delivered, text: str, buddy: RosterAgent, now: datetime
    ) -> None:
        self.outbox.update(
            session,
            key=f"buddy:{ask.id}:answer",
            where=where,
            message=_line(text),
            now=now,
            agent_id=buddy.id,
        )

    def _tell(self, session: Session, ask: BuddyAsk, asker: RosterAgent, text: str, now: datetime) -> None:
        self.outbox.send_direct(
            session,
            key=f"buddy:{ask.id}:heard",
            to=asker.ref(),
            message=_line(text),
            now=now,
            topic=Topic.BUDDY,
        )
