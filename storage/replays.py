"""Replay guard: a signed request is acted on once, even when its copy arrives inside the
signature's five minutes (its signature is still valid then). Stored in the database, so
every replica behind a load balancer sees the same requests."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.engine import Engine

from storage.db import session_scope
from storage.models.replays import SeenRequest
from storage.upsert import insert_ignore

PRUNE_EVERY = timedelta(minutes=1)


class ReplayGuard:
    def __init__(self, engine: Engine, window: timedelta) -> None:
        self.engine = engine
        # Kept a little longer than the window: a copy is refused by its age after that.
        self.window = window * 2
        self._pruned_at: datetime | None = None

    def first_time(self, digest: str, now: datetime) -> bool:
        """True the first time `digest` is seen; False for a replay."""
        with session_scope(self.engine) as session:
            if self._pruned_at is None or now - self._pruned_at > PRUNE_EVERY:
                self._pruned_at = now
                session.execute(delete(SeenRequest).where(SeenRequest.seen_at < now - self.window))  # type: ignore[arg-type]
            return insert_ignore(session, SeenRequest, {"digest": digest, "seen_at": now}, ["digest"])
