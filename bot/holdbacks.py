"""Hold-back notices: when the nudge policy or the survey dispatcher holds something back for an
agent, and why, for whoever wants to tell that agent (the demo's console does).

Production registers no listener, so nothing is kept: a notice exists only while it is handed
to the listeners, in memory, and is never stored, logged or counted per person (the metrics
count reasons without people, as before).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

What = Literal["checkin", "survey"]


@dataclass(frozen=True)
class HeldBack:
    agent_id: str
    what: What
    # Check-ins: the nudge policy's refusal (bot.checkins.policy.Refusal). Surveys: "paused",
    # "off_shift", "after_checkin" (too soon after a check-in), "fatigue" (one a week at most) or
    # "away" (the chat platform's out-of-office status, bot/away.py; "status_unknown" while the
    # platform rate-limits reading it).
    reason: str
    at: datetime  # when the decision was made
    last_checkin_at: datetime | None = None  # for "cooldown" and "after_checkin"
    until: datetime | None = None  # when it may go out, when known


class HoldBackNotices:
    def __init__(self) -> None:
        self.listeners: list[Callable[[HeldBack], None]] = []

    def __call__(self, notice: HeldBack) -> None:
        for listener in self.listeners:
            listener(notice)
