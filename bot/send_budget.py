"""How fast this process may call the chat platform as a whole, learnt from its 429 answers.

Slack and Teams publish per-conversation limits, but they also enforce workspace- and
tenant-wide limits they do not publish. Retrying only the refused message would keep every
delivery thread knocking at a closed door. Instead a 429 holds all sending for its
Retry-After and sets a steady rate a little under what the platform accepted during the
last second. While no 429 comes, the rate is raised a little now and then, so a limit that
was lifted is found again. Until the first 429 there is no rate: nothing is held back.

What was accepted in the last second says what the platform allows only if enough was: right
after a hold, or while sends were failing (a storm of 5xx), few sends were even tried, and
learning from that would crawl at one message a second long after the platform recovered. Such
a 429 only holds, and lowers a rate already learnt by the usual step.

Server errors and failed connections that come one after another (not a bad message, a platform
in trouble) also hold all sending, for 1, 2, 4 ... seconds but never more than MAX_FAILURE_HOLD_S,
so the backlog resumes within a few seconds of the platform's recovery.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable

WINDOW_S = 1.0  # what the platform accepted over this long is what it allows
BACK_OFF = 0.97  # after a 429, send this share of the accepted rate
PROBE_EVERY_S = 10.0  # without a 429 for this long, try a little faster
PROBE_STEP = 1.02
MIN_RATE = 1.0  # sends per second; never slower than this
MIN_SAMPLE = 3  # accepted sends in the last second needed to learn a rate from a 429
MAX_FAILURE_HOLD_S = 4.0  # the longest pause after failures in a row


class SendBudget:
    """Thread-safe: the outbox worker's delivery threads share one budget."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._rate: float | None = None  # sends per second, once a 429 has taught us one
        self._hold_until = 0.0
        self._next_slot = 0.0
        self._changed_at = 0.0
        self._accepted: deque[float] = deque()
        self._failures = 0  # transient failures in a row, across all delivery threads

    @property
    def rate(self) -> float | None:
        with self._lock:
            return self._rate

    def reserve(self, max_wait_s: float) -> float | None:
        """Take the next free moment to send: how many seconds from now (0.0 = at once), or
        None, taking nothing, when that moment is more than `max_wait_s` away."""
        with self._lock:
            now = self._clock()
            self._probe(now)
            slot = self._first_free(now)
            if slot - now > max_wait_s:
                return None
            if self._rate is not None:
                self._next_slot = slot + 1.0 / self._rate
            return slot - now

    def free_in(self) -> float:
        """Seconds until a send could start, for work put off until then."""
        with self._lock:
            now = self._clock()
            return self._first_free(now) - now

    def held_for(self) -> float:
        """Seconds left of the hold a 429 imposed (0.0 when none)."""
        with self._lock:
            return max(self._hold_until - self._clock(), 0.0)

    def accepted(self) -> None:
        with self._lock:
            now = self._clock()
            self._accepted.append(now)
            self._forget_before(now - WINDOW_S)
            self._failures = 0

    def failed(self) -> float:
        """A send failed for a reason worth retrying (5xx, no connection). The second failure in
        a row holds all sending; returns seconds until a try is worth making again."""
        with self._lock:
            now = self._clock()
            self._failures += 1
            if self._failures < 2:
                return 0.0
            hold = min(2.0 ** (self._failures - 2), MAX_FAILURE_HOLD_S)
            self._hold_until = max(self._hold_until, now + hold)
            self._next_slot = max(self._next_slot, self._hold_until)
            return self._hold_until - now

    def refused(self, retry_after_s: float) -> None:
        with self._lock:
            now = self._clock()
            if now < self._hold_until:
                # Sent before the hold began (another thread's 429 came first): the rate was
                # already lowered for it; only a longer Retry-After counts.
                self._hold_until = self._next_slot = max(self._hold_until, now + retry_after_s)
                return
            self._forget_before(now - WINDOW_S)
            if len(self._accepted) >= MIN_SAMPLE:
                allowed = max(len(self._accepted) / WINDOW_S * BACK_OFF, MIN_RATE)
                self._rate = (
                    allowed if self._rate is None else max(min(self._rate * BACK_OFF, allowed), MIN_RATE)
                )
            elif self._rate is not None:  # too little was tried lately to say what is allowed
                self._rate = max(self._rate * BACK_OFF, MIN_RATE)
            self._hold_until = max(self._hold_until, now + retry_after_s)
            self._next_slot = self._hold_until
            self._changed_at = now

    def _first_free(self, now: float) -> float:
        slot = max(now, self._hold_until)
        return max(slot, self._next_slot) if self._rate is not None else slot

    def _probe(self, now: float) -> None:
        if self._rate is not None and now - self._changed_at >= PROBE_EVERY_S:
            self._rate *= PROBE_STEP
            self._changed_at = now

    def _forget_before(self, moment: float) -> None:
        while self._accepted and self._accepted[0] < moment:
            self._accepted.popleft()
