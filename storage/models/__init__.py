"""Every table. Importing this package registers them all on SQLModel.metadata."""

from storage.models.calls import Call, InboundEvent
from storage.models.checkins import AgentPrefs, Checkin
from storage.models.outbox import OutboxMessage, OutboxStatus
from storage.models.recovery import Break, BreakState, TalkRequest
from storage.models.roster import Agent, ChatAddress, Team
from storage.models.sandbox import SandboxMessage

__all__ = [
    "Agent",
    "AgentPrefs",
    "Break",
    "BreakState",
    "Call",
    "ChatAddress",
    "Checkin",
    "InboundEvent",
    "OutboxMessage",
    "OutboxStatus",
    "SandboxMessage",
    "TalkRequest",
    "Team",
]
