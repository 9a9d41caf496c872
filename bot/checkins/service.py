"""The check-in flow: merge a call's facts, judge it, apply the nudge policy, queue the DM,
and record the agent's answer. Methods take a session and never commit: the caller owns
the unit of work, so call, check-in and outbox row are stored together or not at all.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol

from sqlalchemy import case, func
from sqlalchemy.orm import make_transient_to_detached
from sqlmodel import Session, col, select

from bot import outbox_keys as keys
from bot.away import AwaySignals
from bot.checkins.messages import checkin_answered, checkin_prompt
from bot.checkins.policy import NudgeHistory, Refusal, local_day_start, refusal
from bot.checkins.scoring import Assessment, CallFacts, Durations, Thresholds, score_call
from bot.config import ProductSettings
from bot.delivery import Outbox
from bot.events import MAX_SECONDS, CallEnded
from bot.holdbacks import HeldBack
from bot.ids import ActionId, CheckinAnswer
from bot.languages import agent_catalogue, catalogue_with
from bot.messenger import AgentRef, Delivered
from bot.metrics import Metrics
from bot.outbox_keys import Topic
from bot.roster import RosterAgent
from storage.models import AgentPrefs, Call, Checkin
from storage.upsert import insert_ignore, insert_ignore_many, insert_many

log = logging.getLogger(__name__)

# session.info: the calls this unit of work knows, by (provider, key): loaded (None: not
# stored), or new and not yet written (no id; see `write_calls`).
KNOWN_CALLS = "breather.known_calls"
# What a new call's INSERT gives: every column but the id the database assigns.
_CALL_COLUMNS = tuple(name for name in Call.model_fields if name != "id")
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


@dataclass(eq=False)
class HardCall:
    """A call judged hard, waiting for `decide`: what the check-in is made of is taken when the
    call is judged (a later event about the same call in the batch may change the call)."""

    agent: RosterAgent
    call: Call
    signals: list[str]
    ended_at: datetime
    transfers: int | None
    now: datetime
    new: bool  # inserted in this transaction: it cannot have a check-in from elsewhere
    waits: bool = False  # for the agent's out-of-office status (see `lookups_wanted`)


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
        self._reader: ThreadPoolExecutor | None = None  # status reads off the caller's thread (`read_soon`)

    # --- a call is announced (the webhook, before the event is processed) ----------------

    def read_ahead(self, calls: Sequence[tuple[RosterAgent, CallEnded]]) -> None:
        """Start reading the out-of-office status of the agents whose call is hard by its own
        facts (an abusive tag, two signals), on a reading thread, and return at once: by the
        time the event processor decides the check-in the answer is usually known, and the
        check-in does not wait for a read after its batch. A call that only the agent's
        history makes hard, or one whose check-in the policy then holds back, is read when
        it is decided, or not at all; a read started here costs the same ration as that one."""
        if self.away is None:
            return
        people = [agent.ref() for agent, call in calls if self._looks_hard(call)]
        if people:
            self.read_soon(people)

    def read_soon(self, people: list[AgentRef]) -> Future[None]:
        """`look_up` on a reading thread: done when the statuses are known (or the read failed,
        which counts as "not away"). Two threads, so a batch's read seldom queues behind a read
        ahead (a read of someone already being read waits for that one, bot/away.py)."""
        if self._reader is None:
            self._reader = ThreadPoolExecutor(max_workers=2, thread_name_prefix="breather-status")
        return self._reader.submit(self._look_up_logged, people)

    def _look_up_logged(self, people: list[AgentRef]) -> None:
        try:
            self.look_up(people)
        except Exception:  # never expected (a failed read fails open inside); decide anyway
            log.exception("reading out-of-office statuses failed unexpectedly")

    def close(self) -> None:
        """At shutdown: reads not started are dropped (a check-in reads again when decided)."""
        if self._reader is not None:
            self._reader.shutdown(wait=False, cancel_futures=True)

    def _looks_hard(self, call: CallEnded) -> bool:
        no_history: tuple[list[float], list[float]] = ([], [])
        return self._score(call, lambda: no_history).hard

    def _score(self, call: Call | CallEnded, durations: Durations) -> Assessment:
        """Score a stored call, or one event about a call on its own facts."""
        facts = CallFacts(
            duration_s=call.duration_s,
            disconnected_by=call.disconnected_by,
            transfers=call.transfers,
            hold_s=call.hold_s,
            sentiment=call.sentiment,
            csat=call.csat,
            tags=tuple(call.tags),
        )
        return score_call(
            facts, durations=durations, abuse_markers=self.settings.abuse_markers, thresholds=self.thresholds
        )

    # --- a call arrives (or is enriched) ------------------------------------------------

    def on_call(
        self, session: Session, *, agent: RosterAgent, update: CallUpdate, now: datetime
    ) -> Checkin | None:
        """Merge and judge the call, and check in if it was hard and the policy allows."""
        hard = self.judge_call(session, agent=agent, update=update, now=now)
        checkins = self.decide(session, [hard] if hard is not None else [])  # writes the call too
        return checkins[0] if checkins else None

    def judge_call(
        self, session: Session, *, agent: RosterAgent, update: CallUpdate, now: datetime
    ) -> HardCall | None:
        """Merge and score the call (a new one is written by `write_calls`); a hard call comes
        back to be handed to `decide`, with many others of the same batch."""
        call = self._merge_call(session, agent=agent, update=update, now=now)
        assessment = self._score(call, lambda: self._durations(session, call, agent))
        was_hard = call.hard
        call.hard, call.signals = assessment.hard, [s.value for s in assessment.signals]
        if not assessment.hard:
            return None
        if not was_hard:
            self.metrics.hard_calls.inc()
        # A call still waiting for its first INSERT has no check-in yet: no need to look for one.
        return HardCall(agent, call, list(call.signals), call.ended_at, call.transfers, now, call.id is None)

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
        # By the keyed hashes (the unique index leads with them; a (provider, hash) pair list
        # would make PostgreSQL scan every call of the provider until it has statistics),
        # locked in one order in every process (replicas), so overlapping batches wait for
        # each other instead of deadlocking. A hash is matched to its provider below.
        found = session.exec(
            select(Call)
            .where(
                col(Call.call_id).in_([form for _, forms in wanted for form in forms]),
                col(Call.provider).in_({provider for provider, _ in wanted}),
            )
            .order_by(col(Call.id))
            .with_for_update()
        ).all()
        by_key = {(call.provider, call.call_id): call for call in found}
        for provider, forms in wanted:
            call = next((by_key[(provider, f)] for f in forms if (provider, f) in by_key), None)
            known[(provider, forms[0])] = call

    @staticmethod
    def write_calls(session: Session) -> None:
        """INSERT the calls this unit of work made, in one statement, and make them ordinary
        rows of the session (their later changes are flushed as UPDATEs). The ORM would write
        them at its next flush, but building each through the unit of work costs several times
        this; a call another process stored meanwhile makes the INSERT fail, as a flush would."""
        known: dict[tuple[str, str], Call | None] = session.info.get(KNOWN_CALLS, {})
        new = [call for call in known.values() if call is not None and call.id is None]
        if not new:
            return
        rows = [{name: getattr(call, name) for name in _CALL_COLUMNS} for call in new]
        ids = {
            (key, provider): id_
            for key, provider, id_ in insert_many(session, Call, rows, ["call_id", "provider", "id"])
        }
        for call in new:
            call.id = ids[(call.call_id, call.provider)]
            make_transient_to_detached(call)
            session.add(call)

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
            # Written by `write_calls`. Another process inserting the same call at the same
            # moment makes that fail; the event processor then redoes the event on its own and
            # finds the row.
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
        self.write_calls(session)  # the calls before this one in the batch count too

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

    def decide(self, session: Session, hard: Sequence[HardCall]) -> list[Checkin | None]:
        """Decide the check-ins of a batch's hard calls, in order, with a fixed number of queries
        whatever the batch's size: the calls' existing check-ins, the agents' preferences
        (locked, which serialises decisions per agent across processes), their check-in history,
        then one INSERT for the check-ins and one for their DMs. Returns each call's check-in.
        A call whose agent's out-of-office status is not known yet gets none: the agent is
        added to `lookups_wanted` and the event is processed again after the look-up.
        Called for every unit of work that judged calls, hard or not: it writes the new ones."""
        self.write_calls(session)  # and so the hard calls' ids, for their check-ins
        if not hard:
            return []
        asked = _already_asked(session, [h.call.id for h in hard if not h.new])
        undecided = [h for h in hard if h.call.id not in asked]
        agents = list({h.agent.pseudonym: h.agent for h in undecided}.values())
        prefs = lock_prefs_many(session, agents, undecided[0].now) if undecided else {}
        starts = {h.agent.pseudonym: local_day_start(h.agent.zone, h.now) for h in reversed(undecided)}
        history = _history(session, agents, starts)
        made: list[tuple[HardCall, Checkin]] = []
        for h in undecided:
            agent, now = h.agent, h.now
            if h.call.id in asked:
                continue  # a late signal re-judged the call; the agent was already asked
            start = local_day_start(agent.zone, now)
            if start != starts[agent.pseudonym]:  # the batch crossed the agent's midnight
                starts[agent.pseudonym] = start
                earlier = [c.created_at for x, c in made if x.agent.pseudonym == agent.pseudonym]
                last, today = _history(session, [agent], starts)[agent.pseudonym]
                times = [t for t in (last, *earlier) if t is not None]
                history[agent.pseudonym] = (
                    max(times, default=None),
                    today + sum(t >= start for t in earlier),
                )
            last_sent_at, sent_today = history[agent.pseudonym]
            agent_prefs = prefs[agent.pseudonym]
            reason = refusal(
                now=now,
                call_ended_at=h.ended_at,
                history=NudgeHistory(
                    paused=is_paused(agent_prefs, now), last_sent_at=last_sent_at, sent_today=sent_today
                ),
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
                    h.waits = True
                    continue
                if self.away.away_until(agent.ref(), now, ask=False):
                    reason = Refusal.AWAY
            if reason is not None:
                # Neither counted nor logged: beside the phone system's call log, a count or a line
                # saying a hard call brought no check-in (paused, say) would tell on the agent.
                # Only the demo's console listens (bot/holdbacks.py): in production nothing is kept.
                if self.held_back is not None:
                    self.held_back(
                        HeldBack(agent.id, "checkin", reason.value, now, last_checkin_at=last_sent_at)
                    )
                continue
            checkin = Checkin(
                id=uuid.uuid4().hex,
                call_id=h.call.id or 0,
                team_id=agent.team.id,
                pseudonym=agent.pseudonym,
                kid=h.call.kid,
                reasons=h.signals,
                created_at=now,
            )
            made.append((h, checkin))
            asked.add(checkin.call_id)
            history[agent.pseudonym] = (now, sent_today + 1)
        stored = insert_ignore_many(session, Checkin, [c.model_dump() for _, c in made], ["call_id"])
        made = [(h, c) for h, c in made if (c.call_id,) in stored]
        self.outbox.send_direct_many(
            session,
            [
                (
                    keys.checkin(c.id),
                    h.agent.ref(),
                    checkin_prompt(
                        catalogue_with(prefs[h.agent.pseudonym], h.agent),  # the preferences just locked
                        checkin_id=c.id,
                        signals=c.reasons,
                        break_minutes=self.settings.break_minutes,
                        transfers=h.transfers,
                    ),
                    h.now,
                )
                for h, c in made
            ],
            topic=Topic.CHECKIN,
        )
        checkins = {id(h): c for h, c in made}
        return [checkins.get(id(h)) for h in hard]

    # --- after the platform was asked whether someone is away ---------------------------

    @staticmethod
    def lookups_wanted(session: Session) -> list[AgentRef]:
        """Whose out-of-office status the check-ins decided in this transaction are waiting
        for (their events stay unprocessed); read them with `look_up` after the commit."""
        return list(session.info.get(AWAY_LOOKUPS, []))

    def look_up(self, people: list[AgentRef]) -> None:
        """Read the statuses: with no transaction open. One by one (several at a time), never
        in bulk: a batch of calls wants a few people's statuses, all day long, and Slack's bulk
        read (users.list, Tier 2: about 20 calls a minute, paging through the workspace) would
        soon be refused, holding back the survey rounds it is there for; users.info is Tier 4
        and rationed (bot/away.py)."""
        if self.away is not None:
            self.away.look_up(people, bulk=False)

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


def lock_prefs_many(session: Session, agents: Sequence[RosterAgent], now: datetime) -> dict[str, AgentPrefs]:
    """`lock_prefs` for many agents in one query (two more when some have none yet), keyed by
    each agent's current pseudonym. Rows are locked in one order in every process, so two
    processes locking overlapping sets wait for each other instead of deadlocking."""

    def locked(pseudonyms: list[str]) -> list[AgentPrefs]:
        statement = select(AgentPrefs).where(col(AgentPrefs.pseudonym).in_(pseudonyms))
        return list(session.exec(statement.order_by(col(AgentPrefs.pseudonym)).with_for_update()).all())

    rows = {row.pseudonym: row for row in locked([p for agent in agents for p in agent.pseudonyms])}
    missing = [agent for agent in agents if not any(p in rows for p in agent.pseudonyms)]
    if missing:
        new = [{"pseudonym": a.pseudonym, "kid": a.kid, "paused": False, "updated_at": now} for a in missing]
        insert_ignore_many(session, AgentPrefs, new, ["pseudonym"])
        rows.update((row.pseudonym, row) for row in locked([agent.pseudonym for agent in missing]))
    # Under whichever live key they are stored, the current one first (as `find_prefs`).
    return {agent.pseudonym: next(rows[p] for p in agent.pseudonyms if p in rows) for agent in agents}


def _already_asked(session: Session, call_ids: list[int | None]) -> set[int | None]:
    """Which of these calls already have a check-in."""
    if not call_ids:
        return set()
    return set(session.exec(select(col(Checkin.call_id)).where(col(Checkin.call_id).in_(call_ids))).all())


def _history(
    session: Session, agents: Sequence[RosterAgent], starts: dict[str, datetime]
) -> dict[str, tuple[datetime | None, int]]:
    """Each agent's last check-in and how many they got since `starts` (the start of their own
    day), in one query: (last check-in time, check-ins today), keyed by current pseudonym."""
    if not agents:
        return {}
    by_start: dict[datetime, list[str]] = {}
    for agent in agents:
        by_start.setdefault(starts[agent.pseudonym], []).extend(agent.pseudonyms)
    today = case(
        *(
            (col(Checkin.pseudonym).in_(pseudonyms) & (col(Checkin.created_at) >= start), 1)
            for start, pseudonyms in by_start.items()
        ),
        else_=0,
    )
    found = {
        pseudonym: (last, int(count))
        for pseudonym, last, count in session.exec(
            select(
                col(Checkin.pseudonym), func.max(col(Checkin.created_at)), func.coalesce(func.sum(today), 0)
            )
            .where(col(Checkin.pseudonym).in_([p for agent in agents for p in agent.pseudonyms]))
            .group_by(col(Checkin.pseudonym))
        )
    }
    history: dict[str, tuple[datetime | None, int]] = {}
    for agent in agents:
        mine = [found[p] for p in agent.pseudonyms if p in found]
        lasts = [last for last, _ in mine if last is not None]
        history[agent.pseudonym] = (max(lasts, default=None), sum(count for _, count in mine))
    return history


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
