"""The check-in flow: merge a call's facts, judge it, apply the nudge policy, queue the DM,
and record the agent's answer. Methods take a session and never commit: the caller owns
the unit of work, so call, check-in and outbox row are stored together or not at all.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol

from sqlalchemy import case, func, tuple_
from sqlmodel import Session, col, select

from bot import outbox_keys as keys
from bot.away import AwaySignals
from bot.checkins.messages import checkin_answered, checkin_prompt
from bot.checkins.policy import NudgeHistory, Refusal, local_day_start, refusal
from bot.checkins.scoring import CallFacts, Thresholds, score_call
from bot.config import ProductSettings
from bot.delivery import Outbox
from bot.events import MAX_SECONDS
from bot.holdbacks import HeldBack
from bot.ids import ActionId, CheckinAnswer
from bot.languages import agent_catalogue, catalogue_with
from bot.messenger import AgentRef, Delivered
from bot.metrics import Metrics
from bot.outbox_keys import Topic
from bot.roster import RosterAgent
from storage.models import AgentPrefs, Call, Checkin
from storage.upsert import insert_ignore

log = logging.getLogger(__name__)

KNOWN_CALLS = "breather.known_calls"  # session.info: calls already loaded in this unit of work
OWN_HISTORY = 50
TEAM_HISTORY = 200
_MERGED_FIELDS = (
    "started_at",
    "duration_s",
    "direction",
    "disconnected_by",
    "transfers",
    "hold_s",
    "sentiment",
    "csat",
    "queue",
)


class AnswerOutcome(StrEnum):
    RECORDED = "recorded"
    ALREADY = "already_answered"
    NOT_YOURS = "not_yours"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class CallUpdate:
    """A call event after intake: the facts, with the agent already pseudonymised. `call_keys`
    is how the call is stored (a keyed hash of the call id and the agent) under every live
    pseudonym key, the current one first."""

    provider: str
    call_keys: tuple[str, ...]
    ended_at: datetime | None
    facts: dict[str, Any]
    tags: tuple[str, ...]


class FollowUp(Protocol):
    """Acts on an answer beyond recording it (bot/recovery: a real break, someone to talk to)."""

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
        """True when it took care of the reply to the check-in."""
        ...


AWAY_LOOKUPS = "checkins.away_lookups"  # session.info: people whose status a check-in waits for


class CheckinService:
    def __init__(
        self,
        *,
        settings: ProductSettings,
        outbox: Outbox,
        metrics: Metrics,
        thresholds: Thresholds | None = None,
        follow_up: FollowUp | None = None,
        held_back: Callable[[HeldBack], None] | None = None,
        away: AwaySignals | None = None,
    ) -> None:
        self.settings = settings
        self.outbox = outbox
        self.metrics = metrics
        self.thresholds = thresholds or Thresholds()
        self.follow_up = follow_up
        self.held_back = held_back
        self.away = away  # the chat platform's out-of-office status

    # --- a call arrives (or is enriched) ------------------------------------------------

    def on_call(
        self, session: Session, *, agent: RosterAgent, update: CallUpdate, now: datetime
    ) -> Checkin | None:
        call = self._merge_call(session, agent=agent, update=update, now=now)
        assessment = score_call(
            CallFacts(
                duration_s=call.duration_s,
                disconnected_by=call.disconnected_by,
                transfers=call.transfers,
                hold_s=call.hold_s,
                sentiment=call.sentiment,
                csat=call.csat,
                tags=tuple(call.tags),
            ),
            durations=lambda: self._durations(session, call, agent),
            abuse_markers=self.settings.abuse_markers,
            thresholds=self.thresholds,
        )
        was_hard = call.hard
        call.hard, call.signals = assessment.hard, [s.value for s in assessment.signals]
        session.add(call)
        if not assessment.hard:
            return None  # written with the rest of the batch: one INSERT for many easy calls
        # A call still waiting for its first INSERT has no id yet, so no check-in can refer to it.
        new = call in session.new
        session.flush()  # the check-in refers to the call's id
        if not was_hard:
            self.metrics.hard_calls.inc()
        return self._maybe_check_in(session, agent=agent, call=call, now=now, new=new)

    @staticmethod
    def load_calls(session: Session, keys: list[tuple[str, tuple[str, ...]]]) -> None:
        """Fetch (and lock) the calls a batch of events is about in one query, so merging each
        event needs no query of its own. Keys not found are remembered as new calls.
        `keys` holds (provider, the call's stored key under every live pseudonym key)."""
        known: dict[tuple[str, str], Call | None] = session.info.setdefault(KNOWN_CALLS, {})
        wanted = [
            (provider, forms) for provider, forms in dict.fromkeys(keys) if (provider, forms[0]) not in known
        ]
        if not wanted:
            return
        pairs = [(provider, form) for provider, forms in wanted for form in forms]
        found = session.exec(
            select(Call).where(tuple_(col(Call.provider), col(Call.call_id)).in_(pairs)).with_for_update()
        ).all()
        by_key = {(call.provider, call.call_id): call for call in found}
        for provider, forms in wanted:
            call = next((by_key[(provider, f)] for f in forms if (provider, f) in by_key), None)
            known[(provider, forms[0])] = call

    def _merge_call(self, session: Session, *, agent: RosterAgent, update: CallUpdate, now: datetime) -> Call:
        known: dict[tuple[str, str], Call | None] = session.info.setdefault(KNOWN_CALLS, {})
        key = (update.provider, update.call_keys[0])
        if key in known:
            call = known[key]
        else:
            call = session.exec(
                select(Call)
                .where(col(Call.provider) == update.provider, col(Call.call_id).in_(update.call_keys))
                .with_for_update()
            ).first()
        if call is None:
            # Another process inserting the same call at the same moment makes the flush fail;
            # the event processor then redoes the event on its own and finds the row.
            call = Call(
                provider=update.provider,
                call_id=update.call_keys[0],
                team_id=agent.team.id,
                pseudonym=agent.pseudonym,
                kid=agent.kid,
                ended_at=update.ended_at or now,
                tags=[],
                signals=[],
                hard=False,
                created_at=now,
                updated_at=now,
            )
            known[key] = call
            session.add(call)
        # Late events only fill in or refine facts; a missing fact never erases a known one.
        for name in _MERGED_FIELDS:
            value = update.facts.get(name)
            if value is not None:
                setattr(call, name, value)
        if update.ended_at is not None:
            # A call reported without its length is measured from its start to its first end,
            # once: Twilio reports when the talk began (reservation.accepted) apart from the end.
            if call.duration_s is None and call.started_at is not None:
                span = (update.ended_at - call.started_at).total_seconds()
                if 0 <= span <= MAX_SECONDS:
                    call.duration_s = span
            call.ended_at = update.ended_at
        known_tags = {tag.lower() for tag in call.tags}
        call.tags = [*call.tags, *(tag for tag in update.tags if tag.lower() not in known_tags)]
        call.updated_at = now
        return call

    def _durations(self, session: Session, call: Call, agent: RosterAgent) -> tuple[list[float], list[float]]:
        def recent(where: Any, limit: int) -> list[float]:
            statement = (
                select(col(Call.duration_s))
                .where(where, col(Call.id) != call.id, col(Call.duration_s).is_not(None))
                .order_by(col(Call.ended_at).desc())
                .limit(limit)
            )
            return [float(d) for d in session.exec(statement) if d is not None]

        own = recent(col(Call.pseudonym).in_(agent.pseudonyms), OWN_HISTORY)
        if len(own) >= self.thresholds.min_own_calls:
            return own, []
        return own, recent(col(Call.team_id) == call.team_id, TEAM_HISTORY)

    def _maybe_check_in(
        self, session: Session, *, agent: RosterAgent, call: Call, now: datetime, new: bool = False
    ) -> Checkin | None:
        if not new and session.exec(select(col(Checkin.id)).where(col(Checkin.call_id) == call.id)).first():
            return None  # a late signal re-judged the call; the agent was already asked
        prefs = lock_prefs(session, agent, now)  # serialises decisions per agent across processes
        today = case((col(Checkin.created_at) >= local_day_start(agent.zone, now), 1), else_=0)
        last_sent_at, sent_today = session.exec(
            select(func.max(col(Checkin.created_at)), func.coalesce(func.sum(today), 0)).where(
                col(Checkin.pseudonym).in_(agent.pseudonyms)
            )
        ).one()
        history = NudgeHistory(
            paused=is_paused(prefs, now), last_sent_at=last_sent_at, sent_today=int(sent_today)
        )
        reason = refusal(
            now=now,
            call_ended_at=call.ended_at,
            history=history,
            shift=agent.shift,
            zone=agent.zone,
            settings=self.settings,
            day_off=agent.day_off,
        )
        if reason is None and self.away is not None:
            # Asked last, so the platform is only asked when a check-in would otherwise go out;
            # never from inside this transaction: the event stays unprocessed, the processor
            # reads the status after its commit and processes the event again (bot/intake.py).
            if not self.away.known(agent.ref()):
                session.info.setdefault(AWAY_LOOKUPS, []).append(agent.ref())
                return None
            if self.away.away_until(agent.ref(), now, ask=False):
                reason = Refusal.AWAY
        if reason is not None:
            # Neither counted nor logged: beside the phone system's call log, a count or a line
            # saying a hard call brought no check-in (paused, say) would tell on the agent.
            # Only the demo's console listens (bot/holdbacks.py): in production nothing is kept.
            if self.held_back is not None:
                self.held_back(HeldBack(agent.id, "checkin", reason.value, now, last_checkin_at=last_sent_at))
            return None
        checkin = Checkin(
            id=uuid.uuid4().hex,
            call_id=call.id or 0,
            team_id=agent.team.id,
            pseudonym=agent.pseudonym,
            kid=call.kid,
            reasons=list(call.signals),
            created_at=now,
        )
        if not insert_ignore(session, Checkin, checkin.model_dump(), ["call_id"]):
            return None
        message = checkin_prompt(
            catalogue_with(prefs, agent),  # the preferences just locked: no second read
            checkin_id=checkin.id,
            signals=checkin.reasons,
            break_minutes=self.settings.break_minutes,
            transfers=call.transfers,
        )
        self.outbox.send_direct(
            session,
            key=keys.checkin(checkin.id),
            to=agent.ref(),
            message=message,
            now=now,
            topic=Topic.CHECKIN,
        )
        return checkin

    # --- after the platform was asked whether someone is away ---------------------------

    @staticmethod
    def lookups_wanted(session: Session) -> list[AgentRef]:
        """Whose out-of-office status the check-ins decided in this transaction are waiting
        for (their events stay unprocessed); read them with `look_up` after the commit."""
        return list(session.info.get(AWAY_LOOKUPS, []))

    def look_up(self, people: list[AgentRef]) -> None:
        """Read the statuses: with no transaction open."""
        if self.away is not None:
            self.away.look_up(people)

    # --- the agent answers ------------------------------------------------------------

    def answer(
        self,
        session: Session,
        *,
        agent: RosterAgent,
        checkin_id: str,
        action: ActionId,
        where: Delivered,
        now: datetime,
    ) -> AnswerOutcome:
        checkin = session.get(Checkin, checkin_id, with_for_update=True)
        if checkin is None:
            return AnswerOutcome.UNKNOWN
        if not agent.owns(checkin.pseudonym):
            log.warning("a check-in button was clicked by someone it was not sent to; nothing recorded")
            return AnswerOutcome.NOT_YOURS
        if checkin.answer is not None:
            return AnswerOutcome.ALREADY
        answer = CheckinAnswer.from_action(action)
        checkin.answer, checkin.answered_at = answer.value, now
        session.add(checkin)
        if self.follow_up is not None and self.follow_up.on_answer(
            session, agent=agent, checkin_id=checkin.id, answer=answer, where=where, now=now
        ):
            return AnswerOutcome.RECORDED
        message = checkin_answered(
            agent_catalogue(session, agent), answer=answer, break_minutes=self.settings.break_minutes
        )
        self.outbox.update(
            session,
            key=keys.checkin_answer(checkin.id),
            where=where,
            message=message,
            now=now,
            agent_id=agent.id,
        )
        return AnswerOutcome.RECORDED


def is_paused(prefs: AgentPrefs | None, now: datetime) -> bool:
    """Paused now: a pause whose end has passed counts as over even before the job notices."""
    return bool(prefs and prefs.paused and (prefs.paused_until is None or prefs.paused_until > now))


def find_prefs(session: Session, agent: RosterAgent, *, lock: bool = False) -> AgentPrefs | None:
    """The agent's switches, under whichever live key they are stored (a key rotation moves
    them to the current one)."""
    statement = select(AgentPrefs).where(col(AgentPrefs.pseudonym).in_(agent.pseudonyms))
    rows = session.exec(statement.with_for_update() if lock else statement).all()
    return min(rows, key=lambda row: agent.pseudonyms.index(row.pseudonym), default=None)


def lock_prefs(session: Session, agent: RosterAgent, now: datetime) -> AgentPrefs:
    """The agent's switches, row-locked: decisions about one agent happen one at a time."""
    prefs = find_prefs(session, agent, lock=True)
    if prefs is not None:
        return prefs
    insert_ignore(
        session,
        AgentPrefs,
        {"pseudonym": agent.pseudonym, "kid": agent.kid, "paused": False, "updated_at": now},
        ["pseudonym"],
    )
    return session.exec(
        select(AgentPrefs).where(col(AgentPrefs.pseudonym) == agent.pseudonym).with_for_update()
    ).one()


def switch_pref(session: Session, agent: RosterAgent, now: datetime, name: str, value: Any) -> bool:
    """Set one of the agent's switches under the row lock; False when it already held `value`."""
    prefs = lock_prefs(session, agent, now)
    if getattr(prefs, name) == value:
        return False
    setattr(prefs, name, value)
    prefs.updated_at = now
    session.add(prefs)
    return True
