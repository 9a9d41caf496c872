"""The chat platform's own out-of-office signal (issue 16, point 4): a Slack status with a
vacation or sick emoji, Teams presence "OutOfOffice".

Read through the messenger just before a check-in or a survey invitation (or its reminder)
would go out, not from Slack's profile events: a read at that moment is always current, sees
a status set before Breather started, and does not make Breather hear every profile change
in the workspace. What the platform said is kept in memory for a few minutes (one lookup per
person, not one per message) and never stored, logged or counted per person.

A lookup that fails never holds a check-in back: it counts as "not away" (fail open), it is
logged once, without anyone's identity, until lookups work again, and for a minute after a
failure no lookup is tried at all, so an outage of the platform's API costs one short timeout
a minute at most. One exception: while the platform rate-limits the lookups (a big survey
round asks for many people at once), survey invitations and reminders wait for it, at most a
few minutes, instead of going out unchecked; they have days to arrive.

No lookup ever happens while a database transaction is open (an HTTP round trip would hold
SQLite's one write lock, or a PostgreSQL connection and row locks, for up to the timeout). The
services decide inside their transaction from what is already known (`known`, `ask=False`) and
name whoever still has to be looked up; their callers look those people up (`look_up`) after
the commit and decide again. Lookups are also rationed per process (LOOKUPS_PER_MINUTE, below
Slack's users.info tier): when the ration is used up, a lookup is treated like a rate limit
without asking the platform at all.

Many unknown statuses at once (a survey batch) are read in one bulk call where the platform has
one (`KnowsStatuses`: Slack's users.list, Graph's getPresencesByUserId): one page answers for
hundreds of people, so a 2,000-person round is not paced by the per-person ration. Whoever the
bulk answer leaves out is read one by one as before; a failed bulk read fails open the same way.
Check-ins never read in bulk (bot/checkins/service.py): they want a few people at a time, all
day. One-by-one reads wanted together are made side by side (PARALLEL_LOOKUPS), so a batch's
reads cost one round trip to the platform, not one each.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol, runtime_checkable

from bot.errors import RateLimited
from bot.messenger import AgentRef

log = logging.getLogger(__name__)

CACHE_S = 300.0  # what the platform said about a person is trusted this long
FAIL_OPEN_S = 60.0  # after a failed lookup, none is tried for this long
# A status with no end ("until I change it", Teams' out of office) is looked at again after
# this long: a survey invitation waits that long, then asks again.
OPEN_ENDED = timedelta(hours=4)
MAX_LIMITED_S = 300.0  # the longest a survey invitation waits for a rate-limited platform
# Slack's users.info is Tier 4 (100+ a minute per workspace); staying below it keeps a busy hour
# of check-ins from living at the rate limit. Per process; a burst of this many is allowed.
LOOKUPS_PER_MINUTE = 80.0
BULK_FROM = 5  # this many unknown statuses or more are read in one bulk call, when there is one
PARALLEL_LOOKUPS = 4  # one-by-one reads made at the same time
SHARED_READ_WAIT_S = 5.0  # the longest a second asker waits for a read of the same person in flight


class LookUpFirst(Exception):  # noqa: N818 - not an error: a request to redo after reading
    """Raised from inside a transaction that needs a status not known yet: the caller rolls
    back, reads the statuses (`AwaySignals.look_up_in_order`) and runs the transaction again."""

    def __init__(self, people: tuple[AgentRef, ...]) -> None:
        super().__init__("out-of-office statuses to read first")
        self.people = people


@dataclass(frozen=True)
class PlatformStatus:
    """What a chat platform says about a person right now."""

    emoji: str = ""  # Slack's status emoji, ":palm_tree:"; "" for none
    out_of_office: bool = False  # the platform itself says out of office (Teams presence)
    until: datetime | None = None  # when the status ends by itself; None: no end set


@runtime_checkable
class KnowsStatus(Protocol):
    """A messenger that can read a person's status. It may raise any error; callers fail open.
    None means the platform does not know the person (yet)."""

    def status_of(self, to: AgentRef) -> PlatformStatus | None: ...


@runtime_checkable
class KnowsStatuses(Protocol):
    """A messenger that can read many statuses in one call. The answer is keyed by agent id;
    None for someone the platform does not know; someone left out is read one by one."""

    def statuses_of(self, people: Sequence[AgentRef]) -> dict[str, PlatformStatus | None]: ...


def emoji_name(emoji: str) -> str:
    """ ":palm_tree:" from "palm_tree", ":Palm_Tree:" or ":palm_tree::skin-tone-2:"."""
    name = emoji.strip().lower().strip(":").split("::", 1)[0]
    return f":{name}:" if name else ""


class AwaySignals:
    """Whether the chat platform says someone is away, and until when."""

    def __init__(
        self,
        source: KnowsStatus | None,
        *,
        emoji: Iterable[str] = (),
        monotonic: Callable[[], float] = time.monotonic,
        per_minute: float = LOOKUPS_PER_MINUTE,
    ) -> None:
        self.emoji = frozenset(emoji_name(e) for e in emoji) - {""}
        # A platform whose only signal is the status emoji (Slack) is not asked at all when
        # `away_status_emoji` is empty: nothing it could say would matter.
        emoji_only = bool(getattr(source, "status_is_emoji_only", False))
        self.source = None if emoji_only and not self.emoji else source
        self.monotonic = monotonic
        self._cache: dict[str, tuple[float, PlatformStatus | None]] = {}
        self._quiet_until = 0.0  # no lookups before this (monotonic), after a failure
        self._limited_until = 0.0  # the platform asked us to wait this long (a 429)
        self._failing = False  # a failure was logged and no lookup has worked since
        self.per_minute = per_minute
        self._tokens = per_minute  # lookups left in the ration (a token bucket)
        self._filled_at = monotonic()
        self._lock = threading.Lock()
        # Reads under way, by agent: a second asker (a check-in read ahead of its batch and the
        # batch itself) waits for that answer instead of spending the ration on the same read.
        self._reading: dict[str, threading.Event] = {}

    def forget(self) -> None:
        """Drop what is cached (tests; a person changed their status and wants it seen now)."""
        with self._lock:
            self._cache.clear()
            self._quiet_until = self._limited_until = 0.0

    def known(self, to: AgentRef) -> bool:
        """Whether the answer about this person can be given without asking the platform."""
        with self._lock:
            return self._peek(to, self.monotonic()) is not None

    def look_up(self, people: Iterable[AgentRef], *, bulk: bool = True) -> None:
        """Ask the platform about whoever is not known yet, in one bulk call when many are not
        (and `bulk`), else a few at a time. Never with a transaction open."""
        wanted = list(dict.fromkeys(people))
        with self._lock:
            moment = self.monotonic()
            uncached = [to for to in wanted if self._uncached(to, moment)]
            many = bulk and len(uncached) >= BULK_FROM and moment >= self._quiet_until
        if many and isinstance(self.source, KnowsStatuses):
            self._read_many(self.source, uncached)
        # Whoever the bulk read answered is cached now: no call for them. The others are read
        # side by side, so a batch's look-ups take one round trip, not one each.
        left = [to for to in wanted if not self.known(to)]
        if len(left) <= 1:
            for to in left:
                self._status(to)
            return
        with ThreadPoolExecutor(max_workers=min(len(left), PARALLEL_LOOKUPS)) as pool:
            list(pool.map(self._status, left))

    def _uncached(self, to: AgentRef, moment: float) -> bool:
        """Holds _lock."""
        if self.source is None or not to.on_roster:
            return False
        cached = self._cache.get(to.agent_id)
        return cached is None or moment - cached[0] >= CACHE_S

    def _read_many(self, source: KnowsStatuses, people: list[AgentRef]) -> None:
        moment = self.monotonic()
        try:
            found = source.statuses_of(people)
        except Exception as error:  # as a single lookup's failure: the others then wait or go
            self._failed(error)
            return
        with self._lock:
            self._worked()
            for to in people:
                if to.agent_id in found:
                    self._cache[to.agent_id] = (moment, found[to.agent_id])

    def look_up_in_order(self, people: Iterable[AgentRef], now: datetime) -> None:
        """Ask about people in order up to the first who is not away (the one who will be
        chosen): usually one lookup. Never with a transaction open."""
        for to in people:
            if self.away_until(to, now) is None:
                return

    def away_until(self, to: AgentRef, now: datetime, *, ask: bool = True) -> datetime | None:
        """When the person's out-of-office status ends, if they have one now; else None.
        A status without an end counts as away for OPEN_ENDED, then it is looked at again.
        With ask=False the platform is not asked: someone not known counts as not away."""
        return self._decide(self._status(to, ask=ask)[0], now)

    def hold_until(self, to: AgentRef, now: datetime, *, ask: bool = True) -> tuple[datetime, bool] | None:
        """For a message that can wait (a survey invitation or reminder): None to send now, or
        (when to look again, whether the person is away). While the platform rate-limits the
        lookups, a round's invitations wait for it (False) instead of going out unchecked;
        every other failure still fails open."""
        status, limited_s = self._status(to, ask=ask)
        if limited_s > 0:
            return now + timedelta(seconds=limited_s), False
        until = self._decide(status, now)
        return (until, True) if until is not None else None

    def _decide(self, status: PlatformStatus | None, now: datetime) -> datetime | None:
        if status is None or not (status.out_of_office or emoji_name(status.emoji) in self.emoji):
            return None
        if status.until is None:
            return now + OPEN_ENDED
        return status.until if status.until > now else None  # an expired status is over

    def _peek(self, to: AgentRef, moment: float) -> tuple[PlatformStatus | None, float] | None:
        """The answer without asking the platform, or None when only asking can tell. Holds _lock."""
        if self.source is None or not to.on_roster:
            return None, 0.0
        cached = self._cache.get(to.agent_id)
        if cached is not None and moment - cached[0] < CACHE_S:
            return cached[1], 0.0
        if moment < self._quiet_until:
            return None, max(0.0, self._limited_until - moment)
        self._tokens = min(self.per_minute, self._tokens + (moment - self._filled_at) * self.per_minute / 60)
        self._filled_at = moment
        if self._tokens < 1:  # the ration is used up: as if rate-limited, without asking
            return None, (1 - self._tokens) * 60 / self.per_minute
        return None

    def _status(self, to: AgentRef, *, ask: bool = True) -> tuple[PlatformStatus | None, float]:
        """What the platform says (None: nothing, or unknown) and, while it rate-limits the
        lookups, how many seconds until it may be asked again."""
        source, moment = self.source, self.monotonic()
        if source is None:
            return None, 0.0
        with self._lock:
            answer = self._peek(to, moment)
            if answer is not None:
                return answer
            if not ask:
                return None, 0.0
            under_way = self._reading.get(to.agent_id)
            if under_way is None:
                self._reading[to.agent_id] = threading.Event()
                self._tokens -= 1
        if under_way is not None:
            under_way.wait(SHARED_READ_WAIT_S)
            with self._lock:  # its answer, or after its failure "not known": fail open
                return self._peek(to, self.monotonic()) or (None, 0.0)
        try:
            status = source.status_of(to)
        except Exception as error:  # any failure: send as if present, and say so once
            return None, self._failed(error)
        else:
            with self._lock:
                self._worked()
                self._cache[to.agent_id] = (moment, status)
            return status, 0.0
        finally:
            with self._lock:
                self._reading.pop(to.agent_id).set()

    def _failed(self, error: Exception) -> float:
        """Pause lookups after a failure, log the first; how long a rate limit asks to wait."""
        wait = min(max(error.retry_after, 1.0), MAX_LIMITED_S) if isinstance(error, RateLimited) else 0.0
        with self._lock:
            after = self.monotonic()
            self._quiet_until = after + (wait or FAIL_OPEN_S)
            self._limited_until = after + wait
            first, self._failing = not self._failing, True
        if first:
            log.warning(
                "could not read out-of-office statuses from the chat platform (%s); check-ins go "
                "out as if everyone were in, and lookups pause after each failure",
                type(error).__name__,
            )
        return wait

    def _worked(self) -> None:
        """Holds _lock."""
        if self._failing:
            log.info("out-of-office statuses can be read again")
        self._failing = False
