"""The retention policy: raw, pseudonymised records are deleted after `retention_days`; keyed
hashes of outside ids (a provider's event and call ids, where a compliment came from) are
cleared sooner, as soon as nothing needs to match them any more."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import CursorResult, Engine, String, cast, delete, literal, or_, update
from sqlmodel import Session, col, select

from bot.config import ProductSettings
from storage.db import session_scope
from storage.models import (
    Break,
    BuddyAsk,
    Call,
    Checkin,
    Compliment,
    DigestAccess,
    DigestRelease,
    InboundEvent,
    OutboxMessage,
    OutboxStatus,
    Pairing,
    SandboxMessage,
    SurgeAlert,
    SurveyAnswer,
    SurveyInvitation,
    SurveyRound,
    TalkRequest,
)
from storage.models.recovery import ACTIVE_STATES

log = logging.getLogger(__name__)

DEDUPE_WINDOW = timedelta(hours=48)  # providers retry for up to a day; keep event keys longer
OUTBOX_KEEP = timedelta(days=7)  # delivered messages are only needed to debug delivery
ACCESS_LOG_KEEP = timedelta(days=365)  # who read which team's digest: a year, for audits
# Late events about a call (a wrap-up tag, a rating) are merged into it for a week; a compliment
# arriving twice from one source within a week is stored once. After that their keys are cleared.
LATE_EVENTS_KEEP = timedelta(days=7)
BUDDY_ASKS_KEEP = timedelta(days=7)  # who was asked: only the daily cap and the rotation need it


def _forget(session: Session, model: Any, column: Any, *where: Any) -> int:
    """Replace a keyed hash nothing needs to match any more by a value about nothing."""
    tombstone = literal("-").concat(cast(col(model.id), String))
    statement = update(model).where(~col(column).startswith("-"), *where).values({column.key: tombstone})
    return _deleted(session, statement)


def _deleted(session: Session, statement: Any) -> int:
    result: CursorResult[Any] = session.execute(statement)  # type: ignore[assignment]
    return int(result.rowcount or 0)


def purge(session: Session, settings: ProductSettings, *, now: datetime) -> dict[str, int]:
    cutoff = now - timedelta(days=settings.retention_days)
    old_calls = select(col(Call.id)).where(col(Call.ended_at) < cutoff)
    old_rounds = select(col(SurveyRound.id)).where(col(SurveyRound.closes_at) < cutoff)
    return {
        # The release log holds fingerprints of who contributed: it goes with the raw data.
        "digest releases": _deleted(
            session, delete(DigestRelease).where(col(DigestRelease.released_at) < cutoff)
        ),
        "digest reads": _deleted(
            session, delete(DigestAccess).where(col(DigestAccess.at) < now - ACCESS_LOG_KEEP)
        ),
        "surge alerts": _deleted(session, delete(SurgeAlert).where(col(SurgeAlert.sent_at) < cutoff)),
        # Rounds themselves stay: they hold only team-level counts (invited, responded).
        "survey answers": _deleted(
            session, delete(SurveyAnswer).where(col(SurveyAnswer.submitted_at) < cutoff)
        ),
        "survey invitations": _deleted(
            session, delete(SurveyInvitation).where(col(SurveyInvitation.round_id).in_(old_rounds))
        ),
        "check-ins": _deleted(
            session,
            delete(Checkin).where(or_(col(Checkin.created_at) < cutoff, col(Checkin.call_id).in_(old_calls))),
        ),
        "calls": _deleted(session, delete(Call).where(col(Call.ended_at) < cutoff)),
        "inbound events": _deleted(
            session,
            delete(InboundEvent).where(
                col(InboundEvent.processed_at).is_not(None),
                col(InboundEvent.received_at) < min(cutoff, now - DEDUPE_WINDOW),
            ),
        ),
        "delivered messages": _deleted(
            session,
            delete(OutboxMessage).where(
                col(OutboxMessage.status).in_([OutboxStatus.SENT, OutboxStatus.FAILED]),
                col(OutboxMessage.created_at) < max(cutoff, now - OUTBOX_KEEP),
            ),
        ),
        "event ids cleared": _forget(
            session,
            InboundEvent,
            InboundEvent.event_id,
            col(InboundEvent.processed_at).is_not(None),
            col(InboundEvent.received_at) < now - DEDUPE_WINDOW,
        ),
        "call ids cleared": _forget(session, Call, Call.call_id, col(Call.ended_at) < now - LATE_EVENTS_KEEP),
        "compliment sources cleared": _forget(
            session, Compliment, Compliment.source_key, col(Compliment.received_at) < now - LATE_EVENTS_KEEP
        ),
        "sandbox messages": _deleted(
            session, delete(SandboxMessage).where(col(SandboxMessage.created_at) < cutoff)
        ),
        # A break still running is kept whatever its age: it must still be restored.
        "breaks": _deleted(
            session,
            delete(Break).where(col(Break.requested_at) < cutoff, col(Break.state).not_in(ACTIVE_STATES)),
        ),
        "talk requests": _deleted(session, delete(TalkRequest).where(col(TalkRequest.created_at) < cutoff)),
        "coffee pairs": _deleted(session, delete(Pairing).where(col(Pairing.created_at) < cutoff)),
        "buddy asks": _deleted(
            session, delete(BuddyAsk).where(col(BuddyAsk.created_at) < min(cutoff, now - BUDDY_ASKS_KEEP))
        ),
    }


class Retention:
    """The nightly purge: the policy above, then each feature's own (`also`: compliments)."""

    def __init__(
        self,
        engine: Engine,
        settings: ProductSettings,
        clock: Callable[[], datetime],
        also: Sequence[Callable[[Session, datetime], dict[str, int]]] = (),
    ) -> None:
        self.engine = engine
        self.settings = settings
        self.clock = clock
        self.also = also

    def purge(self) -> dict[str, int]:
        with session_scope(self.engine) as session:
            counts = purge(session, self.settings, now=self.clock())
            for more in self.also:
                counts.update(more(session, self.clock()))
        log.info("retention purge: %s", ", ".join(f"{name} {count}" for name, count in counts.items()))
        return counts
