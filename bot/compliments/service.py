"""The compliment flow: a kind customer comment arrives (already scrubbed), the agent is asked
privately, and only their click shares it; kudos between team mates; the weekly roll-up.

Methods take a session and never commit: the caller owns the unit of work, so the compliment,
its state and the outbox rows it causes are stored together or not at all.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import CursorResult, delete, func, update
from sqlmodel import Session, col, select

from bot import outbox_keys as keys
from bot.compliments import names
from bot.compliments.messages import (
    Outcome,
    WeekOfCompliments,
    channel_post,
    consent_answered,
    consent_prompt,
    kudos_post,
    weekly_rollup,
)
from bot.compliments.scrubbing import Kind, scrub
from bot.config import ProductSettings, TeamConfig
from bot.delivery import Outbox
from bot.digests.anonymity import Candidate, Gate
from bot.events import CustomerFeedback
from bot.i18n import catalogue, team_catalogue
from bot.languages import agent_catalogue
from bot.messenger import Delivered, Mention
from bot.outbox_keys import Topic
from bot.pseudonyms import Keyring
from bot.roster import Roster, RosterAgent
from storage.locks import lock_name
from storage.models import Compliment, ComplimentStatus, Kudos, OutboxMessage
from storage.models.compliments import FROM_A_LEAD
from storage.upsert import insert_ignore

log = logging.getLogger(__name__)

KUDOS_WINDOW = timedelta(hours=24)
ROLLUP_WEEKDAY = "mon"
ROLLUP_TIME = time(9, 0)  # the team's local Monday morning


class Decision(StrEnum):
    SHARED = "shared"
    KEPT = "kept"
    EXPIRED = "expired"
    NO_CHANNEL = "no_channel"
    ALREADY = "already_decided"
    NOT_YOURS = "not_yours"
    UNKNOWN = "unknown"


class Removal(StrEnum):
    REMOVED = "removed"
    ALREADY = "already"
    NOT_YOURS = "not_yours"
    UNKNOWN = "unknown"


class KudosResult(StrEnum):
    SENT = "sent"
    LIMIT = "limit"
    NO_CHANNEL = "no_channel"


def placeholders(language: str) -> Mapping[Kind, str]:
    cat = catalogue(language)
    return {kind: cat.t(f"compliment.placeholder.{kind.value}") for kind in Kind}


def week_bounds(team: TeamConfig, now: datetime) -> tuple[datetime, datetime]:
    """The team's last full local week, Monday 00:00 to Monday 00:00, as aware datetimes."""
    local = now.astimezone(team.zone).date()
    this_monday = local - timedelta(days=local.weekday())
    start = datetime.combine(this_monday - timedelta(days=7), time(0), team.zone)
    return start, datetime.combine(this_monday, time(0), team.zone)


@dataclass(frozen=True)
class Received:
    compliment: Compliment
    new: bool


