"""The PhoneSystem port: what the domain may ask of a phone system to give an agent a break.

Each provider client (handlers/telephony/*_api.py) reads an agent's current status, puts
them on a break that routes no calls to them, and sets a remembered status back. Statuses
are opaque tokens the provider understands (a TaskRouter Activity SID, an Aircall
availability); the domain only stores and compares them.

Errors, translated once at the edge of each client:

    PhoneSystemError (BreatherError)
     ├── PhoneUnavailable   429, 5xx, timeout or connection failure after the client's own
     │                      retries; worth trying again after `retry_after` seconds
     ├── PhoneRefused       the provider said no for good (bad credentials, unknown user,
     │                      no break activity): retrying the same call cannot help
     └── StatusChanged      the status changed between our read and our write (the agent
                            did it by hand): their choice wins

To add a provider: write a client in handlers/telephony/<provider>_api.py that satisfies
`PhoneSystem`, a fake of its REST API in tests/fakes/provider_apis.py, and add it to
`build_phone_systems()` in handlers/telephony/phone_systems.py; the roster id kind in
`PROVIDER_IDS` below tells Breather which agents it serves.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from bot.errors import BreatherError

# The roster field that names an agent in each phone system, in order of preference when an
# agent has more than one.
PROVIDER_IDS: dict[str, str] = {
    "twilio": "twilio_worker_sid",
    "aircall": "aircall_user_id",
    "dialpad": "dialpad_user_id",
    "genesys": "genesys_user_id",
    "connect": "connect_user_id",
    "zoom": "zoom_user_id",
    "webex": "webex_agent_id",
}


@dataclass(frozen=True)
class PhoneStatus:
    """An agent's status as the provider names it.

    `value` is what is stored and set back; `version` (an ETag, when the provider has one)
    lets a write fail with StatusChanged instead of overwriting a change made meanwhile.
    """

    value: str
    version: str | None = None


class PhoneSystemError(BreatherError):
    """A phone-system call failed; the message names the provider and the HTTP status, no more."""


class PhoneUnavailable(PhoneSystemError):
    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class PhoneRefused(PhoneSystemError):
    """Retrying the same call cannot succeed."""


class StatusChanged(PhoneSystemError):
    """The status changed after we read it."""


class PhoneSystem(Protocol):
    provider: str  # a key of PROVIDER_IDS
    label: str  # how agents know it, for messages: "Twilio", "Aircall", "Dialpad"

    def read_status(self, user_id: str) -> PhoneStatus:
        """The agent's current status."""
        ...

    def set_break(self, user_id: str) -> PhoneStatus:
        """Put the agent on a break that routes no calls to them; returns that break status."""
        ...

    def set_status(self, user_id: str, status: PhoneStatus, *, expected: PhoneStatus | None = None) -> None:
        """Set `status` back. With `expected`, raise StatusChanged if the status moved since it was read."""
        ...
