"""DemoPhone: the demo's own phone system, so a protected break can be seen without a real one.

It stands in for Aircall (the demo agents have `aircall_user_id`s) and keeps each agent's
availability in memory, the way Aircall's users API would: `available` until Breather sets
`unavailable` for a break, and back. The console shows each agent's status beside their name
("DemoPhone: on a break"). Used by `breather demo` only; nothing leaves the process.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable

from bot.config import AgentConfig
from bot.recovery.phone import PROVIDER_IDS, PhoneStatus, StatusChanged

AVAILABLE = "available"
BREAK = "unavailable"  # Aircall's word for "route no calls to me"
STATUSES = (AVAILABLE, BREAK)


class DemoPhone:
    provider = "aircall"
    label = "DemoPhone"

    def user_id(self, agent: AgentConfig) -> str | None:
        """The agent's id here: their id in the phone system DemoPhone stands in for."""
        return agent.provider_ids().get(PROVIDER_IDS[self.provider])

    def __init__(self, on_change: Callable[[], None] = lambda: None) -> None:
        self._status: dict[str, str] = {}
        self._lock = threading.Lock()
        self._versions = itertools.count(1)
        self._version: dict[str, str] = {}
        self.on_change = on_change

    def status_of(self, user_id: str) -> str:
        with self._lock:
            return self._status.get(user_id, AVAILABLE)

    def _write(self, user_id: str, value: str) -> PhoneStatus:
        with self._lock:
            self._status[user_id] = value
            self._version[user_id] = str(next(self._versions))
            status = PhoneStatus(value, self._version[user_id])
        self.on_change()
        return status

    # --- the PhoneSystem port -------------------------------------------------------------

    def read_status(self, user_id: str) -> PhoneStatus:
        with self._lock:
            return PhoneStatus(self._status.get(user_id, AVAILABLE), self._version.get(user_id))

    def set_break(self, user_id: str) -> PhoneStatus:
        return self._write(user_id, BREAK)

    def set_status(self, user_id: str, status: PhoneStatus, *, expected: PhoneStatus | None = None) -> None:
        with self._lock:
            current = self._status.get(user_id, AVAILABLE)
        if expected is not None and current != expected.value:
            raise StatusChanged("DemoPhone: the agent changed their status")
        self._write(user_id, status.value)