class ComplimentService:
    def __init__(
        self, *, settings: ProductSettings, outbox: Outbox, keyring: Keyring, roster: Callable[[], Roster]
    ) -> None:
        self.settings = settings
        self.outbox = outbox
        self.keyring = keyring
        self.roster = roster

    def shown(self, text: str, agent: RosterAgent | None, language: str) -> str:
        """A stored compliment as it is shown: with the agent's name back in it."""
        return names.reveal(
            text, agent.name if agent else None, catalogue(language).t("compliment.name_unknown")
        )

    # --- before anything is stored --------------------------------------------------------

    def redact(self, event: CustomerFeedback, agent: RosterAgent) -> CustomerFeedback:
        """Only a good rating's comment is worth keeping, and only scrubbed; the customer's
        name is needed for scrubbing and then dropped. Runs before the event is stored."""
        comment = None
        if event.rating == "good" and event.comment and event.comment.strip():
            scrubbed = self.scrub(event.comment, agent=agent, customer_name=event.customer_name)
            comment = names.conceal(scrubbed, agent.name)
        return event.model_copy(update={"comment": comment, "customer_name": None})

    def scrub(self, text: str, *, agent: RosterAgent | None, customer_name: str | None = None) -> str:
        # The agent's own name stays: customers thank agents by name.
        keep = agent.name.split() if agent else ()
        language = agent.team.language if agent else "en"
        return scrub(
            text,
            customer_name=customer_name,
            keep=keep,
            regions=self.settings.phone_regions,
            placeholders=placeholders(language),
        ).text.strip()

    # --- a compliment arrives ------------------------------------------------------------

    def on_feedback(
        self, session: Session, agent: RosterAgent, event: CustomerFeedback, now: datetime
    ) -> None:
        if event.rating == "good" and event.comment:
            self.receive(
                session,
                agent=agent,
                source=event.provider,
                source_key=event.event_id,
                text=event.comment,
                now=now,
            )

    def receive(
        self,
        session: Session,
        *,
        agent: RosterAgent,
        source: str,
        source_key: str,
        text: str,
        now: datetime,
        sharer: Mention | None = None,
    ) -> Received | None:
        """Store a scrubbed compliment once per source and ask the agent privately.

        Where it came from (a provider's event, a message and its recipient) is stored only as a
        keyed hash, and the agent's name in the words only as a marker (`names`)."""
        if not text.strip():
            return None
        stored_keys = self.keyring.tokens("compliment", source, source_key)
        found = session.exec(
            select(Compliment).where(
                col(Compliment.source) == source, col(Compliment.source_key).in_(stored_keys)
            )
        ).first()
        new = False
        if found is None:
            values = {
                "id": uuid.uuid4().hex,
                "source": source,
                "source_key": stored_keys[0],
                "team_id": agent.team.id,
                "pseudonym": agent.pseudonym,
                "kid": agent.kid,
                "text": names.conceal(text.strip(), agent.name),
                "status": ComplimentStatus.PENDING.value,
                "received_at": now,
            }
            new = insert_ignore(session, Compliment, values, ["source", "source_key"])
            found = session.exec(
                select(Compliment).where(
                    col(Compliment.source) == source, col(Compliment.source_key) == stored_keys[0]
                )
            ).one()
        compliment = found
        if new:
            message = consent_prompt(
                agent_catalogue(session, agent),
                compliment_id=compliment.id,
                text=self.shown(compliment.text, agent, agent.team.language),
                consent_hours=self.settings.compliment_consent_hours,
                sharer=sharer,
            )
            self.outbox.send_direct(
                session,
                key=f"compliment:{compliment.id}:ask",
                to=agent.ref(),
                message=message,
                now=now,
                topic=Topic.COMPLIMENT,
            )
        return Received(compliment, new)

    # --- the agent chooses ---------------------------------------------------------------

    def _expired(self, compliment: Compliment, now: datetime) -> bool:
        return now - compliment.received_at >= timedelta(hours=self.settings.compliment_consent_hours)

    def decide(
        self,
        session: Session,
        *,
        agent: RosterAgent,
        compliment_id: str,
        share: bool,
        where: Delivered,
        now: datetime,
    ) -> Decision:
        compliment = session.get(Compliment, compliment_id, with_for_update=True)
        if compliment is None:
            return Decision.UNKNOWN
        if not agent.owns(compliment.pseudonym):
            log.warning("a compliment button was clicked by someone it was not sent to; nothing changed")
            return Decision.NOT_YOURS
        expired = compliment.status == ComplimentStatus.EXPIRED or (
            compliment.status == ComplimentStatus.PENDING and self._expired(compliment, now)
        )
        if compliment.status not in (ComplimentStatus.PENDING, ComplimentStatus.EXPIRED):
            return Decision.ALREADY
        if not share:
            decision, status = Decision.KEPT, ComplimentStatus.PRIVATE
        elif expired:
            decision, status = Decision.EXPIRED, ComplimentStatus.EXPIRED
        elif not agent.team.channel:
            decision, status = Decision.NO_CHANNEL, ComplimentStatus.PRIVATE
        else:
            decision, status = Decision.SHARED, ComplimentStatus.SHARED
        if compliment.status != status:
            compliment.status, compliment.decided_at = status, now
            session.add(compliment)
        cat = agent_catalogue(session, agent)
        words = self.shown(compliment.text, agent, agent.team.language)
        if decision is Decision.SHARED:
            assert agent.team.channel is not None
            post = channel_post(cat, agent=Mention(name=agent.name, agent=agent.ref()), text=words)
            self.outbox.post_to_channel(
                session,
                key=keys.compliment_post(compliment.id),
                channel=agent.team.channel,
                message=post,
                now=now,
                topic=Topic.COMPLIMENT_POST,
                ref=compliment.id,
            )
        outcome = {
            Decision.SHARED: Outcome.SHARED,
            Decision.KEPT: Outcome.KEPT,
            Decision.EXPIRED: Outcome.EXPIRED,
            Decision.NO_CHANNEL: Outcome.NO_CHANNEL,
        }[decision]
        answered = consent_answered(cat, compliment_id=compliment.id, text=words, outcome=outcome)
        self.outbox.update(
            session,
            key=f"compliment:{compliment.id}:answer:{now.timestamp()}",
            where=where,
            message=answered,
            now=now,
            agent_id=agent.id,
        )
        return decision

    def expire(self, session: Session, *, now: datetime) -> int:
        """No answer within the consent window means private. Nobody is reminded."""
        cutoff = now - timedelta(hours=self.settings.compliment_consent_hours)
        result: CursorResult[Any] = session.execute(  # type: ignore[assignment]
            update(Compliment)
            .where(col(Compliment.status) == ComplimentStatus.PENDING, col(Compliment.received_at) <= cutoff)
            .values(status=ComplimentStatus.EXPIRED, decided_at=now)
        )
        return int(result.rowcount or 0)

    # --- taking a shared compliment down again --------------------------------------------

    def find_post(self, session: Session, *, channel: str, ts: str) -> Compliment | None:
        return session.exec(
            select(Compliment).where(col(Compliment.post_channel) == channel, col(Compliment.post_ts) == ts)
        ).first()

    def remove(
        self,
        session: Session,
        *,
        agent: RosterAgent,
        compliment_id: str,
        where: Delivered | None,
        now: datetime,
    ) -> Removal:
        compliment = session.get(Compliment, compliment_id, with_for_update=True)
        if compliment is None:
            return Removal.UNKNOWN
        if not agent.owns(compliment.pseudonym):
            return Removal.NOT_YOURS
        if compliment.status == ComplimentStatus.REMOVED:
            return Removal.ALREADY
        if compliment.status != ComplimentStatus.SHARED:
            return Removal.UNKNOWN
        compliment.status, compliment.removed_at = ComplimentStatus.REMOVED, now
        session.add(compliment)
        if compliment.post_channel and compliment.post_ts:
            self._delete_post(
                session, compliment, Delivered(channel=compliment.post_channel, ts=compliment.post_ts), now
            )
        else:
            # Not posted yet: withdraw it. If it is being sent right now, `record_post` sees
            # the removal once it lands and deletes it then.
            self.outbox.cancel(session, key=keys.compliment_post(compliment.id))
        if where is not None and compliment.text:  # past retention the words are gone; keep the DM's
            answered = consent_answered(
                agent_catalogue(session, agent),
                compliment_id=compliment.id,
                text=self.shown(compliment.text, agent, agent.team.language),
                outcome=Outcome.REMOVED,
            )
            self.outbox.update(
                session,
                key=f"compliment:{compliment.id}:removed",
                where=where,
                message=answered,
                now=now,
                agent_id=agent.id,
            )
        return Removal.REMOVED

    def _delete_post(self, session: Session, compliment: Compliment, where: Delivered, now: datetime) -> None:
        self.outbox.delete(session, key=f"compliment:{compliment.id}:delete", where=where, now=now)

    def record_post(
        self, session: Session, row: OutboxMessage, result: dict[str, Any] | None, now: datetime
    ) -> None:
        """Outbox hook: remember where a shared compliment landed, so it can be deleted later."""
        compliment_id = str(row.target.get("ref", ""))
        if result is None or not compliment_id:
            return
        compliment = session.get(Compliment, compliment_id, with_for_update=True)
        if compliment is None:
            return
        where = Delivered(**result)
        compliment.post_channel, compliment.post_ts = where.channel, where.ts
        session.add(compliment)
        if compliment.status == ComplimentStatus.REMOVED:
            self._delete_post(session, compliment, where, now)

    # --- kudos -----------------------------------------------------------------------------

    def send_kudos(
        self,
        session: Session,
        *,
        author_keys: Sequence[str],
        author: Mention,
        recipient: RosterAgent,
        recipient_mention: Mention,
        text: str,
        now: datetime,
    ) -> KudosResult:
        channel = recipient.team.channel
        if not channel:
            return KudosResult.NO_CHANNEL
        # One author's kudos are counted and stored one at a time, so two sent at the same
        # moment cannot both pass the limit. Held until the caller's transaction ends.
        author_key = author_keys[0]
        lock_name(session, f"kudos-author/{author_key}")
        sent = session.exec(
            select(func.count())
            .select_from(Kudos)
            .where(col(Kudos.author_key).in_(author_keys), col(Kudos.created_at) > now - KUDOS_WINDOW)
        ).one()
        if sent >= self.settings.kudos_per_day:
            return KudosResult.LIMIT
        kudos = Kudos(id=uuid.uuid4().hex, team_id=recipient.team.id, author_key=author_key, created_at=now)
        session.add(kudos)
        message = kudos_post(
            team_catalogue(recipient.team),
            author=author,
            recipient=recipient_mention,
            text=self.scrub(text, agent=recipient),
        )
        self.outbox.post_to_channel(
            session, key=f"kudos:{kudos.id}", channel=channel, message=message, now=now, topic=Topic.KUDOS
        )
        return KudosResult.SENT

    # --- the weekly roll-up ----------------------------------------------------------------

    def week(
        self, session: Session, *, team: TeamConfig, start: datetime, end: datetime, now: datetime
    ) -> WeekOfCompliments:
        rows = session.exec(
            select(Compliment).where(
                col(Compliment.team_id) == team.id,
                col(Compliment.received_at) >= start,
                col(Compliment.received_at) < end,
            )
        ).all()
        kudos = session.exec(
            select(func.count())
            .select_from(Kudos)
            .where(col(Kudos.team_id) == team.id, col(Kudos.created_at) >= start, col(Kudos.created_at) < end)
        ).one()
        # A count is a number about people: the anonymity gate shows it only when enough
        # different people received compliments that it says nothing about any one of them.
        # It is the digest's "compliments" figure for the same week, released (and frozen)
        # once, so the channel and the leads' digest never disagree. No compliment: nothing
        # about anyone, so the roll-up may say so (and stays quiet).
        count: int | None = 0
        roster = self.roster()
        # The team's leads, when they are on the roster too, are left out (as in the digest).
        leads = roster.readers_of(team, self.settings.admins)
        counted = [
            row
            for row in rows
            if roster.people.canonical(row.pseudonym) not in leads and row.source != FROM_A_LEAD
        ]
        if counted:
            gate = Gate.for_team(session, self.settings, team_id=team.id, now=now, people=roster.people)
            people = frozenset(roster.people.canonical(row.pseudonym) for row in counted)
            released = gate.release(
                start.astimezone(team.zone).date(),
                Candidate("compliments", "team", people, {"received": len(counted)}),
            )
            count = released["received"] if released is not None else None
        shared = sorted(
            (row for row in rows if row.status == ComplimentStatus.SHARED),
            key=lambda row: (row.decided_at or row.received_at, row.id),
            reverse=True,
        )
        quotes = [self.shown(row.text, roster.by_pseudonym(row.pseudonym), team.language) for row in shared]
        return WeekOfCompliments(count=count, kudos=kudos, quotes=quotes)

    def post_rollup(self, session: Session, *, team: TeamConfig, now: datetime) -> bool:
        """Post last week's roll-up once per team and week (the outbox key is the guard)."""
        if not team.channel:
            return False
        start, end = week_bounds(team, now)
        week = self.week(session, team=team, start=start, end=end, now=now)
        if week.count == 0 and not week.kudos:
            return False  # a quiet week is not announced
        message = weekly_rollup(team_catalogue(team), week)
        return self.outbox.post_to_channel(
            session,
            key=f"compliment-rollup:{team.id}:{start.date().isoformat()}",
            channel=team.channel,
            message=message,
            now=now,
            topic=Topic.COMPLIMENT_ROLLUP,
        )

    # --- retention -------------------------------------------------------------------------

    def purge(self, session: Session, *, now: datetime) -> dict[str, int]:
        return purge_compliments(session, retention_days=self.settings.retention_days, now=now)


def purge_compliments(session: Session, *, retention_days: int, now: datetime) -> dict[str, int]:
    """Past retention, compliments and kudos records go. A compliment still shared keeps its row,
    emptied of the words, so the agent can still take the post down. The nightly job and
    `breather purge` both run it."""
    cutoff = now - timedelta(days=retention_days)
    old = col(Compliment.received_at) < cutoff
    still_shared = col(Compliment.status) == ComplimentStatus.SHARED
    deleted: CursorResult[Any] = session.execute(  # type: ignore[assignment]
        delete(Compliment).where(old, ~still_shared)
    )
    emptied: CursorResult[Any] = session.execute(  # type: ignore[assignment]
        update(Compliment).where(old, still_shared, col(Compliment.text) != "").values(text="")
    )
    kudos: CursorResult[Any] = session.execute(  # type: ignore[assignment]
        delete(Kudos).where(col(Kudos.created_at) < cutoff)
    )
    return {
        "compliments": int(deleted.rowcount or 0),
        "shared compliments emptied": int(emptied.rowcount or 0),
        "kudos": int(kudos.rowcount or 0),
    }
