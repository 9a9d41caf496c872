"""Protected breaks: the decisions, each in the caller's transaction.

An agent's "Take a breather" becomes a `breaks` row in the same transaction as their answer.
When Breather can change their status, the row waits (`requested`) for the break worker,
which talks to the phone system after Slack has had its ack, and the check-in says at once
that the break is being set (no buttons left to tap); otherwise the reply says honestly that
they need to set it themselves. The worker reports back through `started`, `retry_later`,
`failed` and `finished`, which write the state and queue the messages; the outcome replaces
the "being set" note, which is withdrawn if it has not gone out yet.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func
from sqlmodel import Session, col, select

from bot import outbox_keys as keys
from bot.checkins.policy import local_day_start
from bot.checkins.service import lock_prefs
from bot.config import ProductSettings, TeamConfig
from bot.delivery import Outbox
from bot.i18n import FALLBACK, Catalogue, catalogue, team_catalogue
from bot.languages import agent_catalogue
from bot.messenger import Delivered, Message
from bot.recovery.messages import (
    break_capped,
    break_failed,
    break_over,
    break_reply,
    break_self_service,
    break_setting,
    break_started,
    local_clock,
    restore_failed,
)
from bot.recovery.phone import PROVIDER_IDS, PhoneStatus, PhoneSystem
from bot.roster import Roster, RosterAgent
from storage.models import Break, BreakState
from storage.models.recovery import ACTIVE_STATES, TAKEN_STATES
from storage.upsert import insert_ignore


@dataclass(frozen=True)
class PhoneTarget:
    system: PhoneSystem
    user_id: str


class BreakService:
    def __init__(
        self,
        *,
        settings: ProductSettings,
        outbox: Outbox,
        phones: Mapping[str, PhoneSystem],
        roster: Callable[[], Roster],
        wake: threading.Event,
    ) -> None:
        self.settings = settings
        self.outbox = outbox
        self.phones = phones
        self.roster = roster
        self.wake = wake

    def phone_for(self, agent: RosterAgent) -> PhoneTarget | None:
        """The phone system Breather can change for this agent: one it has credentials for and
        the agent has an id in (in PROVIDER_IDS order)."""
        ids = agent.config.provider_ids()
        for provider, kind in PROVIDER_IDS.items():
            system = self.phones.get(provider)
            if system is not None and kind in ids:
                return PhoneTarget(system, ids[kind])
        return None

    def label(self, provider: str | None) -> str:
        system = self.phones.get(provider or "")
        return system.label if system is not None else (provider or "").title()

    # --- the agent asks ------------------------------------------------------------------

    def request(
        self, session: Session, *, agent: RosterAgent, checkin_id: str, where: Delivered, now: datetime
    ) -> None:
        """Record the break the agent asked for; reply at once when no phone call is needed."""
        lock_prefs(session, agent, now)  # one decision about an agent's breaks at a time
        cat = agent_catalogue(session, agent)
        minutes = self.settings.break_minutes
        active = session.exec(
            select(Break).where(
                col(Break.pseudonym).in_(agent.pseudonyms), col(Break.state).in_(ACTIVE_STATES)
            )
        ).first()
        if active is not None:
            # A second break on top of a running one would remember the break as "before".
            text = (
                cat.t("recovery.break.already", until=local_clock(cat, active.ends_at, agent.zone))
                if active.ends_at is not None
                else cat.t("recovery.break.starting")
            )
            self._reply(session, agent, checkin_id, where, break_reply(cat, text, break_minutes=minutes), now)
            return
        taken = session.exec(
            select(func.count())
            .select_from(Break)
            .where(
                col(Break.pseudonym).in_(agent.pseudonyms),
                col(Break.state).in_(TAKEN_STATES),
                col(Break.requested_at) >= local_day_start(agent.zone, now),
            )
        ).one()
        target = self.phone_for(agent)
        values = {
            "id": uuid.uuid4().hex,
            "request_key": keys.checkin(checkin_id),
            "team_id": agent.team.id,
            "pseudonym": agent.pseudonym,
            "kid": agent.kid,
            "minutes": minutes,
            "requested_at": now,
            "next_attempt_at": now,
        }
        if taken >= self.settings.breaks_per_day:
            insert_ignore(
                session, Break, {**values, "state": BreakState.CAPPED, "finished_at": now}, ["request_key"]
            )
            message = break_capped(cat, taken=taken, break_minutes=minutes)
            self._reply(session, agent, checkin_id, where, message, now)
        elif target is None:
            insert_ignore(
                session,
                Break,
                {**values, "state": BreakState.SELF_SERVICE, "finished_at": now},
                ["request_key"],
            )
            self._reply(
                session, agent, checkin_id, where, break_self_service(cat, break_minutes=minutes), now
            )
        else:
            # Who and where stay on the row only until the break is over (see `finished`).
            requested = insert_ignore(
                session,
                Break,
                {
                    **values,
                    "state": BreakState.REQUESTED,
                    "provider": target.system.provider,
                    "phone_user_id": target.user_id,
                    "message_channel": where.channel,
                    "message_ts": where.ts,
                },
                ["request_key"],
            )
            if requested:
                setting = break_setting(cat, phone=target.system.label, break_minutes=minutes)
                self._reply(session, agent, checkin_id, where, setting, now)
            self.wake.set()

    def _reply(
        self,
        session: Session,
        agent: RosterAgent,
        checkin_id: str,
        where: Delivered,
        message: Message,
        now: datetime,
    ) -> None:
        self.outbox.update(
            session,
            key=keys.checkin_answer(checkin_id),
            where=where,
            message=message,
            now=now,
            agent_id=agent.id,
        )

    # --- the worker reports --------------------------------------------------------------

    def _claimed(self, session: Session, row: Break, state: BreakState) -> Break | None:
        """The row, locked, if it is still in `state` and still held by the worker that claimed it."""
        current = session.get(Break, row.id, with_for_update=True)
        if current is None or current.state != state or current.claimed_at != row.claimed_at:
            return None
        return current

    def _agent(self, row: Break) -> RosterAgent | None:
        return self.roster().by_pseudonym(row.pseudonym)

    def _update_checkin(self, session: Session, row: Break, message: Message, now: datetime) -> None:
        if row.message_channel and row.message_ts:
            # A "being set" note still waiting (paced, or retried after a 429) would otherwise
            # land after the outcome and hide it.
            self.outbox.withdraw(session, key=keys.answer_to(row.request_key))  # `_reply`'s key
            agent = self._agent(row)
            self.outbox.update(
                session,
                key=f"break:{row.id}:reply",
                where=Delivered(channel=row.message_channel, ts=row.message_ts),
                message=message,
                now=now,
                agent_id=agent.id if agent else None,
            )

    def _team(self, row: Break) -> TeamConfig | None:
        """The row's team, if it is still in breather.yml (messages use its language and clock)."""
        return next((team for team in self.roster().teams if team.id == row.team_id), None)

    def remember_previous(self, session: Session, row: Break, previous: PhoneStatus) -> bool:
        """Store the status to come back to before changing it, so a retry after a crash never
        mistakes our own break for the agent's previous status."""
        current = self._claimed(session, row, BreakState.REQUESTED)
        if current is None:
            return False
        current.previous_status = previous.value
        session.add(current)
        return True

    def started(self, session: Session, row: Break, on_break: PhoneStatus, now: datetime) -> None:
        current = self._claimed(session, row, BreakState.REQUESTED)
        if current is None:
            return
        ends_at = now + timedelta(minutes=current.minutes)
        current.state, current.break_status = BreakState.ON_BREAK, on_break.value
        current.started_at, current.ends_at, current.next_attempt_at = now, ends_at, ends_at
        current.attempts, current.claimed_at, current.last_error = 0, None, None
        team = self._team(current)
        person = self._agent(current)
        zone = person.zone if person else (team.zone if team else ZoneInfo("UTC"))  # the agent's own clock
        cat = self._catalogue(session, current)
        message = break_started(
            cat,
            until=local_clock(cat, ends_at, zone),
            phone=self.label(current.provider),
            break_minutes=current.minutes,
        )
        self._update_checkin(session, current, message, now)
        current.message_channel = current.message_ts = None  # the check-in needs no further update
        session.add(current)

    def retry_later(self, session: Session, row: Break, *, at: datetime, error: str) -> None:
        current = self._claimed(session, row, BreakState(row.state))
        if current is None:
            return
        current.next_attempt_at, current.claimed_at, current.last_error = at, None, error[:200]
        session.add(current)

    def _catalogue(self, session: Session, row: Break) -> Catalogue:
        """The agent's own language; their team's if they left the roster since."""
        agent, team = self._agent(row), self._team(row)
        if agent is not None:
            return agent_catalogue(session, agent)
        return team_catalogue(team) if team else catalogue(FALLBACK)

    def failed(self, session: Session, row: Break, *, error: str, now: datetime) -> None:
        """The break could not be set: say so, so the agent sets it themselves."""
        current = self._claimed(session, row, BreakState.REQUESTED)
        if current is None:
            return
        cat = self._catalogue(session, current)
        if current.provider in self.phones:
            message = break_failed(cat, phone=self.label(current.provider), break_minutes=current.minutes)
        else:  # the phone system was unconfigured since the request
            message = break_self_service(cat, break_minutes=current.minutes)
        self._update_checkin(session, current, message, now)
        self._finish(session, current, BreakState.FAILED, now, error=error)

    def finished(
        self, session: Session, row: Break, outcome: BreakState, now: datetime, error: str = ""
    ) -> None:
        """The break is over: `RESTORED`, `KEPT` (changed by hand) or `RESTORE_FAILED`."""
        current = self._claimed(session, row, BreakState.ON_BREAK)
        if current is None:
            return
        agent = self._agent(current)
        if agent is not None:
            cat = agent_catalogue(session, agent)
            phone = self.label(current.provider)
            message = (
                restore_failed(cat, phone=phone)
                if outcome is BreakState.RESTORE_FAILED
                else break_over(cat, phone=phone, kept=outcome is BreakState.KEPT)
            )
            self.outbox.send_direct(
                session, key=f"break:{current.id}:over", to=agent.ref(), message=message, now=now
            )
        self._finish(session, current, outcome, now, error=error)

    def _finish(self, session: Session, row: Break, state: BreakState, now: datetime, *, error: str) -> None:
        # From here on only pseudonym, team, state and times remain.
        row.state, row.finished_at, row.claimed_at = state, now, None
        row.last_error = error[:200] or None
        row.phone_user_id = row.previous_status = row.break_status = None
        row.message_channel = row.message_ts = None
        session.add(row)
