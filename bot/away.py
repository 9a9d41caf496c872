"""The chat platform's own out-of-office signal (issue 16, point 4): a Slack status with a
vacation or sick emoji, Teams presence "OutOfOffice".

Read through the messenger just before a check-in or a survey invitation (or its reminder)
would go out, not from Slack's profile events: a read at that moment is always current, sees
a status set before Breather started, and does not make Breather hear every profile change
in the workspace. What the platform said is kept in memory for a few minutes (one lookup per
person, not one per message) and never stored, logged or counted per person.

A lookup that fails never holds a message back: it counts as "not away" (fail open), it is
logged once, without anyone's identity, until lookups work again, and for a minute after a
failure no lookup is tried at all, so an outage of the platform's API costs one short timeout
a minute at most.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol, runtime_checkable

from bot.messenger import AgentRef

log = logging.getLogger(__name__)

CACHE_S = 300.0  # what the platform said about a person is trusted this long
FAIL_OPEN_S = 60.0  # after a failed lookup, none is tried for this long
# A status with no end ("until I change it", Teams' out of office) is looked at again after
# this long: a survey invitation waits that long, then asks again.
OPEN_ENDED = timedelta(hours=4)


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
    ) -> None:
        self.source = source
        self.emoji = frozenset(emoji_name(e) for e in emoji) - {""}
        self.monotonic = monotonic
        self._cache: dict[str, tuple[float, PlatformStatus | None]] = {}
        self._quiet_until = 0.0  # no lookups before this (monotonic), after a failure
        self._failing = False  # a failure was logged and no lookup has worked since
        self._lock = threading.Lock()

    def forget(self) -> None:
        """Drop what is cached (tests; a person changed their status and wants it seen now)."""
        with self._lock:
            self._cache.clear()
            self._quiet_until = 0.0

    def away_until(self, to: AgentRef, now: datetime) -> datetime | None:
        """When the person's out-of-office status ends, if they have one now; else None.
        A status without an end counts as away for OPEN_ENDED, then it is looked at again."""
        status = self._status(to)
        if status is None or not (status.out_of_office or emoji_name(status.emoji) in self.emoji):
            return None
        if status.until is None:
            return now + OPEN_ENDED
        return status.until if status.until > now else None  # an expired status is over

    def _status(self, to: AgentRef) -> PlatformStatus | None:
        if self.source is None or not to.on_roster:
            return None
        moment = self.monotonic()
        with self._lock:
            cached = self._cache.get(to.agent_id)
            if cached is not None and moment - cached[0] < CACHE_S:
                return cached[1]
            if moment < self._quiet_until:
                return None
        try:
            status = self.source.status_of(to)
        except Exception as error:  # any failure: send as if present, and say so once
            with self._lock:
                self._quiet_until = self.monotonic() + FAIL_OPEN_S
                first, self._failing = not self._failing, True
            if first:
                log.warning(
                    "could not read out-of-office statuses from the chat platform (%s); messages go "
                    "out as if everyone were in, and lookups pause for %d s after each failure",
                    type(error).__name__,
                    FAIL_OPEN_S,
                )
            return None
        with self._lock:
            if self._failing:
                log.info("out-of-office statuses can be read again")
            self._failing = False
            self._cache[to.agent_id] = (moment, status)
        return status
